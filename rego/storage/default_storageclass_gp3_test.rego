package kgate.rules.storage.default_storageclass_gp3_test

import data.kgate.lib.testing
import data.kgate.rules.storage.default_storageclass_gp3 as rule

default_annotation := "storageclass.kubernetes.io/is-default-class"

class(name, provisioner, params, annotations) := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": name, "annotations": annotations},
	"provisioner": provisioner,
	"parameters": params,
}

as_default := {default_annotation: "true"}

gp2_default := class("gp2-default", "ebs.csi.aws.com", {"type": "gp2"}, as_default)

# The class EKS creates in every cluster.
eks_gp2 := class("gp2", "kubernetes.io/aws-ebs", {"type": "gp2", "fsType": "ext4"}, as_default)

gp3_default := class("gp3-sc", "ebs.csi.aws.com", {"type": "gp3", "encrypted": "true"}, as_default)

gp3_plain := class("gp3-sc", "ebs.csi.aws.com", {"type": "gp3", "encrypted": "true"}, {})

review(obj, inv) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inv]

audit(obj, inv) := [v | some v in rule.violation with input as object.union(testing.review(obj), {"operation": "AUDIT"}) with data.inventory as inv]

inv(list) := {"cluster": {"StorageClass": {sc.metadata.name: sc | some sc in list}}}

test_new_gp2_default_is_denied if {
	[v] := review(gp2_default, {})
	v.action == "deny"
	v.path == "/metadata/annotations/storageclass.kubernetes.io~1is-default-class"
	contains(v.msg, "gp2")
}

test_new_in_tree_default_is_denied if {
	[v] := review(eks_gp2, {})
	v.action == "deny"
	contains(v.msg, "in-tree")
}

test_new_io2_default_is_denied if {
	[v] := review(class("io2", "ebs.csi.aws.com", {"type": "io2", "iops": "16000"}, as_default), {})
	v.action == "deny"
}

test_beta_annotation_counts if {
	beta := class("gp2-beta", "ebs.csi.aws.com", {"type": "gp2"}, {"storageclass.beta.kubernetes.io/is-default-class": "true"})
	[v] := review(beta, {})
	v.action == "deny"
	v.path == "/metadata/annotations/storageclass.beta.kubernetes.io~1is-default-class"
}

test_gp3_default_passes if {
	every sc in [gp3_default, class("gp3-sc", "ebs.csi.aws.com", {}, as_default)] {
		rule.applies with input as testing.review(sc) with data.inventory as {}
		count(review(sc, {})) == 0
	}
}

# Never deny UPDATEs of the pre-existing EKS gp2 default: metadata must stay editable.
test_existing_gp2_default_is_only_audited if {
	labelled := json.patch(eks_gp2, [{"op": "add", "path": "/metadata/labels", "value": {"team": "platform"}}])
	[v] := [v | some v in rule.violation with input as testing.review_update(labelled, eks_gp2) with data.inventory as {}]
	v.action == "audit"
}

# The audit and kgate check evaluate objects as if they were created.
test_audit_judges_as_created if {
	[a] := audit(eks_gp2, {})
	a.action == "deny"
}

test_removing_the_default_passes if {
	demoted := json.patch(eks_gp2, [{"op": "replace", "path": "/metadata/annotations", "value": {default_annotation: "false"}}])
	count([v | some v in rule.violation with input as testing.review_update(demoted, eks_gp2) with data.inventory as {}]) == 0
}

test_update_that_sets_the_annotation_is_denied if {
	plain := json.patch(eks_gp2, [{"op": "replace", "path": "/metadata/annotations", "value": {}}])
	[v] := [v | some v in rule.violation with input as testing.review_update(eks_gp2, plain) with data.inventory as {}]
	v.action == "deny"
}

test_second_default_is_warned if {
	[v] := review(gp3_default, inv([gp2_default]))
	v.action == "warn"
	contains(v.msg, "\"gp2-default\"")
	[a] := audit(gp3_default, inv([gp2_default, gp3_default]))
	a.action == "warn"
}

test_non_ebs_default_is_warned if {
	efs := class("efs", "efs.csi.aws.com", {"provisioningMode": "efs-ap"}, as_default)
	[v] := review(efs, {})
	v.action == "warn"
	contains(v.fix, "ebsProvisioners")
}

# EKS Auto Mode ships no class; its provisioner counts as EBS once configured.
test_auto_mode_gp3_default if {
	auto := class("auto-ebs-sc", "ebs.csi.eks.amazonaws.com", {"type": "gp3", "encrypted": "true"}, as_default)
	count([v | some v in rule.violation with input as testing.review_with(auto, {"ebsProvisioners": ["ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com"]}) with data.inventory as {}]) == 0
}

test_expected_class_without_any_default_is_warned if {
	[v] := review(gp3_plain, inv([class("st1", "ebs.csi.aws.com", {"type": "st1"}, {})]))
	v.action == "warn"
	contains(v.msg, "stay Pending")
	[a] := audit(gp3_plain, inv([gp3_plain]))
	a.action == "warn"
}

test_expected_class_passes_when_another_default_exists if {
	other := class("gp3-default", "ebs.csi.aws.com", {"type": "gp3"}, as_default)
	rule.applies with input as testing.review(gp3_plain) with data.inventory as inv([other])
	count(review(gp3_plain, inv([other]))) == 0
}

test_expected_class_is_a_parameter if {
	plain := class("fast", "ebs.csi.aws.com", {"type": "gp3"}, {})
	not rule.applies with input as testing.review(plain) with data.inventory as {}
	count([v | some v in rule.violation with input as testing.review_with(plain, {"expectedDefaultClass": "fast"}) with data.inventory as {}]) == 1
}

test_other_classes_are_not_in_scope if {
	plain := class("st1", "ebs.csi.aws.com", {"type": "st1"}, {})
	not rule.applies with input as testing.review(plain) with data.inventory as {}
	count(review(plain, {})) == 0
}

# defaultClassDemoteGp2 turns the EKS gp2 default off on UPDATE once a gp3 default exists.
test_demote_existing_gp2_default if {
	params := {"defaultClassDemoteGp2": true}
	labelled := json.patch(eks_gp2, [{"op": "add", "path": "/metadata/labels", "value": {"team": "platform"}}])
	req := object.union(testing.review_with(labelled, params), {"operation": "UPDATE", "oldObject": eks_gp2})
	[v] := [v | some v in rule.violation with input as req with data.inventory as inv([gp3_default, eks_gp2])]
	v.action == "mutate"
	ops := rule.patch with input as req with data.inventory as inv([gp3_default, eks_gp2])
	ops == {{"op": "replace", "path": "/metadata/annotations/storageclass.kubernetes.io~1is-default-class", "value": "false"}}
	patched := testing.apply(labelled, [op | some op in ops])
	again := object.union(req, {"object": patched})
	count(rule.violation) == 0 with input as again with data.inventory as inv([gp3_default, eks_gp2])
	count(rule.patch) == 0 with input as again with data.inventory as inv([gp3_default, eks_gp2])
}

test_no_demotion_without_a_gp3_default if {
	params := {"defaultClassDemoteGp2": true}
	req := object.union(testing.review_with(eks_gp2, params), {"operation": "UPDATE", "oldObject": eks_gp2})
	[v] := [v | some v in rule.violation with input as req with data.inventory as inv([eks_gp2])]
	v.action == "audit"
	count(rule.patch) == 0 with input as req with data.inventory as inv([eks_gp2])
}
