package kgate.rules.compute.nodepool_resource_limits_test

import data.kgate.lib.testing
import data.kgate.rules.compute.nodepool_resource_limits as rule

family(values) := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": values}

nodepool(requirements, limits) := object.union(
	{
		"apiVersion": "karpenter.sh/v1",
		"kind": "NodePool",
		"metadata": {"name": "gpu-inference"},
		"spec": {"template": {"spec": {
			"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
			"requirements": requirements,
		}}},
	},
	limits_of(limits),
)

limits_of(limits) := {} if limits == null

else := {"spec": {"limits": limits}}

gpu_pool(limits) := nodepool([family(["g6e"])], limits)

cpu_pool(limits) := nodepool([{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]}], limits)

violations(pool) := [v | some v in rule.violation with input as testing.review(pool)]

# The catalog's bad example: an accelerator pool without limits.
test_pool_without_limits_is_warned if {
	[v] := violations(gpu_pool(null))
	v.action == "warn"
	v.path == "/spec"
	contains(v.msg, `NodePool "gpu-inference" sets no spec.limits`)
	contains(v.msg, "accelerator pool (accelerator families g6e)")
	contains(v.fix, "nvidia.com/gpu")
	count(rule.patch) == 0 with input as testing.review(gpu_pool(null))

	[w] := violations(cpu_pool(null))
	w.action == "warn"
	not contains(w.msg, "accelerator")
}

test_empty_limits_are_no_limits if {
	[v] := violations(cpu_pool({}))
	v.path == "/spec/limits"
}

# The catalog's good example.
test_limited_pools_pass if {
	every pool in [
		gpu_pool({"cpu": "768", "memory": "6Ti", "nvidia.com/gpu": "64"}),
		gpu_pool({"nodes": "8"}),
		nodepool([family(["trn2"])], {"aws.amazon.com/neuron": "64"}),
		cpu_pool({"cpu": "1000", "memory": "4000Gi"}),
	] {
		rule.applies with input as testing.review(pool)
		count(rule.violation) == 0 with input as testing.review(pool)
	}
}

test_accelerator_pool_needs_an_accelerator_limit if {
	[v] := violations(gpu_pool({"cpu": "768", "memory": "6Ti"}))
	v.action == "warn"
	v.path == "/spec/limits"
	contains(v.msg, "whose limits (cpu, memory) do not bound its accelerators or nodes")

	# Edge: limits count node capacity, not requests; the fix says so.
	contains(v.fix, "not pod requests")
}

test_require_gpu_limit_denies_accelerator_pools if {
	params := {"requireGpuLimit": true}
	[v] := [v | some v in rule.violation with input as testing.review_with(gpu_pool({"cpu": "768"}), params)]
	v.action == "deny"
	[w] := [w | some w in rule.violation with input as testing.review_with(gpu_pool(null), params)]
	w.action == "deny"

	# CPU pools stay at warn
	[x] := [x | some x in rule.violation with input as testing.review_with(cpu_pool(null), params)]
	x.action == "warn"
}

test_accelerator_pool_by_selector if {
	pool := json.patch(cpu_pool({"cpu": "100"}), [{"op": "add", "path": "/metadata/labels", "value": {"kgate.dev/pool-type": "gpu"}}])
	[v] := violations(pool)
	contains(v.msg, "NodePool labels match acceleratorPoolSelector")
}

defaults := {"defaultLimits": {"cpu": "1000", "memory": "4000Gi"}}

test_default_limits_are_added_on_create if {
	pool := cpu_pool(null)
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, defaults)]
	v.action == "mutate"
	rule.patch == {{"op": "add", "path": "/spec/limits", "value": {"cpu": "1000", "memory": "4000Gi"}}} with input as testing.review_with(pool, defaults)
}

test_default_limits_patch_is_idempotent if {
	every c in [[cpu_pool(null), defaults], [cpu_pool({}), defaults], [gpu_pool(null), {"defaultLimits": {"nvidia.com/gpu": "16"}}]] {
		ops := [op | some op in rule.patch with input as testing.review_with(c[0], c[1])]
		count(ops) == 1
		patched := testing.apply(c[0], ops)
		count(rule.violation) == 0 with input as testing.review_with(patched, c[1])
		count(rule.patch) == 0 with input as testing.review_with(patched, c[1])
	}
}

# Defaults without an accelerator or nodes limit would not fix an accelerator pool.
test_default_limits_not_added_when_insufficient if {
	[v] := [v | some v in rule.violation with input as testing.review_with(gpu_pool(null), defaults)]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review_with(gpu_pool(null), defaults)
}

# Existing pools are never changed.
test_update_is_not_mutated if {
	pool := cpu_pool(null)
	update := object.union(testing.review_update(pool, pool), {"params": object.union(data.kgate.defaults, defaults)})
	[v] := [v | some v in rule.violation with input as update]
	v.action == "warn"
	count(rule.patch) == 0 with input as update
}

static_pool(limits) := json.patch(gpu_pool(limits), [{"op": "add", "path": "/spec/replicas", "value": 4}])

# Edge: static pools are bounded by replicas and accept only limits.nodes (CEL).
test_static_pools if {
	every pool in [static_pool(null), static_pool({"nodes": "4"})] {
		rule.applies with input as testing.review(pool)
		count(rule.violation) == 0 with input as testing.review(pool)
	}
	[v] := violations(static_pool({"nodes": "4", "nvidia.com/gpu": "32"}))
	v.action == "deny"
	v.path == "/spec/limits/nvidia.com~1gpu"
	contains(v.msg, "only limits.nodes")
	count(rule.patch) == 0 with input as testing.review_with(static_pool(null), defaults)
}

test_v1beta1_not_in_scope if {
	pool := json.patch(cpu_pool(null), [{"op": "replace", "path": "/apiVersion", "value": "karpenter.sh/v1beta1"}])
	not rule.applies with input as testing.review(pool)
	count(rule.violation) == 0 with input as testing.review(pool)
}
