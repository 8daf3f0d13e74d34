package kgate.rules.topology.nodepool_zone_allowlist_test

import data.kgate.lib.testing
import data.kgate.rules.topology.nodepool_zone_allowlist as rule

zone(operator, values) := {"key": "topology.kubernetes.io/zone", "operator": operator, "values": values}

zone_id(operator, values) := {"key": "topology.k8s.aws/zone-id", "operator": operator, "values": values}

capacity := {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}

nodepool(template_labels, requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": "batch-cpu"},
	"spec": {"template": {
		"metadata": {"labels": template_labels},
		"spec": {
			"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
			"requirements": requirements,
		},
	}},
}

subnet(id, z, zid) := {"id": id, "zone": z, "zoneID": zid}

node_class(subnets) := {
	"apiVersion": "karpenter.k8s.aws/v1",
	"kind": "EC2NodeClass",
	"metadata": {"name": "default"},
	"spec": {"subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "genai"}}]},
	"status": {"subnets": subnets},
}

# The cluster's subnets span four zones; only a, b and c are allowed.
four_zones := {"cluster": {"EC2NodeClass": {"default": node_class([
	subnet("subnet-a", "us-west-2a", "usw2-az2"),
	subnet("subnet-b", "us-west-2b", "usw2-az1"),
	subnet("subnet-c", "us-west-2c", "usw2-az3"),
	subnet("subnet-d", "us-west-2d", "usw2-az4"),
])}}}

three_zones := {"cluster": {"EC2NodeClass": {"default": node_class([
	subnet("subnet-a", "us-west-2a", "usw2-az2"),
	subnet("subnet-b", "us-west-2b", "usw2-az1"),
	subnet("subnet-c", "us-west-2c", "usw2-az3"),
])}}}

# The catalog's bad example.
test_zone_outside_allowlist_is_denied if {
	pool := nodepool({}, [zone("In", ["us-west-2d"])])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as {}]
	v.path == "/spec/template/spec/requirements/0/values/0"
	contains(v.msg, `"us-west-2d"`)
	contains(v.msg, "us-west-2a, us-west-2b, us-west-2c")
	object.get(v, "action", "deny") == "deny"
}

test_allowed_zones_pass if {
	every pool in [
		# the catalog's good example
		nodepool({}, [zone("In", ["us-west-2a", "us-west-2b"])]),
		nodepool({}, [capacity, zone_id("In", ["usw2-az1"])]),
		nodepool({"topology.kubernetes.io/zone": "us-west-2c"}, [capacity]),
		# a pool with no zone constraint whose node class stays inside the allowlist
		nodepool({}, [capacity]),
	] {
		rule.applies with input as testing.review(pool) with data.inventory as three_zones
		count(rule.violation) == 0 with input as testing.review(pool) with data.inventory as three_zones
	}
}

test_each_bad_value_is_reported if {
	pool := nodepool({}, [capacity, zone("In", ["us-west-2a", "us-west-2d", "us-east-1a"])])
	vs := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as {}]
	count(vs) == 2
	{v.path | some v in vs} == {"/spec/template/spec/requirements/1/values/1", "/spec/template/spec/requirements/1/values/2"}
	some v in vs
	contains(v.msg, `"us-east-1a" of another region than us-west-2`)
}

test_zone_ids_are_checked if {
	pool := nodepool({}, [zone_id("In", ["usw2-az4"])])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as {}]
	v.path == "/spec/template/spec/requirements/0/values/0"
	contains(v.msg, "usw2-az4")
	contains(v.msg, "usw2-az1, usw2-az2, usw2-az3")
}

test_allowed_zone_ids_param if {
	pool := nodepool({}, [zone_id("In", ["usw2-az4"])])
	params := {"allowedZoneIds": ["usw2-az4"]}
	count(rule.violation) == 0 with input as testing.review_with(pool, params) with data.inventory as {}

	# the zone name of an allowed zone ID is allowed too
	named := nodepool({}, [zone("In", ["us-west-2d"])])
	with_map := {"allowedZoneIds": ["usw2-az4"], "zoneIdByZone": {"us-west-2a": "usw2-az2", "us-west-2d": "usw2-az4"}}
	count(rule.violation) == 0 with input as testing.review_with(named, with_map) with data.inventory as {}
}

# Without a zone ID for any allowed zone, zone-id requirements cannot be judged.
test_zone_ids_unknown_not_judged if {
	pool := nodepool({}, [zone_id("In", ["usw2-az4"])])
	rule.applies with input as testing.review(pool) with input.params.zoneIdByZone as {} with data.inventory as {}
	count(rule.violation) == 0 with input as testing.review(pool) with input.params.zoneIdByZone as {} with data.inventory as {}
}

test_template_label_outside_allowlist if {
	pool := nodepool({"topology.kubernetes.io/zone": "us-west-2d"}, [capacity])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as {}]
	v.path == "/spec/template/metadata/labels/topology.kubernetes.io~1zone"
}

# Edge: Local Zone and Wavelength names are valid zones; they pass once listed.
test_local_zones_must_be_listed if {
	pool := nodepool({}, [zone("In", ["us-west-2a", "us-west-2-lax-1a"])])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as {}]
	contains(v.msg, "us-west-2-lax-1a")
	not contains(v.msg, "another region")
	params := {"allowedZones": ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2-lax-1a"]}
	count(rule.violation) == 0 with input as testing.review_with(pool, params) with data.inventory as {}
}

# NotIn-only constraints leave every other zone of the subnets open.
test_notin_only_with_extra_subnets_is_denied if {
	pool := nodepool({}, [capacity, zone("NotIn", ["us-west-2a"])])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as four_zones]
	v.path == "/spec/template/spec/requirements/1"
	contains(v.msg, "(only NotIn)")
	contains(v.msg, "us-west-2d (usw2-az4)")
	contains(v.fix, "operator: In")
}

test_notin_excluding_the_extra_zones_passes if {
	every pool in [
		nodepool({}, [capacity, zone("NotIn", ["us-west-2d"])]),
		nodepool({}, [capacity, zone_id("NotIn", ["usw2-az4"])]),
	] {
		count(rule.violation) == 0 with input as testing.review(pool) with data.inventory as four_zones
	}
}

test_unconstrained_pool_with_extra_subnets_is_denied if {
	pool := nodepool({}, [capacity])
	[v] := [v | some v in rule.violation with input as testing.review(pool) with data.inventory as four_zones]
	v.path == "/spec/template/spec/requirements"
	not contains(v.msg, "only NotIn")

	# an In requirement replaces the subnet check
	pinned := nodepool({}, [capacity, zone("In", ["us-west-2b"])])
	count(rule.violation) == 0 with input as testing.review(pinned) with data.inventory as four_zones
}

# Without the EC2NodeClass (cold cache, or not an EC2NodeClass) the subnets are unknown.
test_unknown_subnets_not_reported if {
	every pool in [nodepool({}, [capacity]), nodepool({}, [zone("NotIn", ["us-west-2a"])])] {
		rule.applies with input as testing.review(pool) with data.inventory as {}
		count(rule.violation) == 0 with input as testing.review(pool) with data.inventory as {}
	}
}

test_update_is_denied_too if {
	old := nodepool({}, [zone("In", ["us-west-2a"])])
	pool := nodepool({}, [zone("In", ["us-west-2a", "us-west-2d"])])
	[v] := [v | some v in rule.violation with input as testing.review_update(pool, old) with data.inventory as {}]
	object.get(v, "action", "deny") == "deny"
}

test_scope if {
	# no allowlist: nothing to check
	not rule.applies with input as testing.review_with(nodepool({}, [zone("In", ["us-west-2d"])]), {"allowedZones": []}) with input.params.zoneIdByZone as {} with data.inventory as {}

	# v1beta1 NodePools have another schema
	old := json.patch(nodepool({}, [zone("In", ["us-west-2d"])]), [{"op": "replace", "path": "/apiVersion", "value": "karpenter.sh/v1beta1"}])
	not rule.applies with input as testing.review(old) with data.inventory as {}
	count(rule.violation) == 0 with input as testing.review(old) with data.inventory as {}
}
