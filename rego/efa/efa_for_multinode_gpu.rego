# METADATA
# title: Multi-node accelerator training requests EFA
# description: |
#   Distributed training across nodes moves gradients over the network every step. EFA
#   gives NCCL and libfabric OS-bypass RDMA; without it the collectives fall back to TCP
#   and the p5/trn instances you pay for sit waiting on the network. Karpenter attaches
#   EFA interfaces to an instance only when the pod requests vpc.amazonaws.com/efa, so a
#   missing request means paying for an EFA-capable instance and training over TCP. The
#   rule selects training workloads (trainingRoleLabel: training, a batch Job with
#   parallelism > 1, Kubeflow PyTorchJob/MPIJob, Volcano Job, KubeRay RayCluster, Pods
#   created by a training operator) whose accelerator pods run as more than one replica
#   and ask for at least gpuThreshold accelerators each (a full node), and rejects those
#   without an EFA request. Pods using Dynamic Resource Allocation claims (EFA DRA driver)
#   are accepted. Single-node jobs and inference are out of scope.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#efa-001
# custom:
#   id: EFA-001
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   why: |
#     Multi-node training synchronises gradients over the network on every step. Elastic
#     Fabric Adapter (EFA) gives the collective libraries (NCCL, libfabric) RDMA that bypasses
#     the operating system; without it they fall back to TCP and GPUs that cost tens of dollars
#     an hour wait on the network. Karpenter attaches EFA interfaces only to pods that request
#     vpc.amazonaws.com/efa, so forgetting the request means paying for EFA-capable instances
#     and not using EFA.
#   examples:
#     bad: |
#       apiVersion: kubeflow.org/v1
#       kind: PyTorchJob
#       metadata: {name: llm-pretrain, namespace: training}
#       spec:
#         pytorchReplicaSpecs:
#           Worker:
#             replicas: 4
#             template:
#               spec:
#                 containers:
#                 - name: pytorch
#                   image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1.0
#                   resources:
#                     limits: {nvidia.com/gpu: 8}
#     good: |
#       apiVersion: kubeflow.org/v1
#       kind: PyTorchJob
#       metadata: {name: llm-pretrain, namespace: training}
#       spec:
#         pytorchReplicaSpecs:
#           Worker:
#             replicas: 4
#             template:
#               spec:
#                 containers:
#                 - name: pytorch
#                   image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1.0
#                   resources:
#                     limits: {nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, hugepages-2Mi: 5120Mi, memory: 64Gi}
#                     requests: {vpc.amazonaws.com/efa: 32, hugepages-2Mi: 5120Mi, memory: 64Gi, cpu: "32"}
#   params:
#     trainingRoleLabel: kgate.dev/role
#   schema:
#     trainingRoleLabel: {type: string, description: "label whose value training marks a training workload"}
package kgate.rules.efa.efa_for_multinode_gpu

import data.kgate.lib
import data.kgate.lib.pods

# candidates are the training templates whose pods use accelerators (template paths).
# Most objects have no container that names an extended resource: that check is
# shared with COMPUTE-002 and EFA-002, so it goes first.
candidates contains tp if {
	count(pods.extended) > 0
	some tp in pods.training_templates
	pods.accelerator_templates[tp]
}

# A pod is a full node when it asks for at least gpuThreshold accelerators.
# Placeholder counts ("$GPU_PER_NODE", "$NUM_NODES") leave the scope open: such
# templates (without template_accelerators) are in scope, but only known counts can
# violate.
applies if {
	pods.workload
	some tp in candidates
	object.get(pods.template_accelerators, tp, lib.params.gpuThreshold) >= lib.params.gpuThreshold
	multi_or_unknown
}

multi_or_unknown if pods.multi_replica

multi_or_unknown if pods.replicas_unknown

violation contains v if {
	applies
	pods.multi_replica
	some tp in candidates
	pods.template_accelerators[tp] >= lib.params.gpuThreshold
	not pods.efa_templates[tp]
	not pods.dra_claims(tp)
	p := main_container(tp)
	v := {
		"msg": sprintf("%s runs multi-node training with %d accelerators per pod but requests no %s", [pods.template_ref(tp), pods.template_accelerators[tp], pods.efa]),
		"path": concat("", [p, "/resources"]),
		"fix": sprintf("add %s: %s to resources.limits and resources.requests of container %q (or claim EFA devices through a DRA resourceClaim of DeviceClass efa.networking.k8s.aws)", [pods.efa, efa_count(tp), lib.containers[p].container.name]),
		"action": pods.enforce("deny"),
	}
}

# main_container is the path of the container with the most accelerators (the first
# on a tie) of template tp.
main_container(tp) := first if {
	ps := [p | some p in pods.template_containers[tp]; not lib.containers[p].init]
	top := max({object.get(pods.accelerator_counts, p, 0) | some p in ps})
	first := min({p | some p in ps; object.get(pods.accelerator_counts, p, 0) == top})
}

# efa_count suggests the EFA count of the pinned instance type.
efa_count(tp) := format_int(n, 10) if {
	n := lib.params.efaCountByInstanceType[pods.instance_type(tp)]
} else := "<EFA interfaces of the instance type, e.g. 32 on p5.48xlarge>"
