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
#   why: |
#     GPUs and other accelerators are the most expensive capacity of a GenAI cluster. A
#     request that differs from its limit or a fractional count is rejected only when a
#     controller creates the pods, as FailedCreate events long after the Deployment or Job
#     was accepted; more devices than any allowed instance offers leave pods Pending forever
#     while Karpenter looks for an instance that does not exist. Rejecting the template at
#     admission turns both into immediate feedback instead of stalled rollouts and jobs.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: embedder, namespace: genai}
#       spec:
#         containers:
#         - name: embedder
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/embedder:1.2.0
#           resources:
#             requests: {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}
#             limits: {memory: 16Gi, nvidia.com/gpu: 2}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: embedder, namespace: genai}
#       spec:
#         containers:
#         - name: embedder
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/embedder:1.2.0
#           resources:
#             requests: {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}
#             limits: {memory: 16Gi, nvidia.com/gpu: 1}
#   params:
#     maxPerPod:
#       nvidia.com/gpu: 8
#       aws.amazon.com/neuron: 16
#   schema:
#     maxPerPod: {type: object, additionalProperties: {type: integer}, description: "largest count of each accelerator resource one pod may request"}
package kgate.rules.compute.accelerator_requests_well_formed

import data.kgate.lib
import data.kgate.lib.pods

# The rule checks the accelerator resources plus EFA (whose own rules are EFA-002):
# pods.extended maps each container that names one of them to those resources.
applies if {
	pods.workload
	count(pods.extended) > 0
}

violation contains v if {
	applies
	some p, ext in pods.extended
	c := lib.containers[p]
	some r, _ in ext
	not r in object.keys(c.limits)
	r in object.keys(c.requests)
	v := container_violation(p, r, "requests", "is requested but has no limit", sprintf("set resources.limits[%q] to the requested count (requests may then be omitted)", [r]))
}

violation contains v if {
	applies
	some p, ext in pods.extended
	c := lib.containers[p]
	some r, _ in ext
	c.requests[r] != c.limits[r]
	lib.quantity_int(c.requests[r]) != lib.quantity_int(c.limits[r])
	v := container_violation(
		p, r, "requests",
		sprintf("request %v differs from limit %v", [c.requests[r], c.limits[r]]),
		sprintf("set resources.requests[%q] equal to the limit: extended resources cannot be overcommitted", [r]),
	)
}

violation contains v if {
	applies
	some p, ext in pods.extended
	c := lib.containers[p]
	some r, _ in ext
	some list in ["limits", "requests"]
	q := c[list][r]
	not lib.quantity_int(q)
	not repeats_limit(p, list, r, q)
	v := container_violation(
		p, r, list,
		sprintf("count %v in %s is not an integer", [q, list]),
		sprintf("set resources.%s[%q] to a whole number of devices (render templates and placeholders before applying)", [list, r]),
	)
}

# A request that repeats a malformed limit is reported once, on the limit.
repeats_limit(p, "requests", r, q) if lib.containers[p].limits[r] == q

container_violation(p, r, list, msg, fix) := {
	"msg": sprintf("%s: %s %s", [pods.container_ref(p), r, msg]),
	"path": concat("", [p, "/resources/", list, "/", lib.escape(r)]),
	"fix": fix,
	"action": pods.enforce("deny"),
}

# Per pod, for the accelerator and EFA resources: the templates whose containers name
# one (a template that names none asks for 0).
violation contains v if {
	applies
	some p, ext in pods.extended
	some r, _ in ext
	max_count := lib.params.maxPerPod[r]
	pods.upper_bound(r) > max_count
	v := pod_violation(lib.containers[p].template, r, max_count)
}

# Per pod, for the other resources of maxPerPod: every template.
violation contains v if {
	applies
	some r, max_count in lib.params.maxPerPod
	not r in pods.extended_names
	some tp, _ in lib.pod_templates
	v := pod_violation(tp, r, max_count)
}

# A limit below 0 (or null) also catches the templates that ask for none.
violation contains v if {
	applies
	some r, max_count in lib.params.maxPerPod
	0 > max_count
	some tp, _ in lib.pod_templates
	v := pod_violation(tp, r, max_count)
}

pod_violation(tp, r, max_count) := {
	"msg": sprintf("a pod of %s asks for %d %s; no allowed instance offers more than %d", [pods.template_ref(tp), n, r, max_count]),
	"path": pods.resource_path(tp, r),
	"fix": sprintf("request at most %d %s per pod and scale out with more pods (or raise maxPerPod if a larger instance is allowed)", [max_count, r]),
	"action": pods.enforce("deny"),
} if {
	n := pods.pod_total(tp, r)
	n > max_count
}
