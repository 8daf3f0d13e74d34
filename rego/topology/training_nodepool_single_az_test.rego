package kgate.rules.topology.training_nodepool_single_az_test

import data.kgate.lib.testing
import data.kgate.rules.topology.training_nodepool_single_az as rule

family(values) := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": values}

capacity := {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand", "reserved"]}

zone(operator, values) := {"key": "topology.kubernetes.io/zone", "operator": operator, "values": values}

nodepool(labels, template_labels, requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": "training-p5", "labels": labels},
	"spec": {"template": {
		"metadata": {"labels": template_labels},
		"spec": {
			"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "p5-efa"},
			"requirements": requirements,
		},
	}},
}

# The catalog's bad example.
p5 := nodepool({"kgate.dev/pool-type": "training"}, {"vpc.amazonaws.com/efa.present": "true"}, [family(["p5"]), capacity])

node_class(spec, status) := {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "p5-efa"}, "spec": spec, "status": status}

tagged_class := node_class({"subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "genai"}}]}, {})

# A warm inventory that does not pin one AZ.
inv := {"cluster": {"EC2NodeClass": {"p5-efa": tagged_class}}}

zone_default := {"defaultTrainingZone": "us-west-2a"}

test_training_pool_without_zone_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(p5) with data.inventory as inv]
	v.action == "deny"
	v.path == "/spec/template/spec/requirements"
	contains(v.msg, `"training-p5"`)
	contains(v.msg, "training instance families p5")
	contains(v.fix, "topology.kubernetes.io/zone")
	count(rule.patch) == 0 with input as testing.review(p5) with data.inventory as inv
}

test_single_zone_passes if {
	every pool in [
		nodepool({}, {}, [family(["p5"]), zone("In", ["us-west-2a"])]),
		nodepool({}, {}, [family(["p5"]), {"key": "topology.k8s.aws/zone-id", "operator": "In", "values": ["usw2-az1"]}]),
		# template labels are requirements too
		nodepool({}, {"topology.kubernetes.io/zone": "us-west-2a"}, [family(["p5"])]),
		# a further zone requirement can only narrow a single zone
		nodepool({}, {}, [family(["p5"]), zone("In", ["us-west-2a"]), {"key": "topology.k8s.aws/zone-id", "operator": "NotIn", "values": ["usw2-az4"]}]),
	] {
		rule.applies with input as testing.review(pool) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(pool) with data.inventory as inv
	}
}

test_multi_zone_requirements_are_denied if {
	every r in [
		zone("In", ["us-west-2a", "us-west-2b"]),
		zone("NotIn", ["us-west-2d"]),
		{"key": "topology.kubernetes.io/zone", "operator": "Exists"},
		{"key": "topology.k8s.aws/zone-id", "operator": "DoesNotExist"},
	] {
		pool := nodepool({}, {}, [family(["p5"]), capacity, r])
		[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as inv]
		v.action == "deny"
		v.path == "/spec/template/spec/requirements/2"
		contains(v.msg, r.operator)
	}
}

test_training_pool_selection if {
	every pool in [
		nodepool({"kgate.dev/pool-type": "training"}, {}, [capacity]),
		nodepool({"kgate.dev/pool-type": "efa"}, {}, [capacity]),
		nodepool({}, {"kgate.dev/pool-type": "training"}, [capacity]),
		nodepool({}, {"vpc.amazonaws.com/efa.present": "true"}, [capacity]),
		nodepool({}, {}, [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]}]),
		nodepool({}, {}, [{"key": "eks.amazonaws.com/instance-family", "operator": "In", "values": ["trn2"]}]),
		# mixed pool with a training family (edge)
		nodepool({}, {}, [family(["g6e", "p5en"])]),
	] {
		rule.applies with input as testing.review(pool) with data.inventory as inv
		count(rule.violation) == 1 with input as testing.review(pool) with data.inventory as inv
	}
}

test_other_pools_not_in_scope if {
	every pool in [
		nodepool({}, {}, [family(["g5", "g6", "g6e"])]),
		nodepool({}, {}, [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p3.8xlarge", "g4dn.xlarge"]}]),
		nodepool({}, {}, [{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g", "p"]}]),
		nodepool({"kgate.dev/pool-type": "inference"}, {"vpc.amazonaws.com/efa.present": "false"}, [capacity]),
		# NotIn does not select the family
		nodepool({}, {}, [{"key": "karpenter.k8s.aws/instance-family", "operator": "NotIn", "values": ["p5"]}]),
		# no family restriction at all (edge)
		nodepool({}, {}, [capacity]),
	] {
		not rule.applies with input as testing.review(pool) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(pool) with data.inventory as inv
	}
}

# v1beta1 NodePools (Karpenter < 1.0) have another schema and are not evaluated.
test_v1beta1_not_in_scope if {
	pool := json.patch(p5, [{"op": "replace", "path": "/apiVersion", "value": "karpenter.sh/v1beta1"}])
	not rule.applies with input as testing.review(pool) with data.inventory as inv
}

test_training_pool_selector_param if {
	pool := nodepool({"team": "research"}, {}, [capacity])
	rule.applies with input as with_selector(pool, {"matchLabels": {"team": "research"}}) with data.inventory as inv
	not rule.applies with input as testing.review(pool) with data.inventory as inv

	# an empty selector selects no pool by label
	not rule.applies with input as with_selector(nodepool({"kgate.dev/pool-type": "training"}, {}, [capacity]), {}) with data.inventory as inv
}

# review_with merges parameter maps; a selector has to replace the default.
with_selector(pool, selector) := json.patch(testing.review(pool), [{"op": "replace", "path": "/params/trainingPoolSelector", "value": selector}])

test_single_az_node_class_is_accepted if {
	every nc in [
		node_class({"subnetSelectorTerms": [{"id": "subnet-0123456789abcdef0"}]}, {}),
		node_class({"subnetSelectorTerms": [{"tags": {"training": "true"}}]}, {"subnets": [{"id": "subnet-1", "zone": "us-west-2a", "zoneID": "usw2-az2"}, {"id": "subnet-2", "zone": "us-west-2a", "zoneID": "usw2-az2"}]}),
	] {
		count(rule.violation) == 0 with input as testing.review(p5) with data.inventory as {"cluster": {"EC2NodeClass": {"p5-efa": nc}}}
		count(rule.violation) == 1 with input as testing.review_with(p5, {"acceptSingleSubnetNodeClass": false}) with data.inventory as {"cluster": {"EC2NodeClass": {"p5-efa": nc}}}
	}
	multi := node_class({"subnetSelectorTerms": [{"id": "subnet-1"}, {"id": "subnet-2"}]}, {"subnets": [{"id": "subnet-1", "zone": "us-west-2a"}, {"id": "subnet-2", "zone": "us-west-2b"}]})
	count(rule.violation) == 1 with input as testing.review(p5) with data.inventory as {"cluster": {"EC2NodeClass": {"p5-efa": multi}}}
}

# The zone requirement alone decides: with no EC2NodeClass known (an offline check
# of NodePools only, or a cold cache) a multi-zone training pool is still denied, and
# the fix names the single-subnet EC2NodeClass alternative.
test_unknown_node_class_still_denies if {
	[v] := [v | some v in rule.violation with input as testing.review(p5) with data.inventory as {}]
	v.action == "deny"
	contains(v.fix, "EC2NodeClass p5-efa")
}

test_default_zone_is_added_on_create if {
	[v] := [v | some v in rule.violation with input as testing.review_with(p5, zone_default) with data.inventory as inv]
	v.action == "mutate"
	rule.patch == {{"op": "add", "path": "/spec/template/spec/requirements/-", "value": zone("In", ["us-west-2a"])}} with input as testing.review_with(p5, zone_default) with data.inventory as inv
}

test_patched_pools_pass if {
	no_requirements := json.patch(p5, [{"op": "remove", "path": "/spec/template/spec/requirements"}])
	every c in [[p5, zone_default], [p5, {"defaultTrainingZone": "usw2-az1"}], [no_requirements, zone_default]] {
		patched := testing.apply(c[0], [op | some op in rule.patch with input as testing.review_with(c[0], c[1]) with data.inventory as inv])
		rule.applies with input as testing.review_with(patched, c[1]) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review_with(patched, c[1]) with data.inventory as inv
		count(rule.patch) == 0 with input as testing.review_with(patched, c[1]) with data.inventory as inv
	}
}

test_default_zone_id_uses_zone_id_key if {
	rule.patch == {{"op": "add", "path": "/spec/template/spec/requirements/-", "value": {"key": "topology.k8s.aws/zone-id", "operator": "In", "values": ["usw2-az1"]}}} with input as testing.review_with(p5, {"defaultTrainingZone": "usw2-az1"}) with data.inventory as inv
}

# An explicit multi-zone choice is not overridden.
test_default_zone_does_not_replace_a_zone_requirement if {
	pool := nodepool({}, {}, [family(["p5"]), zone("In", ["us-west-2a", "us-west-2b"])])
	[v] := [v | some v in rule.violation with input as testing.review_with(pool, zone_default) with data.inventory as inv]
	v.action == "deny"
	count(rule.patch) == 0 with input as testing.review_with(pool, zone_default) with data.inventory as inv
}

# A new zone requirement on UPDATE would drift running nodes: deny, never mutate.
test_update_is_denied_without_patch if {
	update := object.union(testing.review_update(p5, p5), {"params": zone_default})
	[v] := [v | some v in rule.violation with input as update with data.inventory as inv]
	v.action == "deny"
	count(rule.patch) == 0 with input as update with data.inventory as inv
}
