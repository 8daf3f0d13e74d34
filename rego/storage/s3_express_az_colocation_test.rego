package kgate.rules.storage.s3_express_az_colocation_test

import data.kgate.lib.testing
import data.kgate.rules.storage.s3_express_az_colocation as rule

# The catalog's bad example.
express_pv := {
	"apiVersion": "v1",
	"kind": "PersistentVolume",
	"metadata": {"name": "s3-express-pv"},
	"spec": {
		"capacity": {"storage": "1200Gi"},
		"accessModes": ["ReadWriteMany"],
		"storageClassName": "",
		"mountOptions": ["region us-west-2"],
		"csi": {"driver": "s3.csi.aws.com", "volumeHandle": "s3-express-volume", "volumeAttributes": {"bucketName": "genai-cache--usw2-az1--x-s3"}},
	},
}

affinity(terms) := {"required": {"nodeSelectorTerms": terms}}

term(key, values) := {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}

with_affinity(terms) := json.patch(express_pv, [{"op": "add", "path": "/spec/nodeAffinity", "value": affinity(terms)}])

# The catalog's good example.
pinned := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az1"])])

zone_id_patch := {{"op": "add", "path": "/spec/nodeAffinity", "value": affinity([term("topology.k8s.aws/zone-id", ["usw2-az1"])])}}

test_missing_affinity_is_added if {
	[v] := [v | some v in rule.violation] with input as testing.review(express_pv)
	v.action == "mutate"
	v.path == "/spec"
	contains(v.msg, "usw2-az1")
	rule.patch == zone_id_patch with input as testing.review(express_pv)
}

test_patched_pv_passes if {
	ops := [op | some op in rule.patch] with input as testing.review(express_pv)
	patched := testing.apply(express_pv, ops)
	patched == pinned
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
}

test_good_example_passes if {
	rule.applies with input as testing.review(pinned)
	count(rule.violation) == 0 with input as testing.review(pinned)
}

test_general_purpose_buckets_out_of_scope if {
	pv := json.patch(express_pv, [{"op": "replace", "path": "/spec/csi/volumeAttributes/bucketName", "value": "genai-datasets-111122223333"}])
	not rule.applies with input as testing.review(pv)
	count(rule.violation) == 0 with input as testing.review(pv)
	ebs := json.patch(express_pv, [{"op": "replace", "path": "/spec/csi/driver", "value": "ebs.csi.aws.com"}])
	not rule.applies with input as testing.review(ebs)
}

test_local_zone_bucket if {
	pv := json.patch(express_pv, [{"op": "replace", "path": "/spec/csi/volumeAttributes/bucketName", "value": "ckpt--usw2-lax1-az1--x-s3"}])
	rule.patch == {{"op": "add", "path": "/spec/nodeAffinity", "value": affinity([term("topology.k8s.aws/zone-id", ["usw2-lax1-az1"])])}} with input as testing.review(pv)
}

# nodeAffinity may be set once on an existing PV.
test_update_without_affinity_is_mutated if {
	[v] := [v | some v in rule.violation] with input as testing.review_update(express_pv, express_pv)
	v.action == "mutate"
	rule.patch == zone_id_patch with input as testing.review_update(express_pv, express_pv)
}

test_other_zone_is_denied if {
	pv := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az2"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.action == "deny"
	v.path == "/spec/nodeAffinity/required/nodeSelectorTerms/0"
	count(rule.patch) == 0 with input as testing.review(pv)
}

test_other_zone_being_set_on_update_is_denied if {
	pv := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az2"])])
	[v] := [v | some v in rule.violation] with input as testing.review_update(pv, express_pv)
	v.action == "deny"
}

# nodeAffinity is immutable once set: an existing mismatch is reported, not blocked.
test_existing_mismatch_is_audited if {
	pv := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az2"])])
	[v] := [v | some v in rule.violation] with input as testing.review_update(pv, pv)
	v.action == "audit"
	contains(v.fix, "recreate the PersistentVolume")
}

test_several_zones_are_a_mismatch if {
	pv := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az1", "usw2-az3"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.action == "deny"
	contains(v.msg, `["usw2-az3"]`)
}

test_each_term_is_checked if {
	pv := with_affinity([term("topology.k8s.aws/zone-id", ["usw2-az1"]), term("topology.k8s.aws/zone-id", ["usw2-az3"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.path == "/spec/nodeAffinity/required/nodeSelectorTerms/1"
}

# Edge case: the upstream example pairs bucket --usw2-az1-- with zone name us-west-2a,
# right only where that account maps us-west-2a to usw2-az1.
test_zone_names_follow_the_account_mapping if {
	pv := with_affinity([term("topology.kubernetes.io/zone", ["us-west-2a"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.action == "deny"
	contains(v.msg, "zoneIdByZone")
	count(rule.violation) == 0 with input as testing.review_with(pv, {"zoneIdByZone": {"us-west-2a": "usw2-az1"}})
	ok := with_affinity([term("topology.kubernetes.io/zone", ["us-west-2b"])])
	count(rule.violation) == 0 with input as testing.review(ok)
}

test_unknown_zone_name_is_warned if {
	pv := with_affinity([term("topology.kubernetes.io/zone", ["us-west-2d"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.action == "warn"
	contains(v.msg, `["us-west-2d"]`)
}

test_term_without_zone_is_warned if {
	pv := with_affinity([term("kubernetes.io/hostname", ["ip-10-0-1-23.us-west-2.compute.internal"])])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.action == "warn"
	contains(v.msg, "does not restrict the zone")
}

# Edge case: nodes without the topology.k8s.aws/zone-id label never match a zone-id
# affinity; such clusters can use zone names.
test_zone_name_key if {
	params := {"s3ExpressZoneKey": "topology.kubernetes.io/zone"}
	rule.patch == {{"op": "add", "path": "/spec/nodeAffinity", "value": affinity([term("topology.kubernetes.io/zone", ["us-west-2b"])])}} with input as testing.review_with(express_pv, params)
	ops := [op | some op in rule.patch] with input as testing.review_with(express_pv, params)
	patched := testing.apply(express_pv, ops)
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)
}

test_zone_name_key_without_mapping_warns if {
	params := {"s3ExpressZoneKey": "topology.kubernetes.io/zone"}
	pv := json.patch(express_pv, [{"op": "replace", "path": "/spec/csi/volumeAttributes/bucketName", "value": "genai-cache--usw2-az4--x-s3"}])
	[v] := [v | some v in rule.violation] with input as testing.review_with(pv, params)
	v.action == "warn"
	contains(v.fix, "topology.k8s.aws/zone-id")
	count(rule.patch) == 0 with input as testing.review_with(pv, params)
}
