package kgate.rules.storage.pvc_right_sized_test

import data.kgate.lib.testing
import data.kgate.rules.storage.pvc_right_sized as rule

pvc(size, class) := {
	"apiVersion": "v1",
	"kind": "PersistentVolumeClaim",
	"metadata": {"name": "demo-pvc", "namespace": "genai"},
	"spec": {
		"accessModes": ["ReadWriteOnce"],
		"storageClassName": class,
		"resources": {"requests": {"storage": size}},
	},
}

gp2 := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp2"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp2"}}

gp3 := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3-sc"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}, "allowVolumeExpansion": true}

gp3_fixed := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3-fixed"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}}

classes := {"cluster": {"StorageClass": {"gp2": gp2, "gp3-sc": gp3, "gp3-fixed": gp3_fixed}}}

statefulset := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "vectordb", "namespace": "genai"},
	"spec": {
		"replicas": 3,
		"serviceName": "vectordb",
		"selector": {"matchLabels": {"app": "vectordb"}},
		"template": {"metadata": {"labels": {"app": "vectordb"}}, "spec": {"containers": [{"name": "qdrant", "image": "qdrant/qdrant:v1.12.0"}]}},
		"volumeClaimTemplates": [
			{"metadata": {"name": "snapshots"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3-sc", "resources": {"requests": {"storage": "50Gi"}}}},
			{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3-sc", "resources": {"requests": {"storage": "1500Gi"}}}},
		],
	},
}

findings(obj) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj)
		with data.inventory as classes
}

test_large_pvc_is_warned if {
	obj := pvc("2Ti", "gp3-sc")
	[v] := findings(obj)
	v.action == "warn"
	v.path == "/spec/resources/requests/storage"
	contains(v.msg, "2048 GiB")
	contains(v.msg, "1000 GiB")
	contains(v.fix, "kgate.dev/size-justification")
}

# The catalog's bad example: 2Ti on a gp2 class, warned for both.
test_large_gp2_pvc_is_warned_twice if {
	vs := findings(pvc("2Ti", "gp2"))
	{v.path | some v in vs} == {"/spec/resources/requests/storage", "/spec/storageClassName"}
	every v in vs {
		v.action == "warn"
	}
}

test_small_gp2_pvc_is_warned_for_the_class if {
	[v] := findings(pvc("10Gi", "gp2"))
	v.path == "/spec/storageClassName"
	contains(v.msg, "gp2")
	contains(v.fix, "gp3")
}

test_in_tree_classes_are_warned if {
	in_tree_gp3 := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "legacy"}, "provisioner": "kubernetes.io/aws-ebs", "parameters": {"type": "gp3"}}
	[v] := [v | some v in rule.violation] with input as testing.review(pvc("10Gi", "legacy"))
		with data.inventory as {"cluster": {"StorageClass": {"legacy": in_tree_gp3}}}
	contains(v.msg, "in-tree")

	# Without a type, the in-tree plugin provisioned gp2.
	in_tree := json.patch(in_tree_gp3, [{"op": "remove", "path": "/parameters/type"}])
	[w] := [w | some w in rule.violation] with input as testing.review(pvc("10Gi", "legacy"))
		with data.inventory as {"cluster": {"StorageClass": {"legacy": in_tree}}}
	contains(w.msg, "gp2")
}

test_right_sized_pvc_passes if {
	obj := pvc("10Gi", "gp3-sc")
	rule.applies with input as testing.review(obj) with data.inventory as classes
	count(findings(obj)) == 0
}

test_pass_without_inventory if {
	obj := pvc("10Gi", "gp3-sc")
	rule.applies with input as testing.review(obj)
	count(rule.violation) == 0 with input as testing.review(obj)
}

test_justification_accepts_a_large_claim if {
	obj := json.patch(pvc("2Ti", "gp3-sc"), [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/size-justification": "full Common Crawl shard, measured 1.8 TiB"}}])
	count(findings(obj)) == 0
}

test_empty_justification_does_not_count if {
	obj := json.patch(pvc("2Ti", "gp3-sc"), [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/size-justification": " "}}])
	[v] := findings(obj)
	v.action == "warn"
}

test_hard_cap_denies_even_with_justification if {
	obj := json.patch(pvc("20Ti", "gp3-sc"), [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/size-justification": "typo?"}}])
	[v] := findings(obj)
	v.action == "deny"
	contains(v.msg, "hard cap of 16384 GiB")
}

test_hard_cap_zero_disables_it if {
	obj := json.patch(pvc("20Ti", "gp3-sc"), [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/size-justification": "archive"}}])
	count(rule.violation) == 0 with input as testing.review_with(obj, {"hardCapGi": 0})
}

test_limit_per_namespace if {
	params := {"maxPvcSizeGi": {"genai": 100, "*": 1000}}
	obj := pvc("200Gi", "gp3-sc")
	[v] := [v | some v in rule.violation] with input as testing.review_with(obj, params)
	contains(v.msg, "100 GiB")
	other := json.patch(obj, [{"op": "replace", "path": "/metadata/namespace", "value": "research"}])
	count(rule.violation) == 0 with input as testing.review_with(other, params)
}

test_no_limit_for_unlisted_namespaces if {
	# The engine replaces a parameter's default; testing.review_with would merge maps.
	review := json.patch(testing.review(pvc("5Ti", "gp3-sc")), [{"op": "replace", "path": "/params/maxPvcSizeGi", "value": {"team-a": 100}}])
	count(rule.violation) == 0 with input as review
}

test_numeric_and_decimal_sizes if {
	[v] := findings(pvc("1.5Ti", "gp3-sc"))
	contains(v.msg, "1536 GiB")
	[w] := findings(pvc(2000000000000, "gp3-sc"))
	contains(w.msg, "1862.65 GiB")
}

test_unrendered_size_is_skipped if {
	count(findings(pvc("$SIZE", "gp3-sc"))) == 0
}

# Edge case: StatefulSet claim templates are immutable, so they are checked at CREATE.
test_statefulset_claim_template_is_checked_at_create if {
	[v] := findings(statefulset)
	v.action == "warn"
	v.path == "/spec/volumeClaimTemplates/1/spec/resources/requests/storage"
	contains(v.msg, `StatefulSet "vectordb" claim template "data"`)
	contains(v.msg, "4500 GiB for 3 replicas")
}

test_statefulset_update_is_not_checked if {
	rule.applies with input as testing.review_update(statefulset, statefulset) with data.inventory as classes
	count(rule.violation) == 0 with input as testing.review_update(statefulset, statefulset) with data.inventory as classes
}

test_statefulset_justification_on_template if {
	sts := json.patch(statefulset, [{"op": "add", "path": "/spec/volumeClaimTemplates/1/metadata/annotations", "value": {"kgate.dev/size-justification": "1.2B vectors"}}])
	count(findings(sts)) == 0
}

test_pvc_expansion_past_the_limit_is_warned if {
	old := pvc("500Gi", "gp3-sc")
	new := pvc("1500Gi", "gp3-sc")
	[v] := [v | some v in rule.violation] with input as testing.review_update(new, old) with data.inventory as classes
	v.action == "warn"
}

test_pvc_update_without_size_change_is_silent if {
	old := pvc("2Ti", "gp2")
	new := json.patch(old, [{"op": "add", "path": "/metadata/labels", "value": {"team": "rag"}}])
	rule.applies with input as testing.review_update(new, old) with data.inventory as classes
	count(rule.violation) == 0 with input as testing.review_update(new, old) with data.inventory as classes
}

# Edge case: growing later needs allowVolumeExpansion (STORAGE-006).
test_fix_names_the_growth_path if {
	[v] := findings(pvc("2Ti", "gp3-fixed"))
	contains(v.fix, `StorageClass "gp3-fixed" needs allowVolumeExpansion: true (STORAGE-006)`)
	[w] := findings(pvc("2Ti", "gp3-sc"))
	contains(w.fix, `StorageClass "gp3-sc" allows expansion`)
}

# Edge case: Mountpoint for S3 ignores the size; static claims provision nothing.
test_mountpoint_claims_are_out_of_scope if {
	s3_pv := {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "s3-pv"}, "spec": {"csi": {"driver": "s3.csi.aws.com", "volumeHandle": "h", "volumeAttributes": {"bucketName": "b"}}}}
	static := json.patch(pvc("1200Gi", ""), [{"op": "add", "path": "/spec/volumeName", "value": "s3-pv"}])
	not rule.applies with input as testing.review(static)
	bound := json.patch(pvc("1200Gi", "s3"), [{"op": "add", "path": "/spec/volumeName", "value": "s3-pv"}])
	not rule.applies with input as testing.review(bound) with data.inventory as {"cluster": {"PersistentVolume": {"s3-pv": s3_pv}}}
	efs := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "efs"}, "provisioner": "efs.csi.aws.com"}
	not rule.applies with input as testing.review(pvc("5Ti", "efs")) with data.inventory as {"cluster": {"StorageClass": {"efs": efs}}}
}

test_default_class_applies_to_unnamed_claims if {
	default_gp2 := json.patch(gp2, [{"op": "add", "path": "/metadata/annotations", "value": {"storageclass.kubernetes.io/is-default-class": "true"}}])
	obj := json.remove(pvc("10Gi", "x"), ["/spec/storageClassName"])
	[v] := [v | some v in rule.violation] with input as testing.review(obj)
		with data.inventory as {"cluster": {"StorageClass": {"gp2": default_gp2, "gp3-sc": gp3}}}
	v.path == "/spec"
	contains(v.msg, `StorageClass "gp2"`)
}

test_exempt_namespace_is_out_of_scope if {
	obj := json.patch(pvc("5Ti", "gp2"), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(obj) with data.inventory as classes
	count(findings(obj)) == 0
}
