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
package kgate.rules.efa.efa_request_shape

import data.kgate.lib
import data.kgate.lib.pods

efa := pods.efa

applies if {
	pods.workload
	some t in lib.pod_templates
	pods.uses(t, {efa})
}

requests(ctr) := lib.resources(ctr, "requests")

limits(ctr) := lib.resources(ctr, "limits")

efa_path(c, list) := concat("", [c.path, "/resources/", list, "/", lib.escape(efa)])

violation contains v if {
	applies
	some c in lib.containers
	efa in object.keys(requests(c.container))
	not efa in object.keys(limits(c.container))
	v := {
		"msg": sprintf("%s requests %s without a limit", [pods.container_ref(c), efa]),
		"path": efa_path(c, "requests"),
		"fix": sprintf("set resources.limits[%q] to the requested count", [efa]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some c in lib.containers
	req := requests(c.container)[efa]
	lim := limits(c.container)[efa]
	lib.quantity_int(req) != lib.quantity_int(lim)
	v := {
		"msg": sprintf("%s requests %v %s but limits it to %v", [pods.container_ref(c), req, efa, lim]),
		"path": efa_path(c, "requests"),
		"fix": sprintf("set resources.requests[%q] equal to the limit: extended resources cannot be overcommitted", [efa]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some c in lib.containers
	some list in ["limits", "requests"]
	q := lib.resources(c.container, list)[efa]
	not lib.quantity_int(q)
	not repeats_limit(c.container, list, q)
	v := {
		"msg": sprintf("%s asks for %v %s in %s, which is not an integer", [pods.container_ref(c), q, efa, list]),
		"path": efa_path(c, list),
		"fix": sprintf("set resources.%s[%q] to a whole number of interfaces (render templates and placeholders before applying)", [list, efa]),
		"action": pods.enforce("deny"),
	}
}

# A request that repeats a malformed limit is reported once, on the limit.
repeats_limit(ctr, "requests", q) if limits(ctr)[efa] == q

violation contains v if {
	applies
	some t in lib.pod_templates
	instance := pods.instance_type(t)
	offered := lib.params.efaCountByInstanceType[instance]
	n := pods.pod_total(t, {efa})
	n > offered
	v := {
		"msg": sprintf("a pod of %s asks for %d %s but %s offers %d", [pods.template_ref(t), n, efa, instance, offered]),
		"path": pods.resource_path(t, efa),
		"fix": sprintf("request at most %d %s on %s", [offered, efa, instance]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some t in lib.pod_templates
	pods.has_efa(t)
	not pods.has_accelerator(t)
	not pods.has_hugepages(t)
	not pods.dra_claims(t)
	v := {
		"msg": sprintf("a pod of %s asks for %s but for no accelerator and no huge pages", [pods.template_ref(t), efa]),
		"path": pods.resource_path(t, efa),
		"fix": "request EFA only in accelerator pods of a multi-node job (with hugepages-2Mi for libfabric); remove it elsewhere",
		"action": "warn",
	}
}

violation contains v if {
	applies
	some t in lib.pod_templates
	names := [c.container.name | some c in pods.template_containers(t); pods.declared(c.container, efa)]
	count(names) > 1
	v := {
		"msg": sprintf("a pod of %s spreads %s over %d containers (%s)", [pods.template_ref(t), efa, count(names), concat(", ", sort(names))]),
		"path": concat("", [t.path, "/containers"]),
		"fix": "request all EFA interfaces in the one container that runs the NCCL process group",
		"action": "warn",
	}
}
