package kgate.rules.storage.ebs_csi_provisioner_not_in_tree_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ebs_csi_provisioner_not_in_tree as rule

in_tree_class := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": "gp2"},
	"provisioner": "kubernetes.io/aws-ebs",
	"parameters": {"type": "gp2", "fsType": "ext4"},
}

csi_class := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": "gp3"},
	"provisioner": "ebs.csi.aws.com",
	"parameters": {"type": "gp3", "encrypted": "true"},
}

translate := {"autoTranslateInTree": true}

in_tree_pv := {
	"apiVersion": "v1",
	"kind": "PersistentVolume",
	"metadata": {"name": "legacy"},
	"spec": {
		"capacity": {"storage": "100Gi"},
		"accessModes": ["ReadWriteOnce"],
		"awsElasticBlockStore": {"volumeID": "aws://us-west-2a/vol-0123456789abcdef0", "fsType": "ext4"},
	},
}

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "vectordb", "namespace": "genai"},
	"spec": {"template": {"spec": {
		"containers": [{"name": "db", "image": "qdrant/qdrant:v1.9.0"}],
		"volumes": volumes,
	}}},
}

ebs_volume := {"name": "data", "awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0"}}

scratch_volume := {"name": "scratch", "emptyDir": {}}

test_in_tree_class_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(in_tree_class)]
	v.action == "deny"
	v.path == "/provisioner"
	contains(v.msg, `"gp2"`)
	contains(v.fix, "ebs.csi.aws.com")
	count(rule.patch) == 0 with input as testing.review(in_tree_class)
}

test_csi_classes_pass if {
	every provisioner in ["ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com"] {
		sc := json.patch(csi_class, [{"op": "replace", "path": "/provisioner", "value": provisioner}])
		params := {"ebsProvisioners": ["ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com"]}
		rule.applies with input as testing.review_with(sc, params)
		count(rule.violation) == 0 with input as testing.review_with(sc, params)
	}
}

test_other_provisioners_not_in_scope if {
	every provisioner in ["efs.csi.aws.com", "fsx.csi.aws.com", "ebs.csi.eks.amazonaws.com"] {
		sc := json.patch(csi_class, [{"op": "replace", "path": "/provisioner", "value": provisioner}])
		not rule.applies with input as testing.review(sc)
		count(rule.violation) == 0 with input as testing.review(sc)
	}
}

# The class EKS creates in every cluster keeps working; edits of it are only reported.
test_existing_class_update_is_audit_only if {
	[v] := [v | some v in rule.violation with input as testing.review_update(in_tree_class, in_tree_class)]
	v.action == "audit"
	contains(v.fix, "recreate")
	count(rule.patch) == 0 with input as object.union(testing.review_update(in_tree_class, in_tree_class), {"params": translate})
}

test_in_tree_pv_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(in_tree_pv)]
	v.action == "deny"
	v.path == "/spec/awsElasticBlockStore"
	[a] := [v | some v in rule.violation with input as testing.review_update(in_tree_pv, in_tree_pv)]
	a.action == "audit"
}

test_csi_pv_not_in_scope if {
	pv := json.patch(in_tree_pv, [
		{"op": "remove", "path": "/spec/awsElasticBlockStore"},
		{"op": "add", "path": "/spec/csi", "value": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0123456789abcdef0"}},
	])
	not rule.applies with input as testing.review(pv)
	count(rule.violation) == 0 with input as testing.review(pv)
}

test_inline_volume_in_template_is_denied if {
	d := deployment([scratch_volume, ebs_volume])
	[v] := [v | some v in rule.violation with input as testing.review(d)]
	v.action == "deny"
	v.path == "/spec/template/spec/volumes/1/awsElasticBlockStore"
	contains(v.msg, `volume "data"`)
	rule.applies with input as testing.review(d)
}

test_workloads_without_in_tree_volumes_not_in_scope if {
	every d in [deployment([scratch_volume]), deployment([])] {
		not rule.applies with input as testing.review(d)
		count(rule.violation) == 0 with input as testing.review(d)
	}
}

# A template UPDATE that adds the volume is new (deny); one that keeps it is existing.
test_template_update_adding_volume_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review_update(deployment([ebs_volume]), deployment([scratch_volume]))]
	v.action == "deny"
	[a] := [v | some v in rule.violation with input as testing.review_update(deployment([ebs_volume]), deployment([ebs_volume]))]
	a.action == "audit"
}

# Section 2.3: a Pod created by a controller is warned, not denied.
test_controller_owned_pod_is_warned if {
	pod := {
		"apiVersion": "v1",
		"kind": "Pod",
		"metadata": {"name": "vectordb-0", "namespace": "genai"},
		"spec": {"containers": [{"name": "db", "image": "qdrant/qdrant:v1.9.0"}], "volumes": [ebs_volume]},
	}
	[bare] := [v | some v in rule.violation with input as testing.review(pod)]
	bare.action == "deny"
	bare.path == "/spec/volumes/0/awsElasticBlockStore"
	owned := json.patch(pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "vectordb", "uid": "1", "controller": true}]}])
	[v] := [v | some v in rule.violation with input as testing.review(owned)]
	v.action == "warn"
}

test_auto_translation_mirrors_csi_translation_lib if {
	sc := json.patch(in_tree_class, [
		{"op": "remove", "path": "/parameters/type"},
		{"op": "add", "path": "/parameters/zones", "value": "us-west-2b, us-west-2a"},
	])
	[v] := [v | some v in rule.violation with input as testing.review_with(sc, translate)]
	v.action == "mutate"
	rule.patch == {
		{"op": "replace", "path": "/provisioner", "value": "ebs.csi.aws.com"},
		{"op": "remove", "path": "/parameters/fsType"},
		{"op": "add", "path": "/parameters/csi.storage.k8s.io~1fstype", "value": "ext4"},
		{"op": "remove", "path": "/parameters/zones"},
		{"op": "add", "path": "/allowedTopologies", "value": [{"matchLabelExpressions": [{"key": "topology.ebs.csi.aws.com/zone", "values": ["us-west-2a", "us-west-2b"]}]}]},
		{"op": "add", "path": "/parameters/type", "value": "gp3"},
	} with input as testing.review_with(sc, translate)
}

test_translated_class_passes if {
	every sc in [in_tree_class, json.patch(in_tree_class, [{"op": "add", "path": "/parameters/zone", "value": "us-west-2a"}])] {
		ops := [op | some op in rule.patch with input as testing.review_with(sc, translate)]
		patched := testing.apply(sc, ops)
		patched.provisioner == "ebs.csi.aws.com"
		patched.parameters.type == "gp2" # STORAGE-001 owns the type
		rule.applies with input as testing.review_with(patched, translate)
		count(rule.violation) == 0 with input as testing.review_with(patched, translate)
		count(rule.patch) == 0 with input as testing.review_with(patched, translate)
	}
}

# csi-translation-lib refuses zone/zones together with allowedTopologies.
test_zone_with_allowed_topologies_is_not_translated if {
	sc := json.patch(in_tree_class, [
		{"op": "add", "path": "/parameters/zone", "value": "us-west-2a"},
		{"op": "add", "path": "/allowedTopologies", "value": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["us-west-2a"]}]}]},
	])
	[v] := [v | some v in rule.violation with input as testing.review_with(sc, translate)]
	v.action == "deny"
	contains(v.fix, "allowedTopologies")
	count(rule.patch) == 0 with input as testing.review_with(sc, translate)
}
