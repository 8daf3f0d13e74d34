# METADATA
# title: EFA requests are well formed
# description: |
#   vpc.amazonaws.com/efa is an extended resource that Karpenter uses to choose the
#   instance and to attach EFA interfaces. A malformed request wastes expensive capacity:
#   a request without a limit, a request that differs from its limit or a non-integer
#   count is rejected by the API server when the controller creates the Pods, and more
#   interfaces than the pinned instance type offers (efaCountByInstanceType) leaves the
#   pod Pending forever. These shape errors are rejected. Two heuristics only warn: EFA
#   in a pod that asks for no accelerator and no huge pages (it holds a p5's network
#   interfaces without using them), and EFA spread over several containers of one pod
#   (one NCCL process group per pod is the norm).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#efa-002
# custom:
#   id: EFA-002
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   why: |
#     The EFA request is how Karpenter picks an EFA-capable instance and how many interfaces
#     it attaches. A request without a matching limit or with a fractional count is refused by
#     the API server only when the controller creates the pods, and more interfaces than the
#     instance type offers leaves pods Pending on capacity you already pay for. Catching the
#     shape at admission keeps expensive GPU nodes from idling.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: worker-0, namespace: training}
#       spec:
#         containers:
#         - name: worker
#           image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1.0
#           resources:
#             requests: {vpc.amazonaws.com/efa: 4, nvidia.com/gpu: 8, cpu: "32", memory: 64Gi}
#             limits: {nvidia.com/gpu: 8, memory: 64Gi}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: worker-0, namespace: training}
#       spec:
#         containers:
#         - name: worker
#           image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1.0
#           resources:
#             requests: {vpc.amazonaws.com/efa: 4, nvidia.com/gpu: 8, cpu: "32", memory: 64Gi}
#             limits: {vpc.amazonaws.com/efa: 4, nvidia.com/gpu: 8, memory: 64Gi}
package kgate.rules.efa.efa_request_shape

import data.kgate.lib
import data.kgate.lib.pods

efa := pods.efa

# efa_containers holds the paths of the containers that name EFA in their limits or
# requests.
efa_containers contains p if {
	some p, ext in pods.extended
	_ = ext[efa]
}

applies if {
	pods.workload
	count(efa_containers) > 0
}

efa_path(p, list) := concat("", [p, "/resources/", list, "/", lib.escape(efa)])

violation contains v if {
	applies
	some p in efa_containers
	c := lib.containers[p]
	efa in object.keys(c.requests)
	not efa in object.keys(c.limits)
	v := {
		"msg": sprintf("%s requests %s without a limit", [pods.container_ref(p), efa]),
		"path": efa_path(p, "requests"),
		"fix": sprintf("set resources.limits[%q] to the requested count", [efa]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some p in efa_containers
	c := lib.containers[p]
	req := c.requests[efa]
	lim := c.limits[efa]
	req != lim
	lib.quantity_int(req) != lib.quantity_int(lim)
	v := {
		"msg": sprintf("%s requests %v %s but limits it to %v", [pods.container_ref(p), req, efa, lim]),
		"path": efa_path(p, "requests"),
		"fix": sprintf("set resources.requests[%q] equal to the limit: extended resources cannot be overcommitted", [efa]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some p in efa_containers
	c := lib.containers[p]
	some list in ["limits", "requests"]
	q := c[list][efa]
	not lib.quantity_int(q)
	not repeats_limit(p, list, q)
	v := {
		"msg": sprintf("%s asks for %v %s in %s, which is not an integer", [pods.container_ref(p), q, efa, list]),
		"path": efa_path(p, list),
		"fix": sprintf("set resources.%s[%q] to a whole number of interfaces (render templates and placeholders before applying)", [list, efa]),
		"action": pods.enforce("deny"),
	}
}

# A request that repeats a malformed limit is reported once, on the limit.
repeats_limit(p, "requests", q) if lib.containers[p].limits[efa] == q

violation contains v if {
	applies
	some tp, _ in lib.pod_templates
	instance := pods.instance_type(tp)
	offered := lib.params.efaCountByInstanceType[instance]
	pods.upper_bound(efa) > offered
	n := pods.pod_total(tp, efa)
	n > offered
	v := {
		"msg": sprintf("a pod of %s asks for %d %s but %s offers %d", [pods.template_ref(tp), n, efa, instance, offered]),
		"path": pods.resource_path(tp, efa),
		"fix": sprintf("request at most %d %s on %s", [offered, efa, instance]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some tp in pods.efa_templates
	not pods.has_accelerator(tp)
	not pods.has_hugepages(tp)
	not pods.dra_claims(tp)
	v := {
		"msg": sprintf("a pod of %s asks for %s but for no accelerator and no huge pages", [pods.template_ref(tp), efa]),
		"path": pods.resource_path(tp, efa),
		"fix": "request EFA only in accelerator pods of a multi-node job (with hugepages-2Mi for libfabric); remove it elsewhere",
		"action": "warn",
	}
}

violation contains v if {
	applies
	count(efa_containers) > 1
	some tp, _ in lib.pod_templates
	names := [c.container.name | some p in efa_containers; c := lib.containers[p]; c.template == tp]
	count(names) > 1
	v := {
		"msg": sprintf("a pod of %s spreads %s over %d containers (%s)", [pods.template_ref(tp), efa, count(names), concat(", ", sort(names))]),
		"path": concat("", [tp, "/containers"]),
		"fix": "request all EFA interfaces in the one container that runs the NCCL process group",
		"action": "warn",
	}
}
