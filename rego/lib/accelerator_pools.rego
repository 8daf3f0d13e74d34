# METADATA
# title: kgate accelerator NodePool helpers
# description: |
#   Shared definitions of the NodePool cost rules (COMPUTE-008, COMPUTE-010): whether a
#   karpenter.sh/v1 NodePool launches accelerator instances (GPU, Inferentia, Trainium,
#   Gaudi), why, and which instance families its requirements resolve to. A pool is an
#   accelerator pool when acceleratorPoolSelector matches its labels or template labels,
#   when it is a training/EFA pool (trainingPoolSelector), when a requirement selects
#   instances by GPU/accelerator labels, allows an accelerator family or category, when
#   its template taints name an accelerator resource, or when its limits do.
# custom:
#   params:
#     acceleratorPoolSelector:
#       matchExpressions:
#       - {key: kgate.dev/pool-type, operator: In, values: [accelerator, gpu, training, efa]}
#   schema:
#     acceleratorPoolSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of NodePools that run accelerators (in addition to pools whose requirements, taints or limits name accelerators)"}
package kgate.lib.accelerator_pools

import data.kgate.lib
import data.kgate.lib.karpenter

# Requirement keys, for self-managed Karpenter (karpenter.k8s.aws) and EKS Auto Mode
# (eks.amazonaws.com).
category_keys := {"karpenter.k8s.aws/instance-category", "eks.amazonaws.com/instance-category"}

accelerator_label_keys := {sprintf("%s/instance-%s", [prefix, name]) |
	some prefix in ["karpenter.k8s.aws", "eks.amazonaws.com"]
	some name in ["gpu-count", "gpu-name", "gpu-manufacturer", "gpu-memory", "accelerator-count", "accelerator-name", "accelerator-manufacturer"]
}

# EC2 instance categories and families with GPUs or ML accelerators: p (NVIDIA
# training/inference), g and gr (GPU), inf (Inferentia), trn (Trainium), dl (Gaudi).
accelerator_categories := {"p", "g", "gr", "inf", "trn", "dl"}

accelerator_family(f) if regex.match(`^(p|g|gr|inf|trn|dl)[0-9]`, f)

# accelerator_limits are the accelerator resources the pool's spec.limits bound.
accelerator_limits := {r | some r, _ in object.filter(pool_limits, lib.params.acceleratorResources)}

pool_limits := l if {
	l := lib.get(lib.get(lib.obj, "spec", {}), "limits", {})
	is_object(l)
} else := {}

# --- instance families of a pool ---

# in_sets lists, for one pool's requirements and template labels, the family sets each
# In requirement (or template label) on an instance-family or instance-type key allows;
# Karpenter intersects them. Functions take the requirement list so that UPDATEs can
# compare with the stored pool (NodePools are small).
in_sets(reqs, labels) := array.concat(
	[{v | some v in r.values} | some r in reqs; r.operator == "In"; r.key in karpenter.family_keys],
	array.concat(
		[{split(v, ".")[0] | some v in r.values} | some r in reqs; r.operator == "In"; r.key in karpenter.instance_type_keys],
		[{family_of(k, v)} | some k, v in labels; k in family_or_type_keys],
	),
)

family_or_type_keys := karpenter.family_keys | karpenter.instance_type_keys

family_of(k, v) := v if k in karpenter.family_keys

else := split(v, ".")[0]

# not_in holds the families NotIn requirements exclude.
not_in(reqs) := {v | some r in reqs; r.operator == "NotIn"; r.key in karpenter.family_keys; some v in r.values}

# bounded is true when some In requirement (or label) names the families.
bounded(reqs, labels) if count(in_sets(reqs, labels)) > 0

# resolved is the set of families a bounded pool can launch.
resolved(reqs, labels) := intersection({s | some s in in_sets(reqs, labels)}) - not_in(reqs)

# The NodePool under review.
requirements := karpenter.requirements

template_labels := karpenter.template_labels

pool_bounded if bounded(requirements, template_labels)

pool_families := resolved(requirements, template_labels) if pool_bounded

# --- accelerator pool detection ---

accelerator_pool if {
	karpenter.nodepool
	count(reasons) > 0
}

reasons contains "NodePool labels match acceleratorPoolSelector" if {
	karpenter.selector_matches(lib.params.acceleratorPoolSelector, lib.labels)
}

reasons contains "template labels match acceleratorPoolSelector" if {
	karpenter.selector_matches(lib.params.acceleratorPoolSelector, template_labels)
}

reasons contains "training pool" if karpenter.training_pool

# A requirement on a GPU/accelerator label that instances without accelerators cannot
# meet (they do not carry the label): In, Exists, Gt, Gte, Lt, Lte.
reasons contains sprintf("requirement %s %s", [r.key, r.operator]) if {
	some r in requirements
	r.key in accelerator_label_keys
	not r.operator in {"NotIn", "DoesNotExist"}
}

reasons contains sprintf("accelerator families %s", [concat(", ", sort(fams))]) if {
	fams := {f | some s in in_sets(requirements, template_labels); some f in s; accelerator_family(f)}
	count(fams) > 0
}

reasons contains sprintf("accelerator categories %s", [concat(", ", sort(cats))]) if {
	cats := {v | some r in requirements; r.operator == "In"; r.key in category_keys; some v in r.values; v in accelerator_categories} | {v | some k in category_keys; v := template_labels[k]; v in accelerator_categories}
	count(cats) > 0
}

reasons contains sprintf("taint %s", [t.key]) if {
	some t in lib.get(karpenter.template_spec, "taints", [])
	t.key in lib.params.acceleratorResources
}

reasons contains sprintf("limits on %s", [concat(", ", sort(accelerator_limits))]) if count(accelerator_limits) > 0

reason_text := concat("; ", sort(reasons))

# excludes_accelerators is true for a pool whose requirements keep accelerator
# instances out: only non-accelerator categories or families, or no GPU and no
# accelerator count.
excludes_accelerators if {
	some r in requirements
	r.operator == "In"
	r.key in category_keys
	every v in r.values {
		not v in accelerator_categories
	}
}

excludes_accelerators if {
	some r in requirements
	r.operator == "NotIn"
	r.key in category_keys
	every c in accelerator_categories {
		c in r.values
	}
}

excludes_accelerators if {
	pool_bounded
	every f in pool_families {
		not accelerator_family(f)
	}
}

excludes_accelerators if {
	every name in ["gpu-count", "accelerator-count"] {
		some r in requirements
		r.operator == "DoesNotExist"
		endswith(r.key, concat("", ["/instance-", name]))
	}
}
