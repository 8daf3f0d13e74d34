# METADATA
# title: kgate Karpenter helpers
# description: |
#   Shared definitions of the NodePool rules: the karpenter.sh/v1 NodePool under review,
#   its requirements, the instance families it allows, its zone constraints and the
#   selection of training/EFA pools. trainingPoolSelector is a Kubernetes label
#   selector matched against the NodePool's labels and its node template labels; an
#   empty selector selects no pool by label.
# custom:
#   params:
#     trainingPoolSelector:
#       matchExpressions:
#       - {key: kgate.dev/pool-type, operator: In, values: [training, efa]}
#   schema:
#     trainingPoolSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of NodePools that run training"}
package kgate.lib.karpenter

import data.kgate.lib

# nodepool is true for a karpenter.sh/v1 NodePool. v1beta1 NodePools (Karpenter < 1.0)
# have another schema and are not evaluated.
nodepool if {
	lib.kind == "NodePool"
	lib.obj.apiVersion == "karpenter.sh/v1"
}

template := lib.get(lib.get(lib.obj, "spec", {}), "template", {})

template_spec := lib.get(template, "spec", {})

template_labels := lib.get(lib.get(template, "metadata", {}), "labels", {})

requirements := lib.get(template_spec, "requirements", [])

requirements_path := "/spec/template/spec/requirements"

# existing_path is the JSON pointer of the deepest existing object on the way to
# spec.template.spec.requirements, for messages about a missing requirement.
existing_path := requirements_path if {
	"requirements" in object.keys(template_spec)
} else := "/spec/template/spec" if {
	"spec" in object.keys(template)
} else := "/spec/template" if {
	"template" in object.keys(lib.get(lib.obj, "spec", {}))
} else := "/spec"

family_keys := {"karpenter.k8s.aws/instance-family", "eks.amazonaws.com/instance-family"}

instance_type_keys := {"node.kubernetes.io/instance-type"}

zone_key := "topology.kubernetes.io/zone"

zone_id_key := "topology.k8s.aws/zone-id"

zone_keys := {zone_key, zone_id_key}

efa_label := "vpc.amazonaws.com/efa.present"

# families is the set of instance families the pool allows explicitly, from In
# requirements and template labels (Karpenter adds template labels as requirements) on
# the instance-family keys, and on instance types (family = part before the first dot).
families contains v if {
	some r in requirements
	r.operator == "In"
	r.key in family_keys
	some v in r.values
}

families contains split(v, ".")[0] if {
	some r in requirements
	r.operator == "In"
	r.key in instance_type_keys
	some v in r.values
}

families contains v if {
	some k in family_keys
	v := template_labels[k]
}

families contains split(v, ".")[0] if {
	some k in instance_type_keys
	v := template_labels[k]
}

training_families := families & {f | some f in lib.params.trainingFamilies}

# selector_matches implements Kubernetes label selectors (matchLabels and
# matchExpressions). An empty or null selector matches nothing here.
selector_matches(sel, labels) if {
	is_object(sel)
	count(sel) > 0
	every k, v in lib.get(sel, "matchLabels", {}) {
		labels[k] == v
	}
	every e in lib.get(sel, "matchExpressions", []) {
		expression_matches(e, labels)
	}
}

expression_matches(e, labels) if {
	e.operator == "In"
	value_in(e, labels)
}

# NotIn also matches labels without the key.
expression_matches(e, labels) if {
	e.operator == "NotIn"
	not value_in(e, labels)
}

value_in(e, labels) if labels[e.key] in e.values

expression_matches(e, labels) if {
	e.operator == "Exists"
	e.key in object.keys(labels)
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not e.key in object.keys(labels)
}

# training_pool is true for a karpenter.sh/v1 NodePool selected as a training/EFA
# pool: by trainingPoolSelector on its labels or its template labels, by the EFA
# template label, or by an allowed instance family in trainingFamilies.
training_pool if {
	nodepool
	selected
}

selected if selector_matches(lib.params.trainingPoolSelector, lib.labels)

selected if selector_matches(lib.params.trainingPoolSelector, template_labels)

selected if template_labels[efa_label] == "true"

selected if count(training_families) > 0

# training_reasons says why the NodePool under review is a training/EFA pool.
training_reasons contains "NodePool labels match trainingPoolSelector" if {
	selector_matches(lib.params.trainingPoolSelector, lib.labels)
}

training_reasons contains "template labels match trainingPoolSelector" if {
	selector_matches(lib.params.trainingPoolSelector, template_labels)
}

training_reasons contains sprintf("template label %s: \"true\"", [efa_label]) if template_labels[efa_label] == "true"

training_reasons contains sprintf("training instance families %s", [concat(", ", sort(training_families))]) if {
	count(training_families) > 0
}

# zone_requirements lists the indices of the requirements on a zone key.
zone_requirements contains i if {
	some i, r in requirements
	r.key in zone_keys
}

# single_value_in is true when requirement i is an In with exactly one distinct value.
single_value_in(i) if {
	requirements[i].operator == "In"
	count({v | some v in requirements[i].values}) == 1
}

# single_zone is true when the pool's nodes are pinned to one zone: a single-value In
# requirement or a template label on a zone key (further zone requirements can only
# narrow that set).
single_zone if {
	some i in zone_requirements
	single_value_in(i)
}

single_zone if {
	some k in zone_keys
	template_labels[k]
}

# node_class_ref is the template's nodeClassRef when it points at an EC2NodeClass.
node_class_ref := ref if {
	ref := template_spec.nodeClassRef
	lib.get(ref, "group", "karpenter.k8s.aws") == "karpenter.k8s.aws"
	lib.get(ref, "kind", "EC2NodeClass") == "EC2NodeClass"
}

ec2_node_classes := object.get(data.inventory, ["cluster", "EC2NodeClass"], {})

# node_class is the referenced EC2NodeClass from the inventory.
node_class := ec2_node_classes[node_class_ref.name]

# single_az_node_class is true when the referenced EC2NodeClass resolves to subnets in
# one AZ: its status lists subnets of a single zone, or it selects exactly one subnet
# by id.
single_az_node_class if {
	subnets := lib.get(lib.get(node_class, "status", {}), "subnets", [])
	every s in subnets {
		s.zone
	}
	count({s.zone | some s in subnets}) == 1
}

single_az_node_class if {
	[term] := lib.get(lib.get(node_class, "spec", {}), "subnetSelectorTerms", [])
	lib.get(term, "id", "") != ""
}
