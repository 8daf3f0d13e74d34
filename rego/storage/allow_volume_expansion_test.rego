package kgate.rules.storage.allow_volume_expansion_test

import data.kgate.lib.testing
import data.kgate.rules.storage.allow_volume_expansion as rule

class(extra) := object.union(
	{
		"apiVersion": "storage.k8s.io/v1",
		"kind": "StorageClass",
		"metadata": {"name": "gp3-fixed"},
		"provisioner": "ebs.csi.aws.com",
		"parameters": {"type": "gp3", "encrypted": "true"},
		"volumeBindingMode": "WaitForFirstConsumer",
	},
	extra,
)

fixed := class({})

test_missing_field_is_added_on_create if {
	[v] := [v | some v in rule.violation with input as testing.review(fixed)]
	v.action == "mutate"
	v.path == "/allowVolumeExpansion"
	rule.patch == {{"op": "add", "path": "/allowVolumeExpansion", "value": true}} with input as testing.review(fixed)
}

# The field is mutable: existing classes are fixed on UPDATE too.
test_missing_field_is_added_on_update if {
	[v] := [v | some v in rule.violation with input as testing.review_update(fixed, fixed)]
	v.action == "mutate"
	rule.patch == {{"op": "add", "path": "/allowVolumeExpansion", "value": true}} with input as testing.review_update(fixed, fixed)
}

test_patch_is_idempotent if {
	patched := testing.apply(fixed, [op | some op in rule.patch with input as testing.review(fixed)])
	patched.allowVolumeExpansion == true
	rule.applies with input as testing.review(patched)
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
}

test_expandable_class_passes if {
	sc := class({"allowVolumeExpansion": true})
	rule.applies with input as testing.review(sc)
	count(rule.violation) == 0 with input as testing.review(sc)
}

# An explicit false is a choice: warned, never flipped.
test_explicit_false_is_warned_not_changed if {
	sc := class({"allowVolumeExpansion": false})
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review(sc)
}

test_in_tree_and_auto_mode_classes_are_in_scope if {
	in_tree := json.patch(fixed, [{"op": "replace", "path": "/provisioner", "value": "kubernetes.io/aws-ebs"}])
	rule.applies with input as testing.review(in_tree)
	auto := json.patch(fixed, [{"op": "replace", "path": "/provisioner", "value": "ebs.csi.eks.amazonaws.com"}])
	not rule.applies with input as testing.review(auto)
	rule.applies with input as testing.review_with(auto, {"ebsProvisioners": ["ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com"]})
}

test_other_provisioners_are_not_in_scope if {
	efs := json.patch(fixed, [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}])
	not rule.applies with input as testing.review(efs)
	count(rule.violation) == 0 with input as testing.review(efs)
}

# Edge cases: volumes never shrink and EBS limits how often a volume is modified;
# both concern PVC resizes, which this rule does not judge.
test_pvcs_are_not_judged if {
	pvc := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "genai"}, "spec": {"storageClassName": "gp3-fixed", "resources": {"requests": {"storage": "10Gi"}}}}
	not rule.applies with input as testing.review(pvc)
	count(rule.violation) == 0 with input as testing.review(pvc)
}
