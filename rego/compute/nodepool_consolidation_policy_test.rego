package kgate.rules.compute.nodepool_consolidation_policy_test

import data.kgate.lib.testing
import data.kgate.rules.compute.nodepool_consolidation_policy as rule

family(values) := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": values}

nodepool(name, labels, requirements, disruption) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": name, "labels": labels},
	"spec": object.union(
		{"template": {"spec": {
			"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
			"requirements": requirements,
		}}},
		disruption_of(disruption),
	),
}

disruption_of(d) := {} if d == null

else := {"disruption": d}

training(d) := nodepool("training-p5", {"kgate.dev/pool-type": "training"}, [family(["p5"])], d)

inference(d) := nodepool("inference-gpu", {}, [family(["g6e"])], d)

violations(pool) := [v | some v in rule.violation with input as testing.review(pool)]

# The catalog's bad example (training pool).
test_training_pool_consolidating_underutilized_is_warned if {
	[v] := violations(training({"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s"}))
	v.action == "warn"
	v.path == "/spec/disruption/consolidationPolicy"
	contains(v.msg, `NodePool "training-p5" is a training pool`)
	contains(v.msg, "WhenEmptyOrUnderutilized")
	contains(v.fix, "karpenter.sh/do-not-disrupt")
}

# Karpenter's defaults (WhenEmptyOrUnderutilized, 0s) count.
test_training_pool_defaults_are_warned if {
	[v] := violations(training(null))
	v.path == "/spec"
	[w] := violations(training({"budgets": [{"nodes": "10%"}]}))
	w.path == "/spec/disruption"
}

test_training_pool_balanced_is_warned if {
	[v] := violations(training({"consolidationPolicy": "Balanced", "consolidateAfter": "5m"}))
	contains(v.msg, "consolidationPolicy Balanced")
}

# The catalog's good example (training pool), and budgets that stop Underutilized.
test_training_pool_passes if {
	every d in [
		{"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m", "budgets": [{"nodes": "0", "reasons": ["Underutilized", "Drifted"]}, {"nodes": "10%"}]},
		{"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m"},
		{"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m", "budgets": [{"nodes": "0", "reasons": ["Underutilized"]}]},
		{"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m", "budgets": [{"nodes": "0"}]},
	] {
		pool := training(d)
		rule.applies with input as testing.review(pool)
		count(rule.violation) == 0 with input as testing.review(pool)
	}
}

# Budgets that do not stop Underutilized disruption all the time.
test_training_pool_weak_budgets_are_warned if {
	every budgets in [
		[{"nodes": "0", "reasons": ["Drifted"]}],
		[{"nodes": "1", "reasons": ["Underutilized"]}],
		[{"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h"}],
	] {
		[v] := violations(training({"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s", "budgets": budgets}))
		contains(v.msg, "no budget that stops Underutilized disruption")
	}
}

# Training pools are selected like TOPO-002 selects them: by label, EFA label or family.
test_training_pool_selection if {
	by_family := nodepool("p5-pool", {}, [family(["p5en"])], null)
	[v] := violations(by_family)
	contains(v.msg, "training instance families p5en")
	by_efa := json.patch(inference(null), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"vpc.amazonaws.com/efa.present": "true"}}}])
	count(violations(by_efa)) == 1
}

test_inference_pool_when_empty_is_warned if {
	[v] := violations(inference({"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s"}))
	v.action == "warn"
	v.path == "/spec/disruption/consolidationPolicy"
	contains(v.msg, "keeps half-empty nodes")
}

test_never_is_warned if {
	[v] := violations(inference({"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "Never"}))
	v.path == "/spec/disruption/consolidateAfter"
	contains(v.msg, "consolidateAfter: Never")

	# WhenEmpty with Never is one finding, about Never
	[w] := violations(inference({"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"}))
	contains(w.msg, "Never")

	# training pools keep idle accelerator nodes with Never
	[x] := violations(training({"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"}))
	contains(x.fix, "10m")
}

test_inference_pool_passes if {
	every d in [
		null,
		{"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
		{"consolidationPolicy": "Balanced", "consolidateAfter": "0s"},
	] {
		pool := inference(d)
		rule.applies with input as testing.review(pool)
		count(rule.violation) == 0 with input as testing.review(pool)
	}
}

test_allow_never_for if {
	params := {"allowNeverFor": ["inference-gpu"]}
	every d in [{"consolidationPolicy": "WhenEmpty", "consolidateAfter": "1m"}, {"consolidateAfter": "Never"}] {
		count(rule.violation) == 0 with input as testing.review_with(inference(d), params)
	}
}

# Reserved capacity (ODCR, Capacity Blocks) is paid whether nodes run or not.
test_reserved_pools_may_keep_idle_nodes if {
	reserved := {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]}
	pool := nodepool("cb-p5e", {}, [reserved, family(["g6e"])], {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"})
	count(rule.violation) == 0 with input as testing.review(pool)
}

# Edge: Balanced needs Karpenter >= 1.14.
test_balanced_needs_karpenter_1_14 if {
	pool := inference({"consolidationPolicy": "Balanced", "consolidateAfter": "0s"})
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, {"karpenterVersion": "1.13.2"})]
	v.action == "deny"
	contains(v.msg, "Karpenter 1.13.2")
	every version in ["1.14", "v1.14.0", "1.15.1", "2.0"] {
		count(rule.violation) == 0 with input as testing.review_with(pool, {"karpenterVersion": version})
	}
}

# Edge: terminationGracePeriod overrides do-not-disrupt on training pools.
test_training_pool_termination_grace_period_is_warned if {
	d := {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m"}
	pool := json.patch(training(d), [{"op": "add", "path": "/spec/template/spec/terminationGracePeriod", "value": "48h"}])
	[v] := violations(pool)
	v.path == "/spec/template/spec/terminationGracePeriod"
	contains(v.msg, "after 48h even with karpenter.sh/do-not-disrupt")

	# not reported on inference pools
	other := json.patch(inference(null), [{"op": "add", "path": "/spec/template/spec/terminationGracePeriod", "value": "48h"}])
	count(violations(other)) == 0
}

# Static pools ignore consolidation settings.
test_static_pools_not_in_scope if {
	pool := json.patch(training(null), [{"op": "add", "path": "/spec/replicas", "value": 4}])
	not rule.applies with input as testing.review(pool)
	count(rule.violation) == 0 with input as testing.review(pool)
}

# The rule has no patch; on UPDATE it warns as on CREATE.
test_update_is_warned if {
	pool := training(null)
	[v] := [v | some v in rule.violation with input as testing.review_update(pool, pool)]
	v.action == "warn"
}
