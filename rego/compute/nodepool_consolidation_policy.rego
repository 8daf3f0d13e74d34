# METADATA
# title: NodePool consolidation matches the pool's workloads
# description: |
#   Consolidation is how Karpenter turns right-sized requests into fewer, cheaper nodes.
#   Inference and CPU pools (every karpenter.sh/v1 NodePool that is not a training/EFA
#   pool, see trainingPoolSelector) should consolidate underutilized nodes: a pool with
#   consolidationPolicy WhenEmpty keeps half-empty nodes, and consolidateAfter Never keeps
#   even empty ones. Training pools need the opposite: WhenEmptyOrUnderutilized (the
#   default) or Balanced evicts training pods to repack nodes, restarting multi-day jobs,
#   unless an always-active budget {nodes: "0"} covers the Underutilized reason (or every
#   training pod carries karpenter.sh/do-not-disrupt, which this NodePool rule cannot
#   see); Never keeps idle accelerator nodes. A training pool's
#   template.spec.terminationGracePeriod is reported too: once reached on an expiring or
#   drifted node it evicts pods despite karpenter.sh/do-not-disrupt. Pools in
#   allowNeverFor and pools restricted to reserved capacity (already paid for) may keep
#   idle nodes. Balanced needs Karpenter 1.14 (karpenterVersion): denied on older
#   controllers. Everything else is warned and never mutated: changing the policy changes
#   who gets evicted. Static pools (spec.replicas) ignore these fields and are not
#   evaluated.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-009
# custom:
#   id: COMPUTE-009
#   severity: medium
#   kinds: [NodePool]
#   default_action: warn
#   why: |
#     Right-sized requests only save money if Karpenter then packs pods onto fewer nodes
#     and removes the rest; a pool that never consolidates keeps paying for idle or
#     half-empty instances. Training pools are the exception: consolidating them evicts a
#     training pod to save one node and restarts a job that may have run for days on
#     GPUs costing tens of dollars an hour, so they should only remove empty nodes.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: training-p5, labels: {kgate.dev/pool-type: training}}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: p5-efa}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["p5"]}
#         disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 0s}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: training-p5, labels: {kgate.dev/pool-type: training}}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: p5-efa}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["p5"]}
#         disruption:
#           consolidationPolicy: WhenEmpty
#           consolidateAfter: 10m
#           budgets:
#           - nodes: "0"
#             reasons: ["Underutilized", "Drifted"]
#           - nodes: "10%"
#   params:
#     allowNeverFor: []
#     karpenterVersion: "1.14"
#   schema:
#     allowNeverFor: {type: array, items: {type: string}, description: "NodePools that may keep idle or underutilized nodes (consolidateAfter Never, or WhenEmpty on a non-training pool)"}
#     karpenterVersion: {type: string, pattern: "^v?[0-9]+[.][0-9]+([.][0-9]+)?$", description: "Karpenter controller version of the cluster (gates consolidationPolicy Balanced, v1.14+)"}
package kgate.rules.compute.nodepool_consolidation_policy

import data.kgate.lib
import data.kgate.lib.karpenter

# Static pools ignore consolidationPolicy and consolidateAfter.
applies if {
	karpenter.nodepool
	lib.get(spec, "replicas", null) == null
}

name := lib.obj.metadata.name

spec := lib.get(lib.obj, "spec", {})

disruption := lib.get(spec, "disruption", {})

# Karpenter's defaults.
policy := lib.get(disruption, "consolidationPolicy", "WhenEmptyOrUnderutilized")

after := lib.get(disruption, "consolidateAfter", "0s")

budgets := lib.get(disruption, "budgets", [])

training if karpenter.training_pool

field_path(field) := concat("/", ["/spec/disruption", field]) if {
	field in object.keys(disruption)
} else := "/spec/disruption" if {
	"disruption" in object.keys(spec)
} else := "/spec"

# idle_allowed: pools that may keep idle nodes: listed in allowNeverFor, or restricted
# to reserved capacity (ODCR/Capacity Blocks are paid whether nodes run or not).
idle_allowed if name in lib.params.allowNeverFor

idle_allowed if {
	some r in karpenter.requirements
	r.key == "karpenter.sh/capacity-type"
	r.operator == "In"
	count(r.values) > 0
	every v in r.values {
		v == "reserved"
	}
}

# --- idle capacity ---

violation contains v if {
	applies
	after == "Never"
	not idle_allowed
	v := {
		"msg": sprintf("NodePool %q sets consolidateAfter: Never: Karpenter never removes its empty or underutilized nodes, which stay billed until they expire", [name]),
		"path": field_path("consolidateAfter"),
		"fix": sprintf("set consolidateAfter to a duration (e.g. %s), or list the pool in allowNeverFor if it must keep warm capacity", [suggested_after]),
		"action": "warn",
	}
}

suggested_after := "10m" if training

else := "1m"

violation contains v if {
	applies
	not training
	policy == "WhenEmpty"
	after != "Never"
	not idle_allowed
	v := {
		"msg": sprintf("NodePool %q (not a training pool) sets consolidationPolicy: WhenEmpty: Karpenter keeps half-empty nodes instead of packing their pods onto fewer, cheaper ones", [name]),
		"path": field_path("consolidationPolicy"),
		"fix": "set consolidationPolicy: WhenEmptyOrUnderutilized (or Balanced on Karpenter >= 1.14), or list the pool in allowNeverFor",
		"action": "warn",
	}
}

# --- training pools ---

consolidates_underutilized if {
	policy in {"WhenEmptyOrUnderutilized", "Balanced"}
	after != "Never"
}

# underutilized_blocked: an always-active budget allows no node to be disrupted for the
# Underutilized reason (a budget without reasons applies to every reason).
underutilized_blocked if {
	some b in budgets
	lib.get(b, "nodes", "10%") in {"0", "0%"}
	lib.get(b, "schedule", null) == null
	reasons := lib.get(b, "reasons", [])
	budget_covers_underutilized(reasons)
}

budget_covers_underutilized(reasons) if count(reasons) == 0

budget_covers_underutilized(reasons) if "Underutilized" in reasons

violation contains v if {
	applies
	training
	consolidates_underutilized
	not underutilized_blocked
	v := {
		"msg": sprintf("NodePool %q is a training pool (%s) with consolidationPolicy %s and no budget that stops Underutilized disruption: consolidation evicts training pods to repack nodes and restarts their jobs", [name, concat("; ", sort(karpenter.training_reasons)), policy]),
		"path": field_path("consolidationPolicy"),
		"fix": `set consolidationPolicy: WhenEmpty, or add the budget {nodes: "0", reasons: [Underutilized]}; also annotate long-running training pods with karpenter.sh/do-not-disrupt: "true"`,
		"action": "warn",
	}
}

violation contains v if {
	applies
	training
	tgp := karpenter.template_spec.terminationGracePeriod
	tgp != null
	v := {
		"msg": sprintf("NodePool %q is a training pool with terminationGracePeriod %s: when a node expires or drifts, its training pods are evicted after %s even with karpenter.sh/do-not-disrupt", [name, tgp, tgp]),
		"path": "/spec/template/spec/terminationGracePeriod",
		"fix": "remove terminationGracePeriod from training pools, or make it longer than the longest training run and checkpoint before it",
		"action": "warn",
	}
}

# --- version gate ---

version_parts := [to_number(p) | some p in array.slice(split(trim_prefix(lib.params.karpenterVersion, "v"), "."), 0, 2)]

balanced_supported if version_parts[0] > 1

balanced_supported if {
	version_parts[0] == 1
	version_parts[1] >= 14
}

violation contains v if {
	applies
	policy == "Balanced"
	not balanced_supported
	v := {
		"msg": sprintf("NodePool %q sets consolidationPolicy: Balanced, which Karpenter %s does not support (added in v1.14.0)", [name, lib.params.karpenterVersion]),
		"path": field_path("consolidationPolicy"),
		"fix": "use WhenEmptyOrUnderutilized or WhenEmpty, or upgrade Karpenter to v1.14 or later (then set karpenterVersion)",
		"action": "deny",
	}
}
