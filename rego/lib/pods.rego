# METADATA
# title: kgate pod helpers
# description: |
#   Shared definitions of the pod rules (catalog sections 4 and 7): which extended
#   resources a container or a pod asks for, per-pod accelerator and EFA counts, how
#   many pods an object runs with accelerators, the training scope of EFA-001, and the
#   deny-to-warn downgrade for Pods created by a controller (catalog 2.3) and for
#   updates of immutable pod specs.
package kgate.lib.pods

import data.kgate.lib

# Performance: every pod rule evaluates these definitions on every admission of a
# workload. Containers and pod templates are named by their JSON pointer (a key of
# lib.containers or lib.pod_templates) and the facts about them are rules without
# arguments keyed by that path, which OPA evaluates once per evaluation. No function
# takes a container or a pod spec as argument (OPA memoizes each call keyed by its
# arguments), and the common case stays short: most containers name no extended
# resource, and pod totals are only computed when a count could exceed a limit.

efa := "vpc.amazonaws.com/efa"

# accelerator_names are the accelerator extended resources (global acceleratorResources).
accelerator_names := {r | some r in lib.params.acceleratorResources}

# extended_names are the accelerator resources plus EFA: the extended resources that
# cannot be overcommitted and that the pod rules look at.
extended_names := array.concat(lib.params.acceleratorResources, [efa])

# workload is true for a pod-bearing object outside the exempt namespaces.
workload if {
	lib.pod_bearing
	not lib.exempt_namespace
}

# enforce downgrades deny to warn for Pods created by a controller: a denial there
# only shows up as FailedCreate events and can wedge a rollout (catalog 2.3). It does
# the same on UPDATE of objects whose pod spec is immutable (Pod, batch Job): the
# finding cannot be fixed in place, and denying would block unrelated changes such as
# labels or parallelism.
enforce(action) := "warn" if {
	action == "deny"
	lib.kind == "Pod"
	lib.owned_by_controller
} else := "warn" if {
	action == "deny"
	lib.updating
	immutable_pod_spec
} else := action

immutable_pod_spec if lib.kind == "Pod"

immutable_pod_spec if lib.batch_job

# object_name is the name of the object under review ("" when it has none yet).
object_name := name if {
	name := lib.obj.metadata.name
	name != null
} else := input.name

# object_ref names the object in messages, e.g. `PyTorchJob "llama"`.
object_ref := sprintf("%s %q", [lib.kind, object_name])

# template_ref names the pod template at path tp (a key of lib.pod_templates) in
# messages: the object, and for objects with several templates the template's group
# (e.g. `RayCluster "r", template "workers"`).
template_ref(tp) := object_ref if lib.pod_templates[tp].group in {"pod", "template"}

else := sprintf("%s, template %q", [object_ref, lib.pod_templates[tp].group])

# container_ref names the container at path p (a key of lib.containers) in messages.
container_ref(p) := sprintf("%s %q of %s", [container_words[c.init], c.container.name, template_ref(c.template)]) if {
	c := lib.containers[p]
}

container_words := {true: "init container", false: "container"}

# --- per-container facts, keyed by container path ---

# extended maps the containers that name an accelerator or EFA resource (in their
# limits or requests) to those resources, each with the quantity it asks for: the
# limit, else the request (the API server defaults the request of an extended
# resource to its limit).
extended[p] := q if {
	some p, c in lib.containers
	q := object.filter(object.union(c.requests, c.limits), extended_names)
	count(q) > 0
}

# counts maps the containers of extended to the integer counts of their extended
# resources; a quantity that is not an integer (e.g. "$GPU_PER_NODE") has none.
counts[p] := {r: n | some r, q in ext; n := lib.quantity_int(q)} if some p, ext in extended

# accelerator_counts maps the containers that name an accelerator resource to the
# number of accelerators they ask for, counting integer quantities only (pod totals
# rule out the others).
accelerator_counts[p] := sum([n | some r, _ in accs; n := counts[p][r]]) if {
	some p, ext in extended
	accs := object.filter(ext, lib.params.acceleratorResources)
	count(accs) > 0
}

# plain_init holds the init containers that run to completion before the others;
# restartable init containers (sidecars) run beside them.
plain_init contains p if {
	some p, c in lib.containers
	c.init
	not c.sidecar
}

# quantities maps every container to all the resources it names in its limits or
# requests, with the quantity it asks for (like extended, for any resource).
quantities[p] := object.union(c.requests, c.limits) if some p, c in lib.containers

# --- per-template facts, keyed by template path ---

# template_containers lists the paths of the containers and init containers of each
# pod template.
template_containers[tp] := [p | some p, c in lib.containers; c.template == tp] if some tp, _ in lib.pod_templates

# accelerator_templates holds the templates whose pods name an accelerator resource.
accelerator_templates contains lib.containers[p].template if some p, _ in accelerator_counts

# has_accelerator is true when a pod of template tp names an accelerator resource.
has_accelerator(tp) if accelerator_templates[tp]

# unknown holds the [template, resource] pairs of the extended resources that a
# container of the template asks for with a count that is not an integer.
unknown contains [lib.containers[p].template, r] if {
	some p, ext in extended
	some r, _ in ext
	not counts[p][r]
}

# unknown_accelerators holds the templates with an accelerator count that is not an
# integer.
unknown_accelerators contains tp if {
	some [tp, r] in unknown
	r in lib.params.acceleratorResources
}

# template_accelerators is the number of accelerators one pod of an accelerator
# template asks for: the sum over its containers and sidecars, or the largest plain
# init container when that is more (the pod's effective request). Undefined when a
# count is not an integer.
template_accelerators[tp] := max(array.concat([sum(running)], inits)) if {
	some tp in accelerator_templates
	not unknown_accelerators[tp]
	running := [n | some p, n in accelerator_counts; lib.containers[p].template == tp; not plain_init[p]]
	inits := [object.get(accelerator_counts, p, 0) | some p in plain_init; lib.containers[p].template == tp]
}

# pod_total is what one pod of template tp asks for of resource r, computed like
# template_accelerators: 0 when no container names r, undefined when a count is not an
# integer.
pod_total(tp, r) := max(array.concat([sum(running)], inits)) if {
	r in extended_names
	not unknown[[tp, r]]
	running := [n | some p, cs in counts; n := cs[r]; lib.containers[p].template == tp; not plain_init[p]]
	inits := [object.get(object.get(counts, p, {}), r, 0) | some p in plain_init; lib.containers[p].template == tp]
}

pod_total(tp, r) := max(array.concat([sum(running)], inits)) if {
	not r in extended_names
	ps := template_containers[tp]
	running := [n | some p in ps; not plain_init[p]; n := lib.quantity_int(object.get(quantities[p], r, 0))]
	inits := [n | some p in ps; plain_init[p]; n := lib.quantity_int(object.get(quantities[p], r, 0))]
	count(running) + count(inits) == count(ps)
}

# upper_bound sums the positive counts of extended resource r over all the containers
# of the object. No pod asks for more, so `upper_bound(r) > limit` is a cheap filter
# before computing pod totals to compare with a limit (for a limit below 0 too).
upper_bound(r) := sum([n | some ext in extended; n := lib.quantity_int(ext[r]); n > 0])

# resource_path points at the resource r of template tp that a per-pod finding is
# about: the limit (else request) of the only container that names it, or the
# template's container list when several do.
resource_path(tp, r) := concat("", [p, "/resources/", list_of(p, r), "/", lib.escape(r)]) if {
	[p] := [p | some p in template_containers[tp]; r in object.keys(quantities[p])]
} else := concat("", [tp, "/containers"])

list_of(p, r) := "limits" if r in object.keys(lib.containers[p].limits)

else := "requests"

# efa_templates holds the templates whose pods ask for EFA interfaces: a count of 0
# is no request, an unrendered placeholder ("$EFA_PER_NODE") is one.
efa_templates contains lib.containers[p].template if {
	some p, ext in extended
	not zero_count(ext[efa])
}

# zero_count is a function so that `not` sees an undefined count (a placeholder) as
# "not zero"; written inline, OPA would hoist the call out of the negation.
zero_count(q) if lib.quantity_int(q) == 0

# has_hugepages is true when a container of template tp names a hugepages-* resource.
has_hugepages(tp) if {
	some p in template_containers[tp]
	some name, _ in quantities[p]
	startswith(name, "hugepages-")
}

# dra_claims is true when the pod asks for devices through Dynamic Resource Allocation
# (spec.resourceClaims), e.g. the EFA DRA driver's DeviceClass efa.networking.k8s.aws.
dra_claims(tp) if {
	claims := lib.pod_templates[tp].spec.resourceClaims
	claims != null
	count(claims) > 0
}

# instance_type is the instance type template tp pins in its nodeSelector.
instance_type(tp) := lib.pod_templates[tp].spec.nodeSelector["node.kubernetes.io/instance-type"]

# --- training scope (EFA-001) ---

role_label := label if {
	label := lib.params.trainingRoleLabel
	label != null
} else := "kgate.dev/role"

# Labels that distributed-training operators put on the Pods they create.
operator_pod_labels := {"training.kubeflow.org/job-name", "training.kubeflow.org/replica-type", "volcano.sh/job-name"}

# training_object is true for objects whose pods belong to a distributed training run:
# the training role label, a batch Job with parallelism > 1, Kubeflow PyTorchJob and
# MPIJob, Volcano Job and KubeRay RayCluster (a RayCluster is usually a training
# cluster; RayService and RayJob-as-serving are not selected), and Pods created by a
# training operator.
training_object if lib.labels[role_label] == "training"

training_object if training_kind(lib.kind)

# training_kind is keyed by kind, so that OPA's rule index evaluates only the bodies
# of the object's kind.
training_kind("PyTorchJob") := true

training_kind("MPIJob") := true

training_kind("RayCluster") := true

training_kind("Job") if {
	lib.batch_job
	parallel(lib.obj.spec.parallelism)
}

training_kind("Job") if lib.volcano_job

training_kind("CronJob") if parallel(lib.obj.spec.jobTemplate.spec.parallelism)

training_kind("Pod") if operator_pod

operator_pod if {
	lib.kind == "Pod"
	some key in operator_pod_labels
	lib.labels[key]
}

parallel(p) if {
	is_number(p)
	p > 1
}

# training_templates holds the templates of a training object, and the templates
# labelled with the training role themselves.
training_templates contains tp if {
	training_object
	some tp, _ in lib.pod_templates
}

training_templates contains tp if {
	some tp, t in lib.pod_templates
	t.meta.labels[role_label] == "training"
}

# accelerator_replicas lists the replica counts of the templates that use accelerators.
accelerator_replicas := [t.replicas | some tp, t in lib.pod_templates; accelerator_templates[tp]]

# multi_replica is true when the object runs more than one accelerator pod at a time,
# counted across its templates (e.g. Master + Worker); a DaemonSet (replicas null)
# runs one per node. A Pod created by a training operator is one of several.
multi_replica if sum([r | some r in accelerator_replicas; is_number(r)]) > 1

multi_replica if null in accelerator_replicas

multi_replica if {
	operator_pod
	lib.owned_by_controller
}

# replicas_unknown is true when a replica count is a placeholder (e.g. "$NUM_NODES").
replicas_unknown if {
	some r in accelerator_replicas
	r != null
	not is_number(r)
}
