package kgate.rules.storage.ebs_encrypted_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ebs_encrypted as rule

key_arn := "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

other_arn := "arn:aws:kms:us-west-2:111122223333:key/ffffffff-12ab-34cd-56ef-1234567890ab"

class(parameters) := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": "gp3"},
	"provisioner": "ebs.csi.aws.com",
	"parameters": parameters,
	"volumeBindingMode": "WaitForFirstConsumer",
}

plain := class({"type": "gp3"})

no_parameters := json.patch(plain, [{"op": "remove", "path": "/parameters"}])

with_key := {"requiredKmsKeyArn": key_arn}

test_missing_encryption_is_added if {
	[v] := [v | some v in rule.violation with input as testing.review(plain)]
	v.action == "mutate"
	v.path == "/parameters"
	contains(v.msg, `"gp3"`)
	rule.patch == {{"op": "add", "path": "/parameters/encrypted", "value": "true"}} with input as testing.review(plain)
}

test_patched_classes_pass if {
	every sc in [plain, no_parameters, class({"type": "gp3", "Encrypted": "True"})] {
		patched := testing.apply(sc, [op | some op in rule.patch with input as testing.review(sc)])
		rule.applies with input as testing.review(patched)
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

test_encrypted_classes_pass if {
	every parameters in [{"type": "gp3", "encrypted": "true"}, {"encrypted": "true", "kmsKeyId": key_arn}] {
		rule.applies with input as testing.review(class(parameters))
		count(rule.violation) == 0 with input as testing.review(class(parameters))
	}
}

test_explicit_false_is_denied if {
	every value in ["false", "no", ""] {
		sc := class({"type": "gp3", "encrypted": value})
		[v] := [v | some v in rule.violation with input as testing.review(sc)]
		v.action == "deny"
		v.path == "/parameters/encrypted"
		count(rule.patch) == 0 with input as testing.review(sc)
	}
}

test_kms_key_without_encryption_is_denied if {
	sc := class({"type": "gp3", "kmsKeyId": key_arn})
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "deny"
	v.path == "/parameters/kmsKeyId"
	count(rule.patch) == 0 with input as testing.review(sc)
}

# The driver only recognises the exact string "true"; keys are case-insensitive.
test_loose_true_is_normalised if {
	sc := class({"type": "gp3", "Encrypted": "True"})
	[v] := [v | some v in rule.violation with input as testing.review(sc)]
	v.action == "mutate"
	v.path == "/parameters/Encrypted"
	rule.patch == {{"op": "replace", "path": "/parameters/Encrypted", "value": "true"}} with input as testing.review(sc)
}

test_in_tree_class_in_scope if {
	sc := json.patch(plain, [{"op": "replace", "path": "/provisioner", "value": "kubernetes.io/aws-ebs"}])
	count(rule.violation) == 1 with input as testing.review(sc)
}

test_non_ebs_class_not_in_scope if {
	sc := json.patch(plain, [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}])
	not rule.applies with input as testing.review(sc)
	count(rule.violation) == 0 with input as testing.review(sc)
}

# Parameters are immutable: existing classes are reported, never denied or patched.
test_existing_class_update_is_audit_only if {
	every sc in [plain, class({"encrypted": "false"}), class({"kmsKeyId": key_arn}), class({"encrypted": "TRUE"})] {
		[v] := [v | some v in rule.violation with input as testing.review_update(sc, sc)]
		v.action == "audit"
		contains(v.fix, "recreate")
		count(rule.patch) == 0 with input as testing.review_update(sc, sc)
	}
}

test_required_key_is_added_to_new_classes if {
	vs := [v | some v in rule.violation with input as testing.review_with(plain, with_key)]
	count(vs) == 2
	every v in vs {
		v.action == "mutate"
	}
	ops := {
		{"op": "add", "path": "/parameters/encrypted", "value": "true"},
		{"op": "add", "path": "/parameters/kmsKeyId", "value": key_arn},
	}
	rule.patch == ops with input as testing.review_with(plain, with_key)
	patched := testing.apply(plain, [op | some op in ops])
	count(rule.violation) == 0 with input as testing.review_with(patched, with_key)
	count(rule.patch) == 0 with input as testing.review_with(patched, with_key)
}

test_other_key_is_denied_when_a_key_is_required if {
	sc := class({"encrypted": "true", "kmsKeyId": other_arn})
	[v] := [v | some v in rule.violation with input as testing.review_with(sc, with_key)]
	v.action == "deny"
	v.path == "/parameters/kmsKeyId"
	count(rule.patch) == 0 with input as testing.review_with(sc, with_key)
	count(rule.violation) == 0 with input as testing.review(sc)
}
