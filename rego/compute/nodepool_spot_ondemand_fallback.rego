# METADATA
# title: NodePools that use Spot fall back to On-Demand
# description: |
#   Checks the karpenter.sh/capacity-type requirement (and template label) of
#   karpenter.sh/v1 NodePools, EKS Auto Mode ones included. (a) Values other than spot,
#   on-demand and reserved (e.g. SPOT, ondemand) match no offering: denied (on UPDATE only
#   when the update introduces them; existing ones are warned). (b) A pool that allows
#   Spot but not on-demand has no fallback: in a Spot shortage, common for GPU instances,
#   its pods stay Pending. Warned, unless the pool is interruptible (interruptibleSelector)
#   or listed in allowSpotOnly. (c) An interruptible pool that does not allow Spot pays the
#   On-Demand price for work that tolerates interruption. Without any capacity-type
#   requirement Karpenter launches on-demand only, so a new interruptible pool gets
#   {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}; Karpenter
#   then prefers Spot and falls back to on-demand within milliseconds. On UPDATE, or when a
#   requirement already excludes Spot, it is only warned: kgate changes NodePool templates
#   on CREATE only, since template changes can drift running nodes. With
#   requireMinValuesForSpot, pools that allow Spot without minValues on an instance-family
#   or instance-type requirement are warned too: Spot needs a choice of instance types. The
#   reserved capacity type is On-Demand Capacity Reservations and Capacity Blocks, not
#   Reserved Instances or Savings Plans (billing constructs).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-005
# custom:
#   id: COMPUTE-005
#   severity: high
#   kinds: [NodePool]
#   default_action: warn
#   why: |
#     Spot capacity costs up to 90% less than On-Demand, but AWS can reclaim it with a
#     two-minute notice and some instance types, GPUs above all, are often unavailable.
#     A NodePool that allows both lets Karpenter buy Spot first and fall back to
#     On-Demand within milliseconds, so pods never wait for Spot to return; a misspelt
#     capacity type silently matches no instance at all.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: inference-gpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.sh/capacity-type, operator: In, values: ["spot"]}
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["g6e"]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: inference-gpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.sh/capacity-type, operator: In, values: ["spot", "on-demand"]}
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["g6e", "g6", "g5"], minValues: 2}
#         limits: {nvidia.com/gpu: "32"}
#   params:
#     interruptibleSelector:
#       matchLabels: {kgate.dev/interruptible: "true"}
#     allowSpotOnly: []
#     requireMinValuesForSpot: false
#   schema:
#     interruptibleSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector (matched against the NodePool's labels and its template labels) of pools whose workloads tolerate interruption and should use Spot"}
#     allowSpotOnly: {type: array, items: {type: string}, description: "names of NodePools allowed to be Spot-only without being interruptible"}
#     requireMinValuesForSpot: {type: boolean, description: "warn on pools that allow Spot without minValues on an instance-family or instance-type requirement"}
package kgate.rules.compute.nodepool_spot_ondemand_fallback

import data.kgate.lib
import data.kgate.lib.karpenter

key := "karpenter.sh/capacity-type"

known := {"spot", "on-demand", "reserved"}

applies if karpenter.nodepool

name := lib.obj.metadata.name

# capacity_requirements holds the indices of the requirements on the capacity type.
capacity_requirements contains i if {
	applies
	some i, r in karpenter.requirements
	r.key == key
}

has_label if key in object.keys(karpenter.template_labels)

constrained if count(capacity_requirements) > 0

constrained if has_label

# allowed is the set of capacity types the pool can launch. Without a capacity-type
# requirement Karpenter's AWS provider launches on-demand ("CapacityType should default
# to on-demand", karpenter-provider-aws instancetype suite).
allowed := {t |
	some t in known
	every i in capacity_requirements {
		permits(karpenter.requirements[i], t)
	}
	label_permits(t)
} if constrained

else := {"on-demand"}

permits(r, t) if {
	r.operator == "In"
	t in r.values
}

permits(r, t) if {
	r.operator == "NotIn"
	not t in r.values
}

permits(r, _) if r.operator == "Exists"

# Gt/Lt and friends make no sense on a string key; they do not narrow the set here.
permits(r, _) if not r.operator in {"In", "NotIn", "Exists", "DoesNotExist"}

label_permits(_) if not has_label

label_permits(t) if karpenter.template_labels[key] == t

interruptible if karpenter.selector_matches(lib.params.interruptibleSelector, lib.labels)

interruptible if karpenter.selector_matches(lib.params.interruptibleSelector, karpenter.template_labels)

requirement_path(i) := sprintf("%s/%d", [karpenter.requirements_path, i])

label_path := concat("", ["/spec/template/metadata/labels/", lib.escape(key)])

# --- (a) unknown capacity types ---

invalid(v) if not v in known

suggestion(v) := s if {
	s := {"spot": "spot", "ondemand": "on-demand", "reserved": "reserved"}[replace(replace(lower(v), "-", ""), "_", "")]
} else := "spot, on-demand or reserved"

old_values contains v if {
	some r in lib.get(lib.get(lib.get(lib.get(input.oldObject, "spec", {}), "template", {}), "spec", {}), "requirements", [])
	r.key == key
	some v in r.values
}

old_values contains input.oldObject.spec.template.metadata.labels[key]

# Values an update keeps from the stored object are warned, not denied: denying would
# block unrelated changes to a pool that already runs.
invalid_action(v) := "warn" if {
	lib.updating
	v in old_values
} else := "deny"

violation contains v if {
	some i in capacity_requirements
	some value in karpenter.requirements[i].values
	invalid(value)
	v := {
		"msg": sprintf("NodePool %q: requirement karpenter.sh/capacity-type has the unknown value %v, which no instance offering matches", [name, json.marshal(value)]),
		"path": requirement_path(i),
		"fix": sprintf("use %s (the values are lower case: spot, on-demand, reserved)", [suggestion(value)]),
		"action": invalid_action(value),
	}
}

violation contains v if {
	applies
	value := karpenter.template_labels[key]
	invalid(value)
	v := {
		"msg": sprintf("NodePool %q: template label karpenter.sh/capacity-type has the unknown value %v, which no instance offering matches", [name, json.marshal(value)]),
		"path": label_path,
		"fix": sprintf("use %s, or replace the label by a requirement {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}", [suggestion(value)]),
		"action": invalid_action(value),
	}
}

# --- (b) Spot without on-demand fallback ---

spot_only if {
	"spot" in allowed
	not "on-demand" in allowed
}

# The requirement (or label) that leaves on-demand out, for the finding's path.
narrowing_path := requirement_path(i) if {
	some i in capacity_requirements
	not permits(karpenter.requirements[i], "on-demand")
} else := label_path

violation contains v if {
	applies
	spot_only
	not interruptible
	not name in lib.params.allowSpotOnly
	v := {
		"msg": sprintf("NodePool %q allows %s capacity but not on-demand: when Spot is short (common for GPU instances) its pods stay Pending", [name, concat(" and ", sort(allowed))]),
		"path": narrowing_path,
		"fix": "allow on-demand too (karpenter.sh/capacity-type In [spot, on-demand]): Karpenter prefers Spot and falls back to on-demand within milliseconds; for pools whose work may wait, label them interruptible (kgate.dev/interruptible: \"true\") or list them in allowSpotOnly",
		"action": "warn",
	}
}

# --- (c) interruptible pools without Spot ---

no_spot if {
	applies
	interruptible
	not "spot" in allowed
}

mutating if {
	lib.creating
	not constrained
	not missing_min_values
}

spot_requirement := {"key": key, "operator": "In", "values": ["spot", "on-demand"]}

violation contains v if {
	no_spot
	not constrained
	v := {
		"msg": sprintf("NodePool %q is interruptible but has no karpenter.sh/capacity-type requirement, so Karpenter launches on-demand capacity only", [name]),
		"path": karpenter.existing_path,
		"fix": interruptible_fix,
		"action": interruptible_action,
	}
}

violation contains v if {
	no_spot
	constrained
	v := {
		"msg": sprintf("NodePool %q is interruptible but its capacity-type constraint does not allow Spot (allowed: %s)", [name, concat(", ", sort(allowed))]),
		"path": narrowing_path_spot,
		"fix": "allow spot in the karpenter.sh/capacity-type requirement (In [spot, on-demand]): Spot costs up to 90% less for work that tolerates interruption",
		"action": "warn",
	}
}

narrowing_path_spot := requirement_path(i) if {
	some i in capacity_requirements
	not permits(karpenter.requirements[i], "spot")
} else := label_path

interruptible_action := "mutate" if mutating

else := "warn"

interruptible_fix := "add the requirement {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}" if {
	mutating
} else := "add the requirement {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]} (kgate changes NodePool templates only on creation: template changes can drift running nodes)" if {
	lib.updating
} else := "add the requirement {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]} together with minValues on an instance-family or instance-type requirement (requireMinValuesForSpot)"

patch contains op if {
	no_spot
	mutating
	op := add_requirement
}

add_requirement := {"op": "add", "path": concat("", [karpenter.requirements_path, "/-"]), "value": spot_requirement} if {
	is_array(karpenter.template_spec.requirements)
} else := {"op": "add", "path": karpenter.requirements_path, "value": [spot_requirement]}

# --- requireMinValuesForSpot ---

diversity_keys := karpenter.family_keys | karpenter.instance_type_keys

# missing_min_values: minValues are required and no instance-family or instance-type
# requirement sets them.
missing_min_values if {
	lib.params.requireMinValuesForSpot
	not has_min_values
}

has_min_values if {
	some r in karpenter.requirements
	r.key in diversity_keys
	r.minValues > 1
}

violation contains v if {
	applies
	"spot" in allowed
	missing_min_values
	v := {
		"msg": sprintf("NodePool %q allows Spot without minValues on an instance-family or instance-type requirement: Karpenter may narrow a launch to one or two Spot pools that are reclaimed together", [name]),
		"path": karpenter.existing_path,
		"fix": "set minValues (e.g. 2 or more) on the karpenter.k8s.aws/instance-family or node.kubernetes.io/instance-type requirement, with enough values to choose from",
		"action": "warn",
	}
}
