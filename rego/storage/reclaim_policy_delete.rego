# METADATA
# title: EBS volumes are deleted with their claims
# description: |
#   With reclaimPolicy Retain, deleting a PVC leaves its PersistentVolume Released and
#   its EBS volume in place: it keeps being billed until someone deletes it by hand,
#   and nothing in the cluster uses it any more. New EBS StorageClasses with Retain
#   are warned unless they carry the retainJustificationAnnotation (model checkpoints
#   that must outlive their namespace are a legitimate reason); the policy is immutable,
#   so existing classes are only reported. EBS PersistentVolumes that have been
#   Released with Retain for more than orphanDays (from status.lastPhaseTransitionTime;
#   immediately when it is unknown) are reported by the audit as orphaned volumes,
#   with their volume ID. Mountpoint for S3 volumes are not EBS and are never checked:
#   deleting them never deletes the bucket. Nothing is mutated: changing an explicit
#   Retain could lose data.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-007
# custom:
#   id: STORAGE-007
#   severity: medium
#   kinds: [StorageClass, PersistentVolume]
#   default_action: warn
#   why: |
#     A retained EBS volume outlives its claim: the PersistentVolume turns Released, no
#     Pod can use it again without manual work, and the volume is billed every month (a
#     1 TiB gp3 checkpoint volume is about $80 a month) until someone finds and deletes
#     it. Reclaim policy Delete removes the volume when its PVC is deleted; Retain should
#     be a documented exception, and old Released volumes should be cleaned up.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-retain}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       reclaimPolicy: Retain
#       volumeBindingMode: WaitForFirstConsumer
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-sc}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       reclaimPolicy: Delete
#       volumeBindingMode: WaitForFirstConsumer
#   params:
#     retainJustificationAnnotation: kgate.dev/retain-reason
#     orphanDays: 14
#   schema:
#     retainJustificationAnnotation: {type: string, minLength: 1, description: "annotation whose non-empty value justifies reclaimPolicy Retain on a StorageClass or PersistentVolume"}
#     orphanDays: {type: integer, minimum: 0, description: "days a Released, retained EBS PersistentVolume may exist before the audit reports it"}
package kgate.rules.storage.reclaim_policy_delete

import data.kgate.lib
import data.kgate.lib.storage

name := lib.obj.metadata.name

justified if trim_space(object.get(lib.annotations, lib.params.retainJustificationAnnotation, "")) != ""

# ---------------------------------------------------------------- StorageClass

ebs_class if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

applies if ebs_class

applies if ebs_volume

violation contains v if {
	ebs_class
	lib.get(lib.obj, "reclaimPolicy", "Delete") == "Retain"
	not justified
	v := {
		"msg": sprintf("StorageClass %q retains EBS volumes after their PVC is deleted: they stay billed until someone deletes them by hand", [name]),
		"path": "/reclaimPolicy",
		"fix": class_fix,
		"action": class_action,
	}
}

class_fix := sprintf("recreate the class under a new name with reclaimPolicy: Delete (the field is immutable), or annotate it %s: <reason>", [lib.params.retainJustificationAnnotation]) if {
	lib.updating
} else := sprintf("use reclaimPolicy: Delete, or annotate the class %s: <reason> (e.g. checkpoints that must outlive the namespace)", [lib.params.retainJustificationAnnotation])

# The annotation can still be added to an existing class, but the policy cannot change.
class_action := "audit" if lib.updating

else := "warn"

# ------------------------------------------------------------ PersistentVolume

ebs_volume if {
	lib.kind == "PersistentVolume"
	lib.obj.spec.csi.driver in lib.params.ebsProvisioners
}

ebs_volume if {
	lib.kind == "PersistentVolume"
	lib.obj.spec.awsElasticBlockStore
}

volume_id := lib.obj.spec.csi.volumeHandle if lib.obj.spec.csi.volumeHandle

else := lib.obj.spec.awsElasticBlockStore.volumeID if lib.obj.spec.awsElasticBlockStore.volumeID

else := "unknown"

status := lib.get(lib.obj, "status", {})

released_since := time.parse_rfc3339_ns(status.lastPhaseTransitionTime)

orphan_ns := ((lib.params.orphanDays * 24) * 3600) * 1000000000

age_days := floor((time.now_ns() - released_since) / ((24 * 3600) * 1000000000))

old_enough if time.now_ns() - released_since > orphan_ns

# Without a transition time the release date is unknown: report it.
old_enough if not released_since

orphaned if {
	ebs_volume
	lib.get(lib.obj.spec, "persistentVolumeReclaimPolicy", "Retain") == "Retain"
	status.phase == "Released"
	not justified
	old_enough
}

since := sprintf("for %d days", [age_days]) if released_since

else := "since an unknown time"

violation contains v if {
	orphaned
	v := {
		"msg": sprintf("PersistentVolume %q (EBS volume %s) has been Released with reclaimPolicy Retain %s: it is billed but no claim uses it", [name, volume_id, since]),
		"path": "/spec/persistentVolumeReclaimPolicy",
		"fix": sprintf("snapshot EBS volume %s if its data is still needed, then delete the PersistentVolume and the volume (or annotate the PV %s: <reason>)", [volume_id, lib.params.retainJustificationAnnotation]),
		"action": "audit",
	}
}
