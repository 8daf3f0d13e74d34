# METADATA
# title: Accelerator NodePools stay in the committed instance families
# description: |
#   Reserved Instances, Savings Plans and Capacity Blocks for ML are commitments to
#   specific EC2 instance families; GPU capacity launched in any other family is billed
#   at On-Demand price on top of the commitment. An accelerator NodePool (see
#   acceleratorPoolSelector; also pools whose requirements, taints or limits name GPUs or
#   accelerators, and training pools) must therefore resolve to instance families that
#   are all in allowedAcceleratorFamilies: the intersection of its In requirements (and
#   template labels) on karpenter.k8s.aws/instance-family, eks.amazonaws.com/instance-family
#   or node.kubernetes.io/instance-type, minus NotIn families. A pool without such an In
#   requirement allows any family: instance-category, instance-generation Gt/Gte, an
#   instance-family Exists (also with minValues) or NotIn alone do not bound it. Violations
#   are denied on CREATE; on UPDATE only when the update widens the family set, other
#   updates of an already non-compliant pool are warned so that unrelated changes (limits,
#   budgets) are not blocked. CPU pools whose requirements do not keep accelerator
#   instances out (a pod that requests nvidia.com/gpu could make Karpenter launch any GPU
#   family there) are reported for audit.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-010
# custom:
#   id: COMPUTE-010
#   severity: high
#   kinds: [NodePool]
#   default_action: deny
#   why: |
#     GPU instances are the largest line of a GenAI bill, and the discounts on them come
#     from commitments to specific families: Reserved Instances (up to 72% off), Savings
#     Plans and EC2 Capacity Blocks for P5, P5e, P4d, Trn1 and Trn2. A NodePool that lets
#     Karpenter pick any GPU family can launch an uncommitted p4d or g5 at full On-Demand
#     price while the committed capacity sits idle and is still paid for.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: gpu-any, labels: {kgate.dev/pool-type: accelerator}}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-gpu-count, operator: Gt, values: ["0"]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: gpu-p5, labels: {kgate.dev/pool-type: accelerator}}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["p5", "p5e"]}
#             - {key: karpenter.k8s.aws/instance-gpu-count, operator: Gt, values: ["0"]}
#         limits: {nvidia.com/gpu: "64"}
#   params:
#     allowedAcceleratorFamilies: [p4d, p4de, p5, p5e, p5en, p6-b200, g5, g6, g6e, trn1, trn1n, trn2, inf2]
#     acceleratorPoolSelector:
#       matchExpressions:
#       - {key: kgate.dev/pool-type, operator: In, values: [accelerator, gpu, training, efa]}
#   schema:
#     allowedAcceleratorFamilies: {type: array, items: {type: string}, description: "EC2 instance families accelerator NodePools may launch (the families your Reserved Instances, Savings Plans or Capacity Blocks cover)"}
#     acceleratorPoolSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of NodePools that run accelerators (in addition to pools whose requirements, taints or limits name accelerators)"}
package kgate.rules.compute.accelerator_instance_family_allowlist

import data.kgate.lib
import data.kgate.lib.accelerator_pools as pools
import data.kgate.lib.karpenter

applies if karpenter.nodepool

name := lib.obj.metadata.name

allowed := {f | some f in lib.params.allowedAcceleratorFamilies}

allowed_text := concat(", ", sort(allowed))

# Auto Mode pools (nodeClassRef group eks.amazonaws.com) use the eks.amazonaws.com keys.
family_key := "eks.amazonaws.com/instance-family" if {
	karpenter.template_spec.nodeClassRef.group == "eks.amazonaws.com"
} else := "karpenter.k8s.aws/instance-family"

accelerator_pool if pools.accelerator_pool

# disallowed holds the families a bounded accelerator pool allows outside the list.
disallowed := pools.pool_families - allowed if accelerator_pool

violation contains v if {
	accelerator_pool
	not pools.pool_bounded
	v := {
		"msg": sprintf("NodePool %q is an accelerator pool (%s) whose requirements do not name its instance families%s: Karpenter may launch any accelerator family, also outside the committed ones", [name, pools.reason_text, not_in_note]),
		"path": karpenter.existing_path,
		"fix": sprintf("add the requirement {key: %s, operator: In, values: [<families from %s>]}", [family_key, allowed_text]),
		"action": action,
	}
}

not_in_note := sprintf(" (NotIn %s only excludes families)", [concat(", ", sort(pools.not_in(karpenter.requirements)))]) if {
	count(pools.not_in(karpenter.requirements)) > 0
} else := ""

violation contains v if {
	count(disallowed) > 0
	v := {
		"msg": sprintf("NodePool %q is an accelerator pool (%s) that allows instance families %s, which are not in allowedAcceleratorFamilies", [name, pools.reason_text, concat(", ", sort(disallowed))]),
		"path": disallowed_path,
		"fix": sprintf("limit the pool to families from %s, or add %s to allowedAcceleratorFamilies once they are covered by a commitment", [allowed_text, concat(", ", sort(disallowed))]),
		"action": action,
	}
}

# disallowed_path points at the first requirement (or template label) that lets a
# disallowed family in.
disallowed_path := sprintf("%s/%d", [karpenter.requirements_path, min(indices)]) if {
	indices := {i |
		some i, r in karpenter.requirements
		r.operator == "In"
		r.key in pools.family_or_type_keys
		some v in r.values
		pools.family_of(r.key, v) in disallowed
	}
	count(indices) > 0
} else := concat("", ["/spec/template/metadata/labels/", lib.escape(k)]) if {
	some k, v in karpenter.template_labels
	k in pools.family_or_type_keys
	pools.family_of(k, v) in disallowed
} else := karpenter.requirements_path

# On UPDATE, only a change that lets the pool launch more disallowed families is denied.
action := "warn" if {
	lib.updating
	not widened
} else := "deny"

old_requirements := lib.get(object.get(input.oldObject, ["spec", "template", "spec"], {}), "requirements", [])

old_labels := lib.get(object.get(input.oldObject, ["spec", "template", "metadata"], {}), "labels", {})

widened if {
	not pools.pool_bounded
	pools.bounded(old_requirements, old_labels)
}

widened if {
	pools.pool_bounded
	pools.bounded(old_requirements, old_labels)
	count((pools.pool_families - pools.resolved(old_requirements, old_labels)) - allowed) > 0
}

# CPU pools that do not keep accelerator instances out: a pod that requests an
# accelerator would make Karpenter launch any accelerator family there.
violation contains v if {
	karpenter.nodepool
	not accelerator_pool
	not pools.excludes_accelerators
	v := {
		"msg": sprintf("NodePool %q does not keep accelerator instances out: a pod that requests nvidia.com/gpu or aws.amazon.com/neuron can make Karpenter launch any accelerator family on it, outside allowedAcceleratorFamilies", [name]),
		"path": karpenter.existing_path,
		"fix": "restrict the pool to CPU instances, e.g. {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}, and run accelerators in dedicated pools",
		"action": "audit",
	}
}
