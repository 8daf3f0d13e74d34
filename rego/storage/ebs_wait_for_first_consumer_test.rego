package kgate.rules.storage.ebs_wait_for_first_consumer_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ebs_wait_for_first_consumer as rule

class(mode) := object.union(
	{
		"apiVersion": "storage.k8s.io/v1",
		"kind": "StorageClass",
		"metadata": {"name": "gp3"},
		"provisioner": "ebs.csi.aws.com",
		"parameters": {"type": "gp3", "encrypted": "true"},
	},
	mode,
)

absent := class({})

immediate := class({"volumeBindingMode": "Immediate"})

wffc := class({"volumeBindingMode": "WaitForFirstConsumer"})

test_absent_mode_gets_wait_for_first_consumer if {
	[v] := [v | some v in rule.violation with input as testing.review(absent)]
	v.action == "mutate"
	v.path == "/volumeBindingMode"
	contains(v.msg, "defaults to Immediate")
	rule.patch == {{"op": "add", "path": "/volumeBindingMode", "value": "WaitForFirstConsumer"}} with input as testing.review(absent)
}

test_immediate_is_replaced if {
	[v] := [v | some v in rule.violation with input as testing.review(immediate)]
	v.action == "mutate"
	contains(v.msg, "volumeBindingMode Immediate")
	rule.patch == {{"op": "replace", "path": "/volumeBindingMode", "value": "WaitForFirstConsumer"}} with input as testing.review(immediate)
}

test_patched_classes_pass if {
	every sc in [absent, immediate] {
		patched := testing.apply(sc, [op | some op in rule.patch with input as testing.review(sc)])
		patched.volumeBindingMode == "WaitForFirstConsumer"
		rule.applies with input as testing.review(patched)
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

test_wait_for_first_consumer_passes if {
	rule.applies with input as testing.review(wffc)
	count(rule.violation) == 0 with input as testing.review(wffc)
}

# The in-tree provisioner provisions EBS too.
test_in_tree_class_in_scope if {
	sc := json.patch(absent, [{"op": "replace", "path": "/provisioner", "value": "kubernetes.io/aws-ebs"}])
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "mutate"
}

test_non_ebs_class_not_in_scope if {
	every provisioner in ["efs.csi.aws.com", "fsx.csi.aws.com", "s3.csi.aws.com"] {
		sc := json.patch(absent, [{"op": "replace", "path": "/provisioner", "value": provisioner}])
		not rule.applies with input as testing.review(sc)
		count(rule.violation) == 0 with input as testing.review(sc)
	}
}

# The field is immutable: existing classes are reported, never patched.
test_existing_class_update_is_audit_only if {
	every sc in [absent, immediate] {
		[v] := [v | some v in rule.violation with input as testing.review_update(sc, sc)]
		v.action == "audit"
		contains(v.fix, "recreate")
		count(rule.patch) == 0 with input as testing.review_update(sc, sc)
	}
}

# Classes whose PVCs must bind before any Pod exists (static or pre-bound volumes).
test_allow_immediate_for_listed_classes if {
	params := {"allowImmediateFor": ["gp3"]}
	rule.applies with input as testing.review_with(immediate, params)
	count(rule.violation) == 0 with input as testing.review_with(immediate, params)
	count(rule.patch) == 0 with input as testing.review_with(immediate, params)
	other := json.patch(immediate, [{"op": "replace", "path": "/metadata/name", "value": "other"}])
	count(rule.violation) == 1 with input as testing.review_with(other, params)
}
