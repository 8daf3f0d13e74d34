# METADATA
# title: Namespaces and workloads carry cost allocation labels
# description: |
#   Kubecost and OpenCost split the bill by label (team, project, environment, ...): a
#   pod's cost is attributed through its own labels, and OpenCost fills in the labels of
#   its namespace where the pod has none. Every namespace outside exemptNamespaces must
#   carry each key of requiredCostLabels with a non-empty, valid label value: creating a
#   Namespace without them is denied; updates are only warned, unless they remove or empty
#   a key the Namespace had, which is denied. Workloads (pod templates of Deployments,
#   StatefulSets, Jobs, ... and bare Pods) in those namespaces are warned when a key is
#   neither on the pod template nor on their Namespace (from the inventory). Pods created
#   by a controller are not reported: their workload is, and operators (Ray, Kubeflow) do
#   not always copy template labels, so namespace labels are what covers them. With
#   propagateNamespaceLabelsToPods, new Pods get the missing keys copied from their
#   Namespace.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#cost-001
# custom:
#   id: COST-001
#   severity: medium
#   kinds: [Namespace, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   referential: true
#   inventory: [Namespace]
#   why: |
#     GPU clusters are shared by many teams, and one cluster-wide line on the AWS bill can
#     be neither charged back nor optimized by anyone. Kubecost allocates cost by namespace,
#     workload and label; with team, project and environment labels on every namespace and
#     pod, each team sees what its models, fine-tuning jobs and vector databases cost, and
#     idle or oversized workloads have an owner.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true"}
#     good: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true", team: search-ai, project: chatbot, environment: prod}
#   params:
#     requiredCostLabels: [team, project, environment]
#     propagateNamespaceLabelsToPods: false
#   schema:
#     requiredCostLabels: {type: array, items: {type: string}, description: "label keys every namespace and workload needs for cost allocation"}
#     propagateNamespaceLabelsToPods: {type: boolean, description: "copy the Namespace's cost labels onto new Pods that lack them"}
package kgate.rules.cost.cost_allocation_labels

import data.kgate.lib
import data.kgate.lib.pods

required := lib.params.requiredCostLabels

# valid is true for a usable label value: not empty, at most 63 characters of
# alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric.
valid(value) if {
	is_string(value)
	count(value) <= 63
	regex.match(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`, value)
}

# problem describes what is wrong with key k in labels; undefined when it is fine.
problem(labels, k) := "missing" if {
	object.get(labels, k, null) == null
} else := "empty" if {
	labels[k] == ""
} else := sprintf("%q, not a valid label value", [labels[k]]) if {
	not valid(labels[k])
}

label_path(k) := concat("", ["/metadata/labels/", lib.escape(k)]) if {
	k in object.keys(lib.labels)
} else := "/metadata/labels" if {
	count(lib.labels) > 0
} else := "/metadata"

# --- Namespaces ---

ns_name := lib.obj.metadata.name

namespace_scope if {
	lib.kind == "Namespace"
	not ns_name in lib.params.exemptNamespaces
}

namespace_problems[k] := p if {
	namespace_scope
	some k in required
	p := problem(lib.labels, k)
}

old_labels := object.get(input.oldObject, ["metadata", "labels"], {})

# On UPDATE a key the Namespace had with a valid value and lost is a regression.
removed contains k if {
	lib.updating
	some k, _ in namespace_problems
	valid(old_labels[k])
}

# describe lists the keys with what is wrong with them, e.g. "team (missing)".
describe(problems, keys) := concat(", ", [sprintf("%s (%s)", [k, problems[k]]) | some k in keys])

# One finding per action: on UPDATE the keys the update removes are denied, the
# others warned.
namespace_groups[action] := keys if {
	namespace_scope
	some action in {"deny", "warn"}
	keys := [k | some k in required; namespace_problems[k]; namespace_action(k) == action]
	count(keys) > 0
}

violation contains v if {
	some action, keys in namespace_groups
	v := {
		"msg": namespace_msg(action, describe(namespace_problems, keys)),
		"path": labels_path(keys),
		"fix": sprintf("set metadata.labels %s on Namespace %s (required: %s)", [concat(", ", keys), ns_name, concat(", ", required)]),
		"action": action,
	}
}

namespace_msg(action, what) := sprintf("this update removes cost allocation labels of Namespace %q: %s; Kubecost would no longer attribute the cost of its workloads", [ns_name, what]) if {
	action == "deny"
	lib.updating
} else := sprintf("Namespace %q lacks usable cost allocation labels: %s; Kubecost cannot attribute the cost of its workloads", [ns_name, what])

labels_path([k]) := label_path(k)

labels_path(keys) := "/metadata/labels" if {
	count(keys) > 1
	count(lib.labels) > 0
}

labels_path(keys) := "/metadata" if {
	count(keys) > 1
	count(lib.labels) == 0
}

namespace_action(_) := "deny" if lib.creating

namespace_action(k) := "deny" if removed[k]

namespace_action(k) := "warn" if {
	lib.updating
	not removed[k]
}

# --- workloads ---

# Pods created by a controller are covered by their workload and by namespace labels.
workload_scope if {
	pods.workload
	lib.kind != "Namespace"
	not lib.owned_by_controller
}

namespace_labels := object.get(data.inventory, ["cluster", "Namespace", lib.namespace, "metadata", "labels"], {})

# template_problems maps the pod templates to the cost labels that neither the
# template nor the namespace provides, with what is wrong with them.
template_problems[tp] := problems if {
	workload_scope
	some tp, t in lib.pod_templates
	labels := object.get(t.meta, "labels", {})
	problems := {k: p | some k in required; p := problem(labels, k); not namespace_covers(p, k)}
	count(problems) > 0
}

# A valid namespace label covers a key the pod lacks; a pod's own (empty) value
# overrides it.
namespace_covers("missing", k) if valid(namespace_labels[k])

violation contains v if {
	some tp, problems in template_problems
	keys := [k | some k in required; problems[k]]
	v := {
		"msg": sprintf("%s lacks usable cost allocation labels%s: %s; namespace %q does not supply them, so Kubecost cannot attribute %s cost", [pods.template_ref(tp), on_pods(tp), describe(problems, keys), lib.namespace, whose(tp)]),
		"path": template_labels_path(tp, keys),
		"fix": sprintf("set %s in %s, or on Namespace %s to cover all its workloads", [concat(", ", keys), where(tp), lib.namespace]),
		"action": "warn",
	}
}

on_pods("/spec") := ""

on_pods(tp) := " on its pods" if tp != "/spec"

whose("/spec") := "its"

whose(tp) := "their" if tp != "/spec"

where("/spec") := "metadata.labels"

where(tp) := sprintf("the pod template labels (%s/metadata/labels)", [trim_suffix(tp, "/spec")]) if tp != "/spec"

template_labels_path(tp, [k]) := template_label_path(tp, k)

template_labels_path(tp, keys) := template_label_path(tp, "") if count(keys) > 1

template_label_path(tp, k) := label_path(k) if {
	tp == "/spec"
} else := concat("", [trim_suffix(tp, "/spec"), "/metadata/labels/", lib.escape(k)]) if {
	k in object.keys(template_labels(tp))
} else := concat("", [trim_suffix(tp, "/spec"), "/metadata/labels"]) if {
	count(template_labels(tp)) > 0
} else := trim_suffix(tp, "/spec")

template_labels(tp) := object.get(lib.pod_templates[tp].meta, "labels", {})

# --- optional: copy namespace labels onto new Pods ---

# propagated holds the keys copied from the Namespace onto a new Pod.
propagated contains k if {
	lib.creating
	lib.params.propagateNamespaceLabelsToPods
	lib.kind == "Pod"
	pods.workload
	some k in required
	not k in object.keys(lib.labels)
	valid(namespace_labels[k])
}

violation contains v if {
	some k in propagated
	v := {
		"msg": sprintf("Pod %q has no cost label %s", [pods.object_name, k]),
		"path": label_path(k),
		"fix": sprintf("copy %s: %s from Namespace %s", [k, namespace_labels[k], lib.namespace]),
		"action": "mutate",
	}
}

patch contains {"op": "add", "path": concat("", ["/metadata/labels/", lib.escape(k)]), "value": namespace_labels[k]} if {
	some k in propagated
}

applies if namespace_scope

applies if workload_scope

applies if count(propagated) > 0
