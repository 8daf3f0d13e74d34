# METADATA
# title: EFA pods request 2 MiB huge pages correctly
# description: |
#   In pods that request EFA (vpc.amazonaws.com/efa), warns when a container that
#   requests EFA asks for no hugepages-2Mi (huge pages are accounted per container;
#   the EKS example gives each EFA container hugepages-2Mi: 5120Mi), and rejects the
#   huge-page shapes the API server refuses or the nodes cannot serve: a hugepages-*
#   request without a limit or different from its limit, a hugepages-* quantity that is
#   not a multiple of its page size, huge pages in a container that names neither cpu
#   nor memory (in requests or limits), and a pod asking for more hugepages-2Mi than an
#   EFA node pre-allocates (maxHugepages2MiPerNode). Rejections become warnings for Pods
#   created by a controller and on updates of Pods and Jobs. With
#   efaHugepagesMutate, a Pod created with an EFA container that lacks huge pages gets
#   defaultHugepages2Mi in its limits and requests (when the container names cpu or
#   memory and the pod stays within maxHugepages2MiPerNode).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#efa-003
# custom:
#   id: EFA-003
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   why: |
#     libfabric, which NCCL uses to drive EFA, registers its communication buffers in
#     2 MiB huge pages; the EFA driver pre-allocates 5,128 of them (10,256 MiB) per node
#     for pods to request. A training container without a hugepages-2Mi request falls
#     back to regular pages and slower transfers on instances that cost tens of dollars
#     an hour, and a malformed huge-page request is rejected by the API server or leaves
#     the pod Pending.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: nccl-worker-1, namespace: training}
#       spec:
#         containers:
#         - name: worker
#           image: public.ecr.aws/hpc-cloud/nccl-tests:latest
#           resources:
#             limits: {nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, memory: 32000Mi}
#             requests: {nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, memory: 32000Mi}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: nccl-worker-1, namespace: training}
#       spec:
#         containers:
#         - name: worker
#           image: public.ecr.aws/hpc-cloud/nccl-tests:latest
#           resources:
#             limits: {nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, hugepages-2Mi: 5120Mi, memory: 32000Mi}
#             requests: {nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, hugepages-2Mi: 5120Mi, memory: 32000Mi}
#   params:
#     defaultHugepages2Mi: 5120Mi
#     maxHugepages2MiPerNode: 10256Mi
#     efaHugepagesMutate: false
#   schema:
#     defaultHugepages2Mi: {type: string, pattern: "^[0-9]+(Ki|Mi|Gi)$", description: "hugepages-2Mi quantity suggested (and added by efaHugepagesMutate) for an EFA container"}
#     maxHugepages2MiPerNode: {type: string, pattern: "^[0-9]+(Ki|Mi|Gi)$", description: "hugepages-2Mi an EFA node offers (5128 pages of 2 MiB pre-allocated by the EFA installer; lower it for nodes configured with fewer, e.g. Bottlerocket vm.nr_hugepages)"}
#     efaHugepagesMutate: {type: boolean, description: "add defaultHugepages2Mi to EFA containers of Pods created without huge pages"}
package kgate.rules.efa.efa_hugepages

import data.kgate.lib
import data.kgate.lib.pods

efa := pods.efa

hp2 := "hugepages-2Mi"

# efa_containers holds the paths of the containers that ask for EFA interfaces (a count
# of 0 is no request, a placeholder is one).
efa_containers contains p if {
	some p, ext in pods.extended
	not pods.zero_count(ext[efa])
}

applies if {
	pods.workload
	count(efa_containers) > 0
}

# checked holds the containers of the pods that ask for EFA.
checked contains p if {
	applies
	some tp in pods.efa_templates
	some p in pods.template_containers[tp]
}

# --- quantities ---

# bytes parses a memory quantity ("5120Mi", "10Gi", 2097152); undefined otherwise.
bytes(q) := q if is_number(q)

bytes(q) := units.parse(q) if {
	is_string(q)
	regex.match(`^[0-9]+(\.[0-9]+)?([KMGTPE]i|[kMGTPE]|m)?$`, q)
}

# page_size is the page size of a hugepages-<size> resource in bytes.
page_size(name) := bytes(trim_prefix(name, "hugepages-"))

max_bytes := bytes(lib.params.maxHugepages2MiPerNode)

# hugepages maps [container, resource] pairs to the quantities a container names for
# its hugepages-* resources, per list.
hugepages[[p, name]] := {"limits": object.get(c.limits, name, null), "requests": object.get(c.requests, name, null)} if {
	some p in checked
	c := lib.containers[p]
	some name, _ in pods.quantities[p]
	startswith(name, "hugepages-")
}

compute_names := {"cpu", "memory"}

# names_compute is true when container p names cpu or memory in its requests or limits.
names_compute(p) if {
	some name, _ in pods.quantities[p]
	name in compute_names
}

quantity_path(p, list, name) := concat("", [p, "/resources/", list, "/", lib.escape(name)])

# --- missing huge pages in EFA containers ---

violation contains v if {
	applies
	some p in missing
	v := {
		"msg": sprintf("%s requests %s but no %s: libfabric falls back to regular pages", [pods.container_ref(p), efa, hp2]),
		"path": concat("", [p, "/resources"]),
		"fix": sprintf("add %s: %s to resources.limits and resources.requests of container %q (huge pages are accounted per container)", [hp2, lib.params.defaultHugepages2Mi, lib.containers[p].name]),
		"action": missing_action,
	}
}

# --- shapes the API server rejects ---

violation contains v if {
	applies
	some [p, name], q in hugepages
	q.limits == null
	v := {
		"msg": sprintf("%s requests %v %s without a limit", [pods.container_ref(p), q.requests, name]),
		"path": quantity_path(p, "requests", name),
		"fix": sprintf("set resources.limits[%q] equal to the request: huge pages cannot be overcommitted", [name]),
		"action": pods.enforce("deny"),
	}
}

violation contains v if {
	applies
	some [p, name], q in hugepages
	q.limits != null
	q.requests != null
	q.limits != q.requests
	not same_quantity(q.limits, q.requests)
	v := {
		"msg": sprintf("%s requests %v %s but limits it to %v", [pods.container_ref(p), q.requests, name, q.limits]),
		"path": quantity_path(p, "requests", name),
		"fix": sprintf("set resources.requests[%q] equal to the limit (or leave it out): huge-page requests must equal limits", [name]),
		"action": pods.enforce("deny"),
	}
}

same_quantity(a, b) if bytes(a) == bytes(b)

violation contains v if {
	applies
	some [p, name], q in hugepages
	some list in ["limits", "requests"]
	value := q[list]
	value != null
	not repeats_limit(q, list)
	not page_multiple(name, value)
	v := {
		"msg": sprintf("%s asks for %v %s in %s, which is not a whole number of %s pages", [pods.container_ref(p), value, name, list, trim_prefix(name, "hugepages-")]),
		"path": quantity_path(p, list, name),
		"fix": sprintf("use a multiple of %s, e.g. %s", [trim_prefix(name, "hugepages-"), lib.params.defaultHugepages2Mi]),
		"action": pods.enforce("deny"),
	}
}

# A request equal to a malformed limit is reported once, on the limit.
repeats_limit(q, "requests") if q.requests == q.limits

page_multiple(name, value) if {
	size := page_size(name)
	size > 0
	n := bytes(value)
	n >= 0
	n % size == 0
}

# hugepage_containers holds the checked containers that name huge pages.
hugepage_containers contains p if some [p, _], _ in hugepages

violation contains v if {
	applies
	some p in hugepage_containers
	not names_compute(p)
	v := {
		"msg": sprintf("%s requests huge pages but neither cpu nor memory", [pods.container_ref(p)]),
		"path": concat("", [p, "/resources"]),
		"fix": "request memory (and cpu) for the container as well: the API server rejects huge pages without cpu or memory",
		"action": pods.enforce("deny"),
	}
}

# --- more than a node offers ---

# container_hp2 is the hugepages-2Mi a container asks for in bytes (its limit, else its
# request); 0 when it names none.
container_hp2(p) := n if {
	q := object.get(pods.quantities[p], hp2, 0)
	n := bytes(q)
} else := 0

# pod_hp2 is what one pod of template tp asks for: its running containers together, or
# the largest plain init container when that is more.
pod_hp2(tp) := max(array.concat([sum(running)], inits)) if {
	ps := pods.template_containers[tp]
	running := [container_hp2(p) | some p in ps; not pods.plain_init[p]]
	inits := [container_hp2(p) | some p in ps; pods.plain_init[p]]
}

violation contains v if {
	applies
	count(hugepage_containers) > 0
	some tp in pods.efa_templates
	n := pod_hp2(tp)
	n > max_bytes
	v := {
		"msg": sprintf("a pod of %s asks for %s %s, more than an EFA node pre-allocates (%s)", [pods.template_ref(tp), mebibytes(n), hp2, lib.params.maxHugepages2MiPerNode]),
		"path": pods.resource_path(tp, hp2),
		"fix": sprintf("request at most %s %s per pod (the EKS example uses %s), or raise maxHugepages2MiPerNode if the nodes pre-allocate more", [lib.params.maxHugepages2MiPerNode, hp2, lib.params.defaultHugepages2Mi]),
		"action": pods.enforce("deny"),
	}
}

mebibytes(n) := sprintf("%dMi", [n / 1048576]) if n % 1048576 == 0

else := sprintf("%d bytes", [n])

# --- optional mutation (Pod CREATE) ---

# missing holds the EFA containers without hugepages-2Mi.
missing contains p if {
	some p in efa_containers
	checked[p]
	not hp2 in object.keys(pods.quantities[p])
}

default_bytes := bytes(lib.params.defaultHugepages2Mi)

# mutable: the Pod can take the default in every container that lacks it and stay
# within what a node offers.
mutable if {
	lib.params.efaHugepagesMutate
	lib.kind == "Pod"
	lib.creating
	count(missing) > 0
	every p in missing {
		names_compute(p)
		not lib.containers[p].init
	}
	pod_hp2("/spec") + (count(missing) * default_bytes) <= max_bytes
}

missing_action := "mutate" if mutable

else := "warn"

patch contains op if {
	mutable
	some p in missing
	some list in ["limits", "requests"]
	op := {"op": "add", "path": quantity_path(p, list, hp2), "value": lib.params.defaultHugepages2Mi}
}
