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
#   params:
#     trainingRoleLabel: kgate.dev/role
package kgate.rules.efa.efa_for_multinode_gpu

import data.kgate.lib
import data.kgate.lib.pods

# candidate is a training template whose pods use accelerators.
candidate(t) if {
	pods.training_template(t)
	pods.has_accelerator(t)
}

# full_node is true when a pod asks for at least gpuThreshold accelerators.
full_node(t) if pods.accelerators(t) >= lib.params.gpuThreshold

# Placeholder counts ("$GPU_PER_NODE", "$NUM_NODES") leave the scope open: such
# templates are in scope, but only known counts can violate.
maybe_full_node(t) if full_node(t)

maybe_full_node(t) if not pods.accelerators(t)

applies if {
	pods.workload
	some t in lib.pod_templates
	candidate(t)
	maybe_full_node(t)
	multi_or_unknown
}

multi_or_unknown if pods.multi_replica

multi_or_unknown if pods.replicas_unknown

violation contains v if {
	applies
	pods.multi_replica
	some t in lib.pod_templates
	candidate(t)
	full_node(t)
	not pods.has_efa(t)
	not pods.dra_claims(t)
	c := main_container(t)
	v := {
		"msg": sprintf("%s runs multi-node training with %d accelerators per pod but requests no %s", [pods.template_ref(t), pods.accelerators(t), pods.efa]),
		"path": concat("", [c.path, "/resources"]),
		"fix": sprintf("add %s: %s to resources.limits and resources.requests of container %q (or claim EFA devices through a DRA resourceClaim of DeviceClass efa.networking.k8s.aws)", [pods.efa, efa_count(t), c.container.name]),
		"action": pods.enforce("deny"),
	}
}

# main_container is the container with the most accelerators (the first on a tie).
main_container(t) := c if {
	cs := {c | some c in pods.template_containers(t); not c.init}
	top := max({accelerators_of(c) | some c in cs})
	first := min({c.path | some c in cs; accelerators_of(c) == top})
	some c in cs
	c.path == first
}

accelerators_of(c) := pods.container_total(c.container, pods.accelerator_names)

# efa_count suggests the EFA count of the pinned instance type.
efa_count(t) := format_int(n, 10) if {
	n := lib.params.efaCountByInstanceType[pods.instance_type(t)]
} else := "<EFA interfaces of the instance type, e.g. 32 on p5.48xlarge>"
