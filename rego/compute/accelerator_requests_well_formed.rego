# METADATA
# title: Accelerator requests are well formed
# description: |
#   Accelerators (nvidia.com/gpu, aws.amazon.com/neuron, ...) and EFA interfaces are
#   extended resources: they cannot be overcommitted, so a request must equal its limit,
#   the count must be an integer, and a request needs a limit. The API server rejects
#   such Pods only when a controller creates them, which surfaces as FailedCreate events
#   long after the Deployment or Job was accepted; a count larger than the biggest
#   instance offers (maxPerPod) leaves the pod Pending forever while Karpenter searches
#   for an instance that does not exist. Both waste the most expensive capacity of the
#   cluster, so malformed templates are rejected at admission. Limits alone are fine: the
#   API server copies them to requests.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-002
# custom:
#   id: COMPUTE-002
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   params:
#     maxPerPod:
#       nvidia.com/gpu: 8
#       aws.amazon.com/neuron: 16
package kgate.rules.compute.accelerator_requests_well_formed

import data.kgate.lib
import data.kgate.lib.pods

# checked are the accelerator resources plus EFA (whose own rules are EFA-002).
checked := pods.accelerator_names | {pods.efa}

applies if {
	pods.workload
	some t in lib.pod_templates
	pods.uses(t, checked)
}

violation contains v if {
	applies
	some p in container_problems
	v := {
		"msg": sprintf("%s: %s %s", [pods.container_ref(p.c), p.r, p.msg]),
		"path": concat("", [p.c.path, "/resources/", p.list, "/", lib.escape(p.r)]),
		"fix": p.fix,
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some t in lib.pod_templates
	some r, max_count in lib.params.maxPerPod
	n := pods.pod_total(t, {r})
	n > max_count
	v := {
		"msg": sprintf("a pod of %s asks for %d %s; no allowed instance offers more than %d", [pods.template_ref(t), n, r, max_count]),
		"path": pods.resource_path(t, r),
		"fix": sprintf("request at most %d %s per pod and scale out with more pods (or raise maxPerPod if a larger instance is allowed)", [max_count, r]),
		"action": pods.enforce("deny"),
	}
}

requests(ctr) := lib.resources(ctr, "requests")

limits(ctr) := lib.resources(ctr, "limits")

# container_problems are the per-container shape errors: {c, r, list, msg, fix}.
container_problems contains {
	"c": c, "r": r, "list": "requests",
	"msg": "is requested but has no limit",
	"fix": sprintf("set resources.limits[%q] to the requested count (requests may then be omitted)", [r]),
} if {
	some c in lib.containers
	some r in object.keys(requests(c.container))
	r in checked
	not r in object.keys(limits(c.container))
}

container_problems contains {
	"c": c, "r": r, "list": "requests",
	"msg": sprintf("request %v differs from limit %v", [requests(c.container)[r], limits(c.container)[r]]),
	"fix": sprintf("set resources.requests[%q] equal to the limit: extended resources cannot be overcommitted", [r]),
} if {
	some c in lib.containers
	some r in checked
	lib.quantity_int(requests(c.container)[r]) != lib.quantity_int(limits(c.container)[r])
}

container_problems contains {
	"c": c, "r": r, "list": list,
	"msg": sprintf("count %v in %s is not an integer", [q, list]),
	"fix": sprintf("set resources.%s[%q] to a whole number of devices (render templates and placeholders before applying)", [list, r]),
} if {
	some c in lib.containers
	some r in checked
	some list in ["limits", "requests"]
	q := lib.resources(c.container, list)[r]
	not lib.quantity_int(q)
	not repeats_limit(c.container, list, r, q)
}

# A request that repeats a malformed limit is reported once, on the limit.
repeats_limit(ctr, "requests", r, q) if limits(ctr)[r] == q
