# METADATA
# title: Multi-node training jobs stay in one Availability Zone
# description: |
#   Warns when the pods of a multi-node job may spread over several Availability Zones.
#   In scope are pod templates that request EFA (vpc.amazonaws.com/efa), templates of
#   training workloads (workloadRoleLabel: training on the object or template, or a
#   Kubeflow PyTorchJob/MPIJob) that run more than one pod at once (an MPIJob launcher
#   without accelerators excepted), and Pods that request EFA or carry the training role
#   and a job label (jobNameLabelKeys). DaemonSets are not evaluated. A template passes
#   when it pins one zone: a nodeSelector on topology.kubernetes.io/zone or
#   topology.k8s.aws/zone-id, a nodeSelector (or required nodeAffinity) on
#   karpenter.sh/nodepool naming a single-zone NodePool (a NodePool the inventory does
#   not hold is trusted; TOPO-002 judges it), required nodeAffinity terms that all pin
#   the same zone, or a required podAffinity on a zone (or finer) topologyKey that
#   selects the job's own pods. Gang schedulers' placement is accepted as well: Kueue's
#   kueue.x-k8s.io/podset-required-topology, the LeaderWorkerSet exclusive-topology
#   annotation and a Volcano Job networkTopology in hard mode. With mutateAffinity, a
#   Pod created without spec.affinity that carries a job label gets a required
#   podAffinity on topology.kubernetes.io/zone selecting its own job's pods (the first
#   pod matches itself, so it anchors the zone).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#topo-004
# custom:
#   id: TOPO-004
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   referential: true
#   inventory: [NodePool]
#   why: |
#     Distributed training exchanges gradients between every pair of nodes on every
#     step. Across Availability Zones that traffic is billed (about $0.01/GB in each
#     direction, which adds up to thousands of dollars for a multi-day run on terabit
#     instances), has higher latency, and loses EFA's RDMA, which only reaches interfaces
#     in the same zone. Pinning the job's pods to one zone, ideally through a single-AZ
#     training NodePool, keeps the traffic free and fast.
#   examples:
#     bad: |
#       apiVersion: batch/v1
#       kind: Job
#       metadata: {name: llama3-finetune, namespace: training, labels: {kgate.dev/role: training}}
#       spec:
#         parallelism: 4
#         completions: 4
#         completionMode: Indexed
#         template:
#           spec:
#             restartPolicy: Never
#             containers:
#             - name: worker
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/finetune:2.1.0
#               resources: {requests: {cpu: "90", memory: 600Gi, nvidia.com/gpu: 8}, limits: {memory: 600Gi, nvidia.com/gpu: 8}}
#     good: |
#       apiVersion: batch/v1
#       kind: Job
#       metadata: {name: llama3-finetune, namespace: training, labels: {kgate.dev/role: training}}
#       spec:
#         parallelism: 4
#         completions: 4
#         completionMode: Indexed
#         template:
#           spec:
#             restartPolicy: Never
#             nodeSelector: {karpenter.sh/nodepool: training-p5}
#             tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
#             containers:
#             - name: worker
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/finetune:2.1.0
#               resources: {requests: {cpu: "90", memory: 600Gi, nvidia.com/gpu: 8}, limits: {memory: 600Gi, nvidia.com/gpu: 8}}
#   params:
#     jobNameLabelKeys: [batch.kubernetes.io/job-name, training.kubeflow.org/job-name, volcano.sh/job-name, jobset.sigs.k8s.io/jobset-name]
#     mutateAffinity: false
#   schema:
#     jobNameLabelKeys: {type: array, items: {type: string}, description: "pod labels whose value names the job a pod belongs to, in order of preference (for the podAffinity selector)"}
#     mutateAffinity: {type: boolean, description: "add a required zone podAffinity on the job's label to Pods created without affinity"}
package kgate.rules.topology.distributed_job_single_az

import data.kgate.lib
import data.kgate.lib.karpenter
import data.kgate.lib.pods

role_label := lib.params.workloadRoleLabel

nodepool_key := "karpenter.sh/nodepool"

# Node labels whose value is one zone.
zone_keys := {karpenter.zone_key, karpenter.zone_id_key, "topology.ebs.csi.aws.com/zone"}

# Topology keys whose domains lie inside one zone (a zone, a node, an EC2 network
# node layer).
single_domain(key) if key in zone_keys

single_domain("kubernetes.io/hostname")

single_domain(key) if startswith(key, "topology.k8s.aws/network-node-layer-")

# --- scope ---

training_role(tp) if lib.labels[role_label] == "training"

training_role(tp) if lib.pod_templates[tp].meta.labels[role_label] == "training"

training_role(_) if lib.kind in {"PyTorchJob", "MPIJob"}

# pods_at_once is how many pods the object runs at the same time over all its
# templates; a placeholder replica count ("$NUM_NODES") counts as several.
pods_at_once := sum([r | some t in lib.pod_templates; r := t.replicas; is_number(r)])

multi_pod if pods_at_once > 1

multi_pod if {
	some t in lib.pod_templates
	t.replicas != null
	not is_number(t.replicas)
}

# job_label_key is the first key of jobNameLabelKeys the Pod carries.
job_label_keys := [k | some k in lib.params.jobNameLabelKeys; is_string(lib.labels[k])]

job_label_key := job_label_keys[0]

# scope holds the paths of the pod templates of multi-node training jobs.
scope contains tp if {
	pods.workload
	lib.kind != "Pod"
	some tp in pods.efa_templates
}

scope contains tp if {
	pods.workload
	lib.kind != "Pod"
	some tp, _ in lib.pod_templates
	training_role(tp)
	multi_pod
	not coordinator(tp)
}

# coordinator: an MPIJob launcher without accelerators only starts the workers (mpirun
# over ssh); it takes no part in the collective traffic.
coordinator(tp) if {
	lib.kind == "MPIJob"
	lib.pod_templates[tp].group == "Launcher"
	not pods.accelerator_templates[tp]
	not pods.efa_templates[tp]
}

scope contains "/spec" if {
	lib.kind == "Pod"
	pods.workload
	pod_in_scope
}

pod_in_scope if pods.efa_templates["/spec"]

pod_in_scope if {
	lib.labels[role_label] == "training"
	job_label_key
}

applies if count(scope) > 0

# --- what pins a template to one zone ---

spec(tp) := lib.pod_templates[tp].spec

node_selector(tp) := lib.get(spec(tp), "nodeSelector", {})

affinity(tp) := lib.get(spec(tp), "affinity", {})

constrained(tp) if {
	some k in zone_keys
	is_string(node_selector(tp)[k])
}

constrained(tp) if {
	pool := node_selector(tp)[nodepool_key]
	not multi_zone_pool(pool)
}

# Required nodeSelectorTerms are ORed: every term must pin the same zone.
constrained(tp) if {
	terms := node_terms(tp)
	count(terms) > 0
	pin_sets := {term_zones(term) | some term in terms}
	count(pin_sets) == 1
	every pins in pin_sets {
		count(pins) > 0
	}
}

constrained(tp) if {
	terms := node_terms(tp)
	count(terms) > 0
	every term in terms {
		count(term_pools(term)) > 0
	}
	[pool] := [p | some p in union({term_pools(term) | some term in terms})]
	not multi_zone_pool(pool)
}

constrained(tp) if {
	some term in pod_affinity_terms(tp)
	single_domain(term.topologyKey)
	selects_own_pods(tp, term)
}

# Kueue Topology-Aware Scheduling: the pod set must fit in one domain of that level.
constrained(tp) if {
	level := lib.pod_templates[tp].meta.annotations["kueue.x-k8s.io/podset-required-topology"]
	single_domain(level)
}

# LeaderWorkerSet (and its Pods, which carry the annotation): each group gets one
# domain of the exclusive topology (the LWS webhook injects the pod affinity).
constrained(_) if single_domain(lib.annotations["leaderworkerset.sigs.k8s.io/exclusive-topology"])

# Volcano network-topology-aware scheduling: hard mode keeps the job inside one
# HyperNode (a switch domain within a zone).
constrained(_) if {
	lib.volcano_job
	lib.obj.spec.networkTopology.mode == "hard"
}

node_terms(tp) := lib.get(
	lib.get(lib.get(affinity(tp), "nodeAffinity", {}), "requiredDuringSchedulingIgnoredDuringExecution", {}),
	"nodeSelectorTerms",
	[],
)

pod_affinity_terms(tp) := lib.get(lib.get(affinity(tp), "podAffinity", {}), "requiredDuringSchedulingIgnoredDuringExecution", [])

# term_zones are the single zones a nodeSelectorTerm pins ("key=value").
term_zones(term) := {concat("=", [e.key, e.values[0]]) |
	some e in lib.get(term, "matchExpressions", [])
	e.key in zone_keys
	e.operator == "In"
	count(e.values) == 1
}

term_pools(term) := {e.values[0] |
	some e in lib.get(term, "matchExpressions", [])
	e.key == nodepool_key
	e.operator == "In"
	count(e.values) == 1
}

# own_labels are the labels the pods of template tp carry: the template's labels, plus
# the job labels their controller adds (with the object's name as value).
own_labels(tp) := object.union({k: pods.object_name | some k in lib.params.jobNameLabelKeys}, lib.get(lib.pod_templates[tp].meta, "labels", {})) if {
	lib.kind != "Pod"
} else := lib.labels

selects_own_pods(tp, term) if {
	sel := term.labelSelector
	karpenter.selector_matches(sel, own_labels(tp))
}

# matchLabelKeys adds the pod's own value of each key to the selector.
selects_own_pods(_, term) if {
	is_object(term.labelSelector)
	some k in lib.get(term, "matchLabelKeys", [])
	k in lib.params.jobNameLabelKeys
}

# --- NodePools from the inventory ---

nodepools := object.get(data.inventory, ["cluster", "NodePool"], {})

# multi_zone_pool is true for a NodePool of the inventory that does not pin one zone.
# A NodePool the inventory does not hold is trusted (TOPO-002 judges it).
multi_zone_pool(name) if {
	nodepools[name]
	not single_zone_pool(name)
}

single_zone_pool(name) if {
	some r in pool_requirements(name)
	r.key in karpenter.zone_keys
	r.operator == "In"
	count({v | some v in r.values}) == 1
}

single_zone_pool(name) if {
	labels := lib.get(lib.get(pool_template(name), "metadata", {}), "labels", {})
	some k in karpenter.zone_keys
	labels[k]
}

pool_template(name) := lib.get(lib.get(nodepools[name], "spec", {}), "template", {})

pool_requirements(name) := lib.get(lib.get(pool_template(name), "spec", {}), "requirements", [])

# --- findings ---

violation contains v if {
	some tp in scope
	not constrained(tp)
	v := {
		"msg": sprintf("%s not pinned to one Availability Zone (%s), so the job may spread over several zones", [subject(tp), reason(tp)]),
		"path": finding_path(tp),
		"fix": fix,
		"action": action,
	}
}

subject(tp) := sprintf("%s, one pod of a multi-node job, is", [pods.template_ref(tp)]) if {
	lib.kind == "Pod"
} else := sprintf("the pods of %s (a multi-node job) are", [pods.template_ref(tp)])

reason(tp) := sprintf("their NodePool %q allows several zones", [pool]) if {
	pool := node_selector(tp)[nodepool_key]
	multi_zone_pool(pool)
} else := "no zone nodeSelector, single-zone NodePool selector or zone podAffinity"

finding_path(tp) := concat("", [tp, "/nodeSelector"]) if {
	"nodeSelector" in object.keys(spec(tp))
} else := tp

fix := sprintf("pin the pods to one zone: nodeSelector karpenter.sh/nodepool of a single-AZ training NodePool (TOPO-002), or nodeSelector %s: <zone>, or a required podAffinity with topologyKey %s selecting the job's pods (e.g. by %s)", [karpenter.zone_key, karpenter.zone_key, lib.params.jobNameLabelKeys[0]])

# --- optional mutation (Pod CREATE) ---

mutating if {
	lib.params.mutateAffinity
	lib.kind == "Pod"
	lib.creating
	job_label_key
	lib.get(lib.obj.spec, "affinity", null) == null
}

action := "mutate" if mutating

else := "warn"

patch contains op if {
	mutating
	some tp in scope
	not constrained(tp)
	op := {"op": "add", "path": "/spec/affinity", "value": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
		"labelSelector": {"matchLabels": {job_label_key: lib.labels[job_label_key]}},
		"topologyKey": karpenter.zone_key,
	}]}}}
}
