package kgate.rules.storage.mountpoint_s3_static_pv_test

import data.kgate.lib.testing
import data.kgate.rules.storage.mountpoint_s3_static_pv as rule

# The catalog's bad example.
bad_pv := {
	"apiVersion": "v1",
	"kind": "PersistentVolume",
	"metadata": {"name": "s3-demo-pv"},
	"spec": {
		"capacity": {"storage": "1200Gi"},
		"accessModes": ["ReadWriteOnce"],
		"storageClassName": "gp3-sc",
		"csi": {"driver": "s3.csi.aws.com", "volumeHandle": "s3-csi-driver-volume", "volumeAttributes": {}},
	},
}

# The catalog's good example.
dataset_pv := {
	"apiVersion": "v1",
	"kind": "PersistentVolume",
	"metadata": {"name": "s3-datasets-pv", "labels": {"kgate.dev/data-use": "dataset"}},
	"spec": {
		"capacity": {"storage": "1200Gi"},
		"accessModes": ["ReadOnlyMany"],
		"storageClassName": "",
		"claimRef": {"namespace": "genai", "name": "s3-datasets-pvc"},
		"mountOptions": ["region us-west-2", "prefix train/"],
		"csi": {"driver": "s3.csi.aws.com", "volumeHandle": "s3-datasets-volume", "volumeAttributes": {"bucketName": "genai-datasets-111122223333"}},
	},
}

dataset_pvc := {
	"apiVersion": "v1",
	"kind": "PersistentVolumeClaim",
	"metadata": {"name": "s3-datasets-pvc", "namespace": "genai"},
	"spec": {
		"accessModes": ["ReadOnlyMany"],
		"storageClassName": "",
		"resources": {"requests": {"storage": "1200Gi"}},
		"volumeName": "s3-datasets-pv",
	},
}

# A writable checkpoint volume, not a dataset.
checkpoints_pv := json.patch(dataset_pv, [
	{"op": "replace", "path": "/metadata", "value": {"name": "s3-checkpoints-pv"}},
	{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteMany"]},
	{"op": "replace", "path": "/spec/mountOptions", "value": ["allow-delete", "allow-overwrite", "region us-west-2"]},
])

inventory := {"cluster": {"PersistentVolume": {"s3-datasets-pv": dataset_pv}}}

s3_class := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s3"}, "provisioner": "s3.csi.aws.com"}

by_path(vs) := {v.path: v | some v in vs}

findings(obj) := by_path(vs) if {
	vs := [v | some v in rule.violation] with input as testing.review(obj) with data.inventory as inventory
}

update_findings(obj) := by_path(vs) if {
	vs := [v | some v in rule.violation] with input as testing.review_update(obj, obj) with data.inventory as inventory
}

test_bad_pv if {
	vs := findings(bad_pv)
	object.keys(vs) == {"/spec/csi/volumeAttributes", "/spec/storageClassName", "/spec/accessModes/0", "/spec"}
	vs["/spec/csi/volumeAttributes"].action == "deny"
	vs["/spec/storageClassName"].action == "deny"
	vs["/spec/accessModes/0"].action == "warn"
	vs["/spec"].action == "mutate"
	rule.patch == {{"op": "add", "path": "/spec/mountOptions", "value": ["region us-west-2"]}} with input as testing.review(bad_pv)
}

test_good_pv_and_pvc_pass if {
	rule.applies with input as testing.review(dataset_pv)
	count(findings(dataset_pv)) == 0
	count(rule.patch) == 0 with input as testing.review(dataset_pv)
	rule.applies with input as testing.review(dataset_pvc) with data.inventory as inventory
	count(findings(dataset_pvc)) == 0
}

test_other_drivers_out_of_scope if {
	ebs := json.patch(bad_pv, [{"op": "replace", "path": "/spec/csi/driver", "value": "ebs.csi.aws.com"}])
	not rule.applies with input as testing.review(ebs)
	count(rule.violation) == 0 with input as testing.review(ebs)
}

# --- StorageClass ---

test_storage_class_is_denied if {
	[v] := [v | some v in rule.violation] with input as testing.review(s3_class)
	v.action == "deny"
	v.path == "/provisioner"
	contains(v.msg, "only static provisioning")
}

test_existing_storage_class_is_audited if {
	[v] := [v | some v in rule.violation] with input as testing.review_update(s3_class, s3_class)
	v.action == "audit"
	contains(v.fix, "immutable")
}

test_other_storage_classes_out_of_scope if {
	sc := json.patch(s3_class, [{"op": "replace", "path": "/provisioner", "value": "ebs.csi.aws.com"}])
	not rule.applies with input as testing.review(sc)
}

# --- bucket and class ---

# Edge case: the CSI source is immutable; a PV without a bucket needs a new PV.
test_missing_bucket_on_update_is_audited if {
	pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/csi/volumeAttributes", "value": {"bucketName": ""}}])
	findings(pv)["/spec/csi/volumeAttributes"].action == "deny"
	v := update_findings(pv)["/spec/csi/volumeAttributes"]
	v.action == "audit"
	contains(v.fix, "recreate")
}

test_missing_attributes_point_at_csi if {
	pv := json.remove(dataset_pv, ["/spec/csi/volumeAttributes"])
	findings(pv)["/spec/csi"].action == "deny"
}

test_class_on_existing_pv_is_warned if {
	pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/storageClassName", "value": "gp3-sc"}])
	findings(pv)["/spec/storageClassName"].action == "deny"
	update_findings(pv)["/spec/storageClassName"].action == "warn"
}

test_pv_without_class_passes if {
	pv := json.remove(dataset_pv, ["/spec/storageClassName"])
	count(findings(pv)) == 0
}

# --- region ---

test_region_is_appended_to_mount_options if {
	pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/mountOptions", "value": ["prefix train/"]}])
	vs := findings(pv)
	vs["/spec/mountOptions"].action == "mutate"
	ops := {op | some op in rule.patch} with input as testing.review(pv)
	ops == {{"op": "add", "path": "/spec/mountOptions/-", "value": "region us-west-2"}}
	patched := testing.apply(pv, [op | some op in ops])
	patched.spec.mountOptions == ["prefix train/", "region us-west-2"]
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
}

test_region_patch_creates_the_list if {
	pv := json.remove(dataset_pv, ["/spec/mountOptions"])
	ops := [op | some op in rule.patch] with input as testing.review(pv)
	patched := testing.apply(pv, ops)
	patched.spec.mountOptions == ["region us-west-2"]
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
}

test_region_follows_the_parameter if {
	pv := json.remove(dataset_pv, ["/spec/mountOptions"])
	rule.patch == {{"op": "add", "path": "/spec/mountOptions", "value": ["region eu-central-1"]}} with input as testing.review_with(pv, {"region": "eu-central-1"})
}

test_missing_region_on_update_is_warned if {
	pv := json.remove(dataset_pv, ["/spec/mountOptions"])
	update_findings(pv)["/spec"].action == "warn"
	count(rule.patch) == 0 with input as testing.review_update(pv, pv)
}

test_region_spellings if {
	every opt in ["region us-west-2", "region=us-west-2", "--region us-west-2", "--region=us-west-2", "  region   us-west-2 "] {
		pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/mountOptions", "value": [opt]}])
		count(findings(pv)) == 0
	}
}

test_other_region_is_warned if {
	pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/mountOptions", "value": ["prefix train/", "--region=us-east-1"]}])
	v := findings(pv)["/spec/mountOptions/1"]
	v.action == "warn"
	contains(v.msg, `"us-east-1"`)
	count(rule.patch) == 0 with input as testing.review(pv)
}

# --- access modes and datasets ---

test_writable_dataset_is_warned if {
	pv := json.patch(dataset_pv, [
		{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteMany"]},
		{"op": "add", "path": "/spec/mountOptions/-", "value": "allow-delete"},
	])
	vs := findings(pv)
	object.keys(vs) == {"/spec/accessModes", "/spec/mountOptions/2"}
	contains(vs["/spec/accessModes"].msg, "writable")
	contains(vs["/spec/mountOptions/2"].msg, "allow-delete")
}

test_read_only_option_makes_a_dataset_read_only if {
	pv := json.patch(dataset_pv, [
		{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteMany"]},
		{"op": "add", "path": "/spec/mountOptions/-", "value": "--read-only"},
	])
	count(findings(pv)) == 0
}

test_allow_delete_namespaces if {
	pv := json.patch(dataset_pv, [
		{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteMany"]},
		{"op": "replace", "path": "/spec/claimRef/namespace", "value": "dataprep"},
		{"op": "add", "path": "/spec/mountOptions/-", "value": "allow-delete"},
	])
	count(rule.violation) == 0 with input as testing.review_with(pv, {"allowDeleteNamespaces": ["dataprep"]})
	count(rule.violation) == 2 with input as testing.review(pv)
}

test_dataset_selector_parameter if {
	pv := json.patch(checkpoints_pv, [{"op": "add", "path": "/metadata/labels", "value": {"data-tier": "training"}}])
	count(rule.violation) == 0 with input as testing.review(pv)
	selector := {"matchExpressions": [{"key": "data-tier", "operator": "In", "values": ["training"]}]}

	# The engine replaces a parameter's default; testing.review_with would merge maps.
	review := json.patch(testing.review(pv), [{"op": "replace", "path": "/params/datasetSelector", "value": selector}])
	count(rule.violation) == 2 with input as review
}

test_writable_non_dataset_passes if {
	rule.applies with input as testing.review(checkpoints_pv)
	count(rule.violation) == 0 with input as testing.review(checkpoints_pv)
}

test_single_node_access_modes_are_warned if {
	pv := json.patch(checkpoints_pv, [{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteMany", "ReadWriteOncePod"]}])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.path == "/spec/accessModes/1"
	v.action == "warn"
}

# Edge case: pod-level credentials (authenticationSource: pod) are valid configuration.
test_pod_level_credentials_pass if {
	pv := json.patch(dataset_pv, [{"op": "add", "path": "/spec/csi/volumeAttributes/authenticationSource", "value": "pod"}])
	count(findings(pv)) == 0
}

# --- local cache ---

test_gp2_cache_class_is_warned if {
	pv := json.patch(dataset_pv, [{"op": "add", "path": "/spec/csi/volumeAttributes", "value": {"bucketName": "b", "cache": "ephemeral", "cacheEphemeralStorageClassName": "gp2", "cacheEphemeralStorageResourceRequest": "10Gi"}}])
	[v] := [v | some v in rule.violation] with input as testing.review(pv)
	v.path == "/spec/csi/volumeAttributes/cacheEphemeralStorageClassName"
	v.action == "warn"

	gp3 := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp2"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}}
	count(rule.violation) == 0 with input as testing.review(pv) with data.inventory as {"cluster": {"StorageClass": {"gp2": gp3}}}
}

test_gp2_cache_class_from_inventory if {
	pv := json.patch(dataset_pv, [{"op": "add", "path": "/spec/csi/volumeAttributes", "value": {"bucketName": "b", "cache": "ephemeral", "cacheEphemeralStorageClassName": "standard"}}])
	count(rule.violation) == 0 with input as testing.review(pv)
	legacy := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"}, "provisioner": "kubernetes.io/aws-ebs"}
	count(rule.violation) == 1 with input as testing.review(pv) with data.inventory as {"cluster": {"StorageClass": {"standard": legacy}}}
}

# --- PVC ---

test_pvc_with_a_class_is_denied if {
	pvc := json.patch(dataset_pvc, [{"op": "replace", "path": "/spec/storageClassName", "value": "gp3-sc"}])
	v := findings(pvc)["/spec/storageClassName"]
	v.action == "deny"
	contains(v.msg, `is bound to Mountpoint PersistentVolume "s3-datasets-pv"`)
}

test_pvc_without_a_class_is_denied if {
	pvc := json.remove(dataset_pvc, ["/spec/storageClassName"])
	v := findings(pvc)["/spec"]
	v.action == "deny"
	contains(v.msg, "default class")
}

test_existing_pvc_is_audited if {
	pvc := json.patch(dataset_pvc, [
		{"op": "replace", "path": "/spec/storageClassName", "value": "gp3-sc"},
		{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteOnce"]},
	])
	vs := update_findings(pvc)
	vs["/spec/storageClassName"].action == "audit"
	vs["/spec/accessModes/0"].action == "audit"
	findings(pvc)["/spec/accessModes/0"].action == "warn"
}

test_pvc_of_s3_class_is_denied if {
	pvc := json.patch(json.remove(dataset_pvc, ["/spec/volumeName"]), [{"op": "replace", "path": "/spec/storageClassName", "value": "s3"}])
	[v] := [v | some v in rule.violation] with input as testing.review(pvc) with data.inventory as {"cluster": {"StorageClass": {"s3": s3_class}}}
	v.action == "deny"
	contains(v.msg, "no dynamic provisioning")
}

test_other_pvcs_out_of_scope if {
	ebs_pv := json.patch(dataset_pv, [{"op": "replace", "path": "/spec/csi/driver", "value": "ebs.csi.aws.com"}])
	pvc := json.patch(dataset_pvc, [{"op": "replace", "path": "/spec/storageClassName", "value": "gp3-sc"}])
	not rule.applies with input as testing.review(pvc) with data.inventory as {"cluster": {"PersistentVolume": {"s3-datasets-pv": ebs_pv}}}

	# Without the PV in the inventory the claim cannot be recognised.
	not rule.applies with input as testing.review(pvc)
}
