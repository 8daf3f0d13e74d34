package kgate.rules.compute.nodepool_spot_ondemand_fallback_test

import data.kgate.lib.testing
import data.kgate.rules.compute.nodepool_spot_ondemand_fallback as rule

capacity(operator, values) := {"key": "karpenter.sh/capacity-type", "operator": operator, "values": values}

family(values) := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": values}

diverse_family := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g6e", "g6", "g5"], "minValues": 2}

nodepool(name, labels, requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": name, "labels": labels},
	"spec": {"template": {"spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
		"requirements": requirements,
	}}},
}

interruptible := {"kgate.dev/interruptible": "true"}

spot_requirement := {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}

findings(pool) := [v | some v in rule.violation with input as testing.review(pool)]

# The catalog's bad example: Spot only, no fallback.
test_spot_only_pool_is_warned if {
	pool := nodepool("inference-gpu", {}, [capacity("In", ["spot"]), family(["g6e"])])
	[v] := findings(pool)
	v.action == "warn"
	v.path == "/spec/template/spec/requirements/0"
	contains(v.msg, `NodePool "inference-gpu" allows spot capacity but not on-demand`)
	contains(v.fix, "In [spot, on-demand]")
	count(rule.patch) == 0 with input as testing.review(pool)
}

# The catalog's good example.
test_spot_with_on_demand_fallback_passes if {
	pool := nodepool("inference-gpu", {}, [capacity("In", ["spot", "on-demand"]), diverse_family])
	rule.applies with input as testing.review(pool)
	count(findings(pool)) == 0
}

test_other_spot_only_shapes_are_warned if {
	every tc in [
		[[capacity("NotIn", ["on-demand", "reserved"])], "allows spot capacity"],
		[[capacity("In", ["spot", "reserved"])], "allows reserved and spot capacity"],
		[[capacity("Exists", []), capacity("NotIn", ["on-demand"])], "allows reserved and spot capacity"],
	] {
		[v] := findings(nodepool("batch", {}, tc[0]))
		v.action == "warn"
		contains(v.msg, tc[1])
	}
	label_pool := json.patch(nodepool("batch", {}, [family(["c7g"])]), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"karpenter.sh/capacity-type": "spot"}}}])
	[v] := findings(label_pool)
	v.path == "/spec/template/metadata/labels/karpenter.sh~1capacity-type"
}

test_spot_only_allowed_for_interruptible_and_listed_pools if {
	pool := nodepool("ci-runners", interruptible, [capacity("In", ["spot"])])
	rule.applies with input as testing.review(pool)
	count(findings(pool)) == 0
	listed := nodepool("ci-runners", {}, [capacity("In", ["spot"])])
	count([v | some v in rule.violation with input as testing.review_with(listed, {"allowSpotOnly": ["ci-runners"]})]) == 0
}

# (a) values Karpenter does not know are denied.
test_unknown_values_are_denied if {
	every tc in [["SPOT", "use spot"], ["ondemand", "use on-demand"], ["On_Demand", "use on-demand"], ["preemptible", "use spot, on-demand or reserved"]] {
		pool := nodepool("general", {}, [capacity("In", ["spot", tc[0]])])
		[v] := [v | some v in findings(pool); v.action == "deny"]
		v.path == "/spec/template/spec/requirements/0"
		contains(v.msg, sprintf("unknown value %q", [tc[0]]))
		startswith(v.fix, tc[1])
	}
}

test_unknown_label_value_is_denied if {
	pool := json.patch(nodepool("general", {}, []), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"karpenter.sh/capacity-type": "Spot"}}}])
	[v] := [v | some v in findings(pool); v.action == "deny"]
	v.path == "/spec/template/metadata/labels/karpenter.sh~1capacity-type"
	startswith(v.fix, "use spot")
}

test_unknown_values_on_update if {
	old := nodepool("general", {}, [capacity("In", ["SPOT", "on-demand"])])

	# kept from the stored object: warned, so unrelated updates go through
	new := json.patch(old, [{"op": "add", "path": "/metadata/labels", "value": {"team": "ml"}}])
	[kept] := [v | some v in rule.violation with input as testing.review_update(new, old)]
	kept.action == "warn"

	# introduced by the update: denied
	worse := nodepool("general", {}, [capacity("In", ["SPOT", "ondemand"])])
	actions := {v.msg: v.action | some v in rule.violation with input as testing.review_update(worse, old)}
	actions["NodePool \"general\": requirement karpenter.sh/capacity-type has the unknown value \"ondemand\", which no instance offering matches"] == "deny"
	actions["NodePool \"general\": requirement karpenter.sh/capacity-type has the unknown value \"SPOT\", which no instance offering matches"] == "warn"
}

# (c) interruptible pool without a capacity-type requirement: mutated on CREATE.
test_interruptible_pool_without_capacity_type_gets_spot if {
	pool := nodepool("batch", interruptible, [family(["c7g", "m7g"])])
	[v] := findings(pool)
	v.action == "mutate"
	v.path == "/spec/template/spec/requirements"
	contains(v.msg, "launches on-demand capacity only")
	ops := rule.patch with input as testing.review(pool)
	ops == {{"op": "add", "path": "/spec/template/spec/requirements/-", "value": spot_requirement}}
	patched := testing.apply(pool, ops)
	count(findings(patched)) == 0
	count(rule.patch) == 0 with input as testing.review(patched)
}

test_interruptible_template_label_and_missing_requirements if {
	pool := json.patch(nodepool("batch", {}, []), [
		{"op": "remove", "path": "/spec/template/spec/requirements"},
		{"op": "add", "path": "/spec/template/metadata", "value": {"labels": interruptible}},
	])
	ops := rule.patch with input as testing.review(pool)
	ops == {{"op": "add", "path": "/spec/template/spec/requirements", "value": [spot_requirement]}}
	patched := testing.apply(pool, ops)
	count(findings(patched)) == 0
	count(rule.patch) == 0 with input as testing.review(patched)
}

# NodePool template changes drift nodes: UPDATE is only warned.
test_interruptible_pool_update_is_warned if {
	pool := nodepool("batch", interruptible, [family(["c7g"])])
	[v] := [v | some v in rule.violation with input as testing.review_update(pool, pool)]
	v.action == "warn"
	contains(v.fix, "only on creation")
	count(rule.patch) == 0 with input as testing.review_update(pool, pool)
}

test_interruptible_pool_excluding_spot_is_warned if {
	pool := nodepool("batch", interruptible, [family(["c7g"]), capacity("In", ["on-demand"])])
	[v] := findings(pool)
	v.action == "warn"
	v.path == "/spec/template/spec/requirements/1"
	contains(v.msg, "does not allow Spot (allowed: on-demand)")
	count(rule.patch) == 0 with input as testing.review(pool)
}

# Edge case: an omitted capacity-type requirement means on-demand, not Spot.
test_no_capacity_requirement_is_on_demand if {
	pool := nodepool("general", {}, [family(["m7i"])])
	rule.applies with input as testing.review(pool)
	count(findings(pool)) == 0
	rule.allowed == {"on-demand"} with input as testing.review(pool)
}

# Edge case: reserved is ODCR / Capacity Blocks; a pool of reserved capacity has no
# Spot and needs no fallback warning.
test_reserved_capacity_pools_pass if {
	every values in [["reserved"], ["reserved", "on-demand"], ["reserved", "spot", "on-demand"]] {
		pool := nodepool("training-p5", {}, [capacity("In", values), family(["p5"])])
		count(findings(pool)) == 0
	}
}

# Edge case: EKS Auto Mode NodePools use the same key.
test_auto_mode_nodepool if {
	pool := json.patch(
		nodepool("gpu-auto", {}, [capacity("In", ["spot"]), {"key": "eks.amazonaws.com/instance-family", "operator": "In", "values": ["g6e"]}]),
		[{"op": "replace", "path": "/spec/template/spec/nodeClassRef", "value": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}}],
	)
	[v] := findings(pool)
	v.action == "warn"
}

test_v1beta1_nodepool_not_in_scope if {
	pool := json.patch(nodepool("old", {}, [capacity("In", ["SPOT"])]), [{"op": "replace", "path": "/apiVersion", "value": "karpenter.sh/v1beta1"}])
	not rule.applies with input as testing.review(pool)
	count(findings(pool)) == 0
}

# requireMinValuesForSpot (off by default): Spot pools need instance diversity.
test_min_values_for_spot if {
	params := {"requireMinValuesForSpot": true}
	pool := nodepool("inference-gpu", {}, [capacity("In", ["spot", "on-demand"]), family(["g6e", "g6"])])
	count(findings(pool)) == 0
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, params)]
	v.action == "warn"
	contains(v.msg, "without minValues")
	good := nodepool("inference-gpu", {}, [capacity("In", ["spot", "on-demand"]), diverse_family])
	count([v | some v in rule.violation with input as testing.review_with(good, params)]) == 0
	type_min := nodepool("inference-gpu", {}, [capacity("In", ["spot", "on-demand"]), {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g6e.xlarge", "g6.xlarge"], "minValues": 2}])
	count([v | some v in rule.violation with input as testing.review_with(type_min, params)]) == 0
	on_demand := nodepool("general", {}, [family(["m7i"])])
	count([v | some v in rule.violation with input as testing.review_with(on_demand, params)]) == 0
}

# With requireMinValuesForSpot, the interruptible mutation would leave a finding: the
# pool is warned instead, so every patch stays idempotent.
test_min_values_required_interruptible_pool_is_warned if {
	params := {"requireMinValuesForSpot": true}
	pool := nodepool("batch", interruptible, [family(["c7g"])])
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, params)]
	v.action == "warn"
	contains(v.fix, "minValues")
	count(rule.patch) == 0 with input as testing.review_with(pool, params)
	diverse := nodepool("batch", interruptible, [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["c7g", "m7g"], "minValues": 2}])
	ops := rule.patch with input as testing.review_with(diverse, params)
	count(ops) == 1
	patched := testing.apply(diverse, ops)
	count([v | some v in rule.violation with input as testing.review_with(patched, params)]) == 0
}
