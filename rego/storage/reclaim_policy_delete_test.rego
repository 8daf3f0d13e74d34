package kgate.rules.storage.reclaim_policy_delete_test

import data.kgate.lib.testing
import data.kgate.rules.storage.reclaim_policy_delete as rule

class(extra) := object.union(
	{
		"apiVersion": "storage.k8s.io/v1",
		"kind": "StorageClass",
		"metadata": {"name": "gp3-retain"},
		"provisioner": "ebs.csi.aws.com",
		"parameters": {"type": "gp3", "encrypted": "true"},
		"volumeBindingMode": "WaitForFirstConsumer",
	},
	extra,
)

retain := class({"reclaimPolicy": "Retain"})

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

test_retain_class_is_warned if {
	[v] := findings(retain)
	v.action == "warn"
	v.path == "/reclaimPolicy"
	contains(v.fix, "kgate.dev/retain-reason")
}

test_delete_and_default_pass if {
	every sc in [class({"reclaimPolicy": "Delete"}), class({})] {
		rule.applies with input as testing.review(sc)
		count(findings(sc)) == 0
	}
}

# Model checkpoints that must outlive their namespace: justified by the annotation.
test_justified_retain_passes if {
	sc := json.patch(retain, [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/retain-reason": "checkpoints outlive the training namespace"}}])
	count(findings(sc)) == 0
	blank := json.patch(retain, [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/retain-reason": " "}}])
	count(findings(blank)) == 1
}

test_annotation_name_is_a_parameter if {
	sc := json.patch(retain, [{"op": "add", "path": "/metadata/annotations", "value": {"example.com/why": "legal hold"}}])
	count([v | some v in rule.violation with input as testing.review_with(sc, {"retainJustificationAnnotation": "example.com/why"})]) == 0
}

test_existing_class_is_audited if {
	[v] := [v | some v in rule.violation with input as testing.review_update(retain, retain)]
	v.action == "audit"
	contains(v.fix, "immutable")
}

test_other_provisioners_are_not_in_scope if {
	efs := json.patch(retain, [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}])
	not rule.applies with input as testing.review(efs)
	count(findings(efs)) == 0
}

# PersistentVolumes

pv(spec, status) := {
	"apiVersion": "v1",
	"kind": "PersistentVolume",
	"metadata": {"name": "pvc-0a1b2c"},
	"spec": object.union(
		{
			"capacity": {"storage": "500Gi"},
			"accessModes": ["ReadWriteOnce"],
			"persistentVolumeReclaimPolicy": "Retain",
			"storageClassName": "gp3-retain",
			"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0123456789abcdef0", "fsType": "ext4"},
		},
		spec,
	),
	"status": status,
}

long_ago := {"phase": "Released", "lastPhaseTransitionTime": "2024-01-01T00:00:00Z"}

yesterday := {"phase": "Released", "lastPhaseTransitionTime": time.format(time.now_ns() - ((24 * 3600) * 1000000000))}

test_old_released_retained_volume_is_audited if {
	[v] := findings(pv({}, long_ago))
	v.action == "audit"
	contains(v.msg, "vol-0123456789abcdef0")
	contains(v.msg, "days")
}

test_recently_released_volume_passes if {
	obj := pv({}, yesterday)
	rule.applies with input as testing.review(obj)
	count(findings(obj)) == 0
	count([v | some v in rule.violation with input as testing.review_with(obj, {"orphanDays": 0})]) == 1
}

test_release_time_unknown_is_audited if {
	[v] := findings(pv({}, {"phase": "Released"}))
	contains(v.msg, "unknown time")
}

test_bound_or_deleted_volumes_pass if {
	count(findings(pv({}, {"phase": "Bound"}))) == 0
	count(findings(pv({"persistentVolumeReclaimPolicy": "Delete"}, long_ago))) == 0
}

# Static PVs default to Retain.
test_static_pv_without_policy_defaults_to_retain if {
	obj := json.remove(pv({}, long_ago), ["spec/persistentVolumeReclaimPolicy"])
	count(findings(obj)) == 1
}

test_in_tree_volume_is_checked if {
	obj := json.remove(pv({"awsElasticBlockStore": {"volumeID": "vol-0fedcba9876543210"}}, long_ago), ["spec/csi"])
	[v] := findings(obj)
	contains(v.msg, "vol-0fedcba9876543210")
}

# Mountpoint for S3 volumes are static and Retain, but deleting them never deletes the bucket.
test_mountpoint_s3_volumes_are_excluded if {
	obj := pv({"csi": {"driver": "s3.csi.aws.com", "volumeHandle": "s3-csi-driver-volume", "volumeAttributes": {"bucketName": "models"}}}, long_ago)
	not rule.applies with input as testing.review(obj)
	count(findings(obj)) == 0
}

test_justified_volume_passes if {
	obj := json.patch(pv({}, long_ago), [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/retain-reason": "legal hold until 2027"}}])
	count(findings(obj)) == 0
}
