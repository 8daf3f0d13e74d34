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

efa := "vpc.amazonaws.com/efa"

# accelerator_names are the accelerator extended resources (global acceleratorResources).
accelerator_names := {r | some r in lib.params.acceleratorResources}

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
object_name := lib.get(lib.get(lib.obj, "metadata", {}), "name", input.name)

# object_ref names the object in messages, e.g. `PyTorchJob "llama"`.
object_ref := sprintf("%s %q", [lib.kind, object_name])

# template_ref names a pod template in messages: the object, and for objects with
# several templates the template's group (e.g. `RayCluster "r", template "workers"`).
template_ref(t) := object_ref if t.group in {"pod", "template"}

else := sprintf("%s, template %q", [object_ref, t.group])

# container_ref names a container of lib.containers in messages.
container_ref(c) := sprintf("%s %q of %s", [container_word(c), c.container.name, template_ref(c.template)])

container_word(c) := "init container" if c.init

else := "container"

# template_containers lists the entries of lib.containers that belong to template t.
template_containers(t) := [c | some c in lib.containers; c.template.path == t.path]

# declared is true when a container names resource name in its limits or requests.
declared(ctr, name) if name in object.keys(lib.resources(ctr, "limits"))

declared(ctr, name) if name in object.keys(lib.resources(ctr, "requests"))

# declares_any is true when a container names one of the resources in names.
declares_any(ctr, names) if {
	some name in names
	declared(ctr, name)
}

# value is the quantity a container asks for: its limit, else its request (the API
# server defaults the request of an extended resource to its limit).
value(ctr, name) := v if {
	v := lib.resources(ctr, "limits")[name]
} else := v if {
	v := lib.resources(ctr, "requests")[name]
}

# amount is value as an integer; undefined for non-integer quantities and unrendered
# placeholders such as "$GPU_PER_NODE".
amount(ctr, name) := lib.quantity_int(value(ctr, name))

# container_total is what one container asks for of the resources in names.
container_total(ctr, names) := sum([amount(ctr, r) | some r in names; declared(ctr, r)])

# sidecar is true for a restartable init container, which runs beside the others.
sidecar(c) if {
	c.init
	c.container.restartPolicy == "Always"
}

plain_init(c) if {
	c.init
	not sidecar(c)
}

# uses is true when a container of template t names one of the resources in names.
uses(t, names) if {
	some c in template_containers(t)
	declares_any(c.container, names)
}

# unknown_count is true when a container of t names one of the resources in names
# with a count that is not an integer.
unknown_count(t, names) if {
	some c in template_containers(t)
	some r in names
	declared(c.container, r)
	not amount(c.container, r)
}

# pod_total is what one pod of template t asks for of the resources in names: the sum
# over its containers and sidecars, or the largest plain init container when that is
# more (the pod's effective request). Undefined when a count is not an integer.
pod_total(t, names) := n if {
	not unknown_count(t, names)
	running := [container_total(c.container, names) | some c in template_containers(t); not plain_init(c)]
	inits := [container_total(c.container, names) | some c in template_containers(t); plain_init(c)]
	n := max(array.concat([sum(running)], inits))
}

# resource_path points at the resource of a template that a per-pod finding is about:
# the limit (else request) of the only container that names it, or the template's
# container list when several do.
resource_path(t, name) := p if {
	[c] := [c | some c in template_containers(t); declared(c.container, name)]
	p := concat("", [c.path, "/resources/", list_of(c.container, name), "/", lib.escape(name)])
} else := concat("", [t.path, "/containers"])

list_of(ctr, name) := "limits" if name in object.keys(lib.resources(ctr, "limits"))

else := "requests"

# has_accelerator is true when a pod of template t names an accelerator resource.
has_accelerator(t) if uses(t, accelerator_names)

# accelerators is the number of accelerators one pod of template t asks for.
accelerators(t) := pod_total(t, accelerator_names)

# has_efa is true when a pod of template t asks for EFA interfaces (a count of 0 is no
# request; a placeholder is one).
has_efa(t) if {
	some c in template_containers(t)
	declared(c.container, efa)
	not amount(c.container, efa) == 0
}

# has_hugepages is true when a container of template t names a hugepages-* resource.
has_hugepages(t) if {
	some c in template_containers(t)
	some list in ["limits", "requests"]
	some name, _ in lib.resources(c.container, list)
	startswith(name, "hugepages-")
}

# dra_claims is true when the pod asks for devices through Dynamic Resource Allocation
# (spec.resourceClaims), e.g. the EFA DRA driver's DeviceClass efa.networking.k8s.aws.
dra_claims(t) if count(lib.get(t.spec, "resourceClaims", [])) > 0

# instance_type is the instance type a template pins in its nodeSelector.
instance_type(t) := lib.get(t.spec, "nodeSelector", {})["node.kubernetes.io/instance-type"]

# --- training scope (EFA-001) ---

role_label := lib.get(lib.params, "trainingRoleLabel", "kgate.dev/role")

# Labels that distributed-training operators put on the Pods they create.
operator_pod_labels := {"training.kubeflow.org/job-name", "training.kubeflow.org/replica-type", "volcano.sh/job-name"}

# training_object is true for objects whose pods belong to a distributed training run:
# the training role label, a batch Job with parallelism > 1, Kubeflow PyTorchJob and
# MPIJob, Volcano Job and KubeRay RayCluster (a RayCluster is usually a training
# cluster; RayService and RayJob-as-serving are not selected), and Pods created by a
# training operator.
training_object if lib.labels[role_label] == "training"

training_object if {
	lib.batch_job
	parallel(lib.obj.spec)
}

training_object if {
	lib.kind == "CronJob"
	parallel(lib.obj.spec.jobTemplate.spec)
}

training_object if lib.kind in {"PyTorchJob", "MPIJob", "RayCluster"}

training_object if lib.volcano_job

training_object if operator_pod

operator_pod if {
	lib.kind == "Pod"
	some key in operator_pod_labels
	lib.labels[key]
}

parallel(job) if {
	p := job.parallelism
	is_number(p)
	p > 1
}

# training_template is true for a template of a training object, or one labelled with
# the training role itself.
training_template(_) if training_object

training_template(t) if lib.get(lib.get(t.meta, "labels", {}), role_label, "") == "training"

# accelerator_replicas lists the replica counts of the templates that use accelerators.
accelerator_replicas := [t.replicas | some t in lib.pod_templates; has_accelerator(t)]

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
