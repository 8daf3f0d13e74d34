# METADATA
# title: Only interruptible workloads require Spot capacity
# description: |
#   A pod that requires Spot capacity (nodeSelector, or every required node-affinity term,
#   on a spotNodeSelectorKeys key: karpenter.sh/capacity-type: spot, or the EKS managed
#   node group label eks.amazonaws.com/capacityType: SPOT) loses its node whenever AWS
#   reclaims it, after a two-minute notice. The rule warns when that hits work that
#   cannot take it: a StatefulSet (e.g. a vector database such as qdrant) or its Pods; a
#   Deployment or ReplicaSet with one replica, or a bare Pod; a training run (workload
#   role label training, PyTorchJob, MPIJob) that does not declare checkpointing with the
#   annotation kgate.dev/checkpointing: "true" on the object or its pod template; and a
#   Spot-only pod whose terminationGracePeriodSeconds exceeds maxSpotGraceSeconds, a grace
#   period the interruption cannot honour. Warn only: whether a workload tolerates
#   interruption is the owner's call. Pods without a Spot selector are not in scope even
#   if a mixed NodePool may place them on Spot (enforce that per NodePool, COMPUTE-005);
#   graceful draining on interruption also needs Karpenter's SQS interruption queue,
#   which is Helm configuration outside admission.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-006
# custom:
#   id: COMPUTE-006
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   why: |
#     Spot costs up to 90% less than On-Demand because AWS may take it back with two
#     minutes' notice. Batch jobs, stateless replicas, CI and checkpointed training shrug
#     that off; a single-replica service goes down, a vector database rebuilds or loses
#     its state, and an un-checkpointed fine-tuning run loses hours of GPU time, which
#     costs more than the Spot discount saved.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: StatefulSet
#       metadata: {name: qdrant, namespace: genai}
#       spec:
#         serviceName: qdrant
#         replicas: 1
#         selector: {matchLabels: {app.kubernetes.io/name: qdrant}}
#         template:
#           metadata: {labels: {app.kubernetes.io/name: qdrant}}
#           spec:
#             terminationGracePeriodSeconds: 300
#             nodeSelector: {karpenter.sh/capacity-type: spot}
#             containers:
#             - name: qdrant
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/qdrant:v1.12.1
#               resources: {requests: {cpu: "2", memory: 8Gi}, limits: {memory: 8Gi}}
#     good: |
#       apiVersion: batch/v1
#       kind: Job
#       metadata:
#         name: llama3-finetune
#         namespace: genai
#         labels: {kgate.dev/role: training}
#         annotations: {kgate.dev/checkpointing: "true"}
#       spec:
#         template:
#           metadata:
#             annotations: {karpenter.sh/do-not-disrupt: "true"}
#           spec:
#             restartPolicy: OnFailure
#             terminationGracePeriodSeconds: 90
#             nodeSelector: {karpenter.sh/capacity-type: spot}
#             containers:
#             - name: train
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/finetune:2.1.0
#               resources:
#                 requests: {cpu: "16", memory: 120Gi, nvidia.com/gpu: 4}
#                 limits: {memory: 120Gi, nvidia.com/gpu: 4}
#   params:
#     spotNodeSelectorKeys: [karpenter.sh/capacity-type, eks.amazonaws.com/capacityType]
#     maxSpotGraceSeconds: 120
#   schema:
#     spotNodeSelectorKeys: {type: array, items: {type: string}, description: "node label keys whose value spot (any case) selects Spot capacity"}
#     maxSpotGraceSeconds: {type: integer, minimum: 0, description: "longest terminationGracePeriodSeconds a Spot-only pod may ask for (Spot gives a two-minute notice)"}
package kgate.rules.compute.spot_only_for_interruptible_workloads

import data.kgate.lib
import data.kgate.lib.pods

checkpointing_annotation := "kgate.dev/checkpointing"

# spot_paths maps the path of every pod template that requires Spot capacity to the
# JSON pointer of what requires it.
spot_paths[tp] := concat("", [tp, "/nodeSelector/", lib.escape(k)]) if {
	pods.workload
	some tp, t in lib.pod_templates
	some k in lib.params.spotNodeSelectorKeys
	lower(t.spec.nodeSelector[k]) == "spot"
}

spot_paths[tp] := concat("", [tp, "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"]) if {
	pods.workload
	some tp, t in lib.pod_templates
	not spot_selector(tp)
	terms := t.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
	count(terms) > 0
	every term in terms {
		spot_term(term)
	}
}

spot_selector(tp) if {
	some k in lib.params.spotNodeSelectorKeys
	lower(lib.pod_templates[tp].spec.nodeSelector[k]) == "spot"
}

# A node selector term requires Spot when one of its expressions does (expressions of a
# term are ANDed; terms are ORed).
spot_term(term) if {
	some e in term.matchExpressions
	e.key in lib.params.spotNodeSelectorKeys
	spot_expression(e)
}

spot_expression(e) if {
	e.operator == "In"
	count(e.values) > 0
	every v in e.values {
		lower(v) == "spot"
	}
}

spot_expression(e) if {
	e.operator == "NotIn"
	excluded := {normalise(v) | some v in e.values}
	count(non_spot(e.key) - excluded) == 0
}

normalise(v) := lower(replace(v, "_", "-"))

# The capacity types other than Spot that each key can select.
non_spot("karpenter.sh/capacity-type") := {"on-demand", "reserved"}

non_spot(k) := {"on-demand"} if k != "karpenter.sh/capacity-type"

applies if count(spot_paths) > 0

role := lib.params.workloadRoleLabel

# --- what cannot take a Spot interruption ---

# Findings name the template of objects with several (e.g. a RayCluster's workers).
what(tp) := pods.template_ref(tp)

stateful if lib.kind == "StatefulSet"

stateful if {
	lib.kind == "Pod"
	some ref in lib.get(lib.obj.metadata, "ownerReferences", [])
	ref.controller == true
	ref.kind == "StatefulSet"
}

violation contains v if {
	stateful
	some tp, path in spot_paths
	v := {
		"msg": sprintf("%s requires Spot capacity, but a StatefulSet's pods keep state and identity: a Spot interruption takes a replica and its attached volumes offline", [what(tp)]),
		"path": path,
		"fix": "run stateful workloads (vector databases, caches with state) on on-demand capacity: drop the Spot selector or select karpenter.sh/capacity-type: on-demand",
		"action": "warn",
	}
}

# single: one pod that nothing replaces quickly.
single(tp) if {
	lib.kind in {"Deployment", "ReplicaSet"}
	lib.pod_templates[tp].replicas == 1
}

single(_) if {
	lib.kind == "Pod"
	not lib.owned_by_controller
}

violation contains v if {
	some tp, path in spot_paths
	single(tp)
	v := {
		"msg": sprintf("%s runs a single pod and requires Spot capacity: every Spot interruption is an outage until a new node is up", [what(tp)]),
		"path": path,
		"fix": "run at least 2 replicas (with a PodDisruptionBudget) or allow on-demand capacity (drop the Spot selector)",
		"action": "warn",
	}
}

training(_) if lib.labels[role] == "training"

training(_) if lib.kind in {"PyTorchJob", "MPIJob"}

training(tp) if lib.pod_templates[tp].meta.labels[role] == "training"

checkpointing(_) if lib.annotations[checkpointing_annotation] == "true"

checkpointing(tp) if lib.pod_templates[tp].meta.annotations[checkpointing_annotation] == "true"

violation contains v if {
	some tp, path in spot_paths
	training(tp)
	not checkpointing(tp)
	v := {
		"msg": sprintf("%s is a training run that requires Spot capacity without declaring checkpointing: an interruption loses all progress since the start", [what(tp)]),
		"path": path,
		"fix": sprintf("checkpoint to shared storage (e.g. S3 or FSx) and resume on restart, then annotate the workload %s: \"true\"; or allow on-demand capacity. karpenter.sh/do-not-disrupt: \"true\" on the pods blocks consolidation and drift, not Spot interruptions", [checkpointing_annotation]),
		"action": "warn",
	}
}

violation contains v if {
	some tp, _ in spot_paths
	grace := lib.pod_templates[tp].spec.terminationGracePeriodSeconds
	is_number(grace)
	grace > lib.params.maxSpotGraceSeconds
	v := {
		"msg": sprintf("%s requires Spot capacity but asks for a %d s termination grace period: Spot reclaims the instance about 120 s after its interruption notice", [what(tp), grace]),
		"path": concat("", [tp, "/terminationGracePeriodSeconds"]),
		"fix": sprintf("set terminationGracePeriodSeconds to at most %d and make shutdown (and checkpointing) finish within it, or allow on-demand capacity", [lib.params.maxSpotGraceSeconds]),
		"action": "warn",
	}
}
