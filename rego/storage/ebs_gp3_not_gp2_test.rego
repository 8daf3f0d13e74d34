package kgate.rules.storage.ebs_gp3_not_gp2_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ebs_gp3_not_gp2 as rule

gp2_class := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": "ebs-gp2"},
	"provisioner": "ebs.csi.aws.com",
	"parameters": {"type": "gp2"},
}

test_gp2_is_converted if {
	[v] := [v | some v in rule.violation with input as testing.review(gp2_class)]
	v.action == "mutate"
	v.path == "/parameters/type"
	rule.patch == {{"op": "replace", "path": "/parameters/type", "value": "gp3"}} with input as testing.review(gp2_class)
}

test_patched_class_passes if {
	patched := testing.apply(gp2_class, [op | some op in rule.patch with input as testing.review(gp2_class)])
	patched.parameters.type == "gp3"
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
	rule.applies with input as testing.review(patched)
}

test_type_key_is_case_insensitive if {
	sc := json.patch(gp2_class, [{"op": "replace", "path": "/parameters", "value": {"Type": "GP2"}}])
	rule.patch == {{"op": "replace", "path": "/parameters/Type", "value": "gp3"}} with input as testing.review(sc)
}

test_gp2_with_iops_is_denied if {
	sc := json.patch(gp2_class, [{"op": "add", "path": "/parameters/iopsPerGB", "value": "10"}])
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "deny"
	count(rule.patch) == 0 with input as testing.review(sc)
}

test_autoconvert_off_denies if {
	[v] := [v | some v in rule.violation with input as testing.review_with(gp2_class, {"autoConvertGp2": false})]
	v.action == "deny"
}

test_in_tree_without_type_is_denied if {
	sc := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp2"}, "provisioner": "kubernetes.io/aws-ebs", "parameters": {"fsType": "ext4"}}
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "deny"
	v.path == "/provisioner"
}

test_existing_class_update_is_audit_only if {
	[v] := [v | some v in rule.violation with input as testing.review_update(gp2_class, gp2_class)]
	v.action == "audit"
	count(rule.patch) == 0 with input as testing.review_update(gp2_class, gp2_class)
}

test_gp3_and_default_type_pass if {
	every t in [{"type": "gp3"}, {"type": "io2", "iops": "4000"}, {}] {
		sc := json.patch(gp2_class, [{"op": "replace", "path": "/parameters", "value": t}])
		rule.applies with input as testing.review(sc)
		count(rule.violation) == 0 with input as testing.review(sc)
	}
}

test_other_provisioner_not_in_scope if {
	sc := json.patch(gp2_class, [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}])
	not rule.applies with input as testing.review(sc)
	count(rule.violation) == 0 with input as testing.review(sc)
}

test_pvc_of_gp2_class_warns if {
	pvc := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "genai"}, "spec": {"storageClassName": "ebs-gp2"}}
	inv := {"cluster": {"StorageClass": {"ebs-gp2": gp2_class}}}
	[v] := [v | some v in rule.violation with input as testing.review(pvc) with data.inventory as inv]
	v.action == "warn"
	v.path == "/spec/storageClassName"
}
