# METADATA
# title: EBS StorageClasses allow volume expansion
# description: |
#   Without allowVolumeExpansion: true, a PVC of the class can never grow: a full
#   checkpoint or vector-store volume has to be copied to a new, larger claim, so teams
#   over-allocate from the start. With it, requests.storage can be raised later (EBS
#   volumes grow online; they never shrink). EBS classes without the field get
#   allowVolumeExpansion: true on CREATE and on UPDATE (the field is mutable, and only
#   enables later increases). A class that sets it to false on purpose is warned,
#   not changed.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-006
# custom:
#   id: STORAGE-006
#   severity: low
#   kinds: [StorageClass]
#   default_action: mutate
#   why: |
#     Over-allocated volumes are paid for every month whether used or not (gp3 is about
#     $0.08 per GiB-month). When a class allows expansion, a claim can start at what the
#     workload needs and grow online later; without it, the only way to grow is a copy
#     to a new claim, so teams reserve headroom up front. EBS limits how often a volume
#     can be modified, so claims should still be sized close to their need, not grown daily.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-fixed}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-fixed}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#       allowVolumeExpansion: true
package kgate.rules.storage.allow_volume_expansion

import data.kgate.lib
import data.kgate.lib.storage

applies if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

expansion := lib.get(lib.obj, "allowVolumeExpansion", null)

violation contains v if {
	applies
	expansion == null
	v := {
		"msg": sprintf("StorageClass %q does not set allowVolumeExpansion (defaults to false): its PVCs can never grow, so they get over-allocated", [lib.obj.metadata.name]),
		"path": "/allowVolumeExpansion",
		"fix": "set allowVolumeExpansion: true",
		"action": "mutate",
	}
}

violation contains v if {
	applies
	expansion != null
	expansion != true
	v := {
		"msg": sprintf("StorageClass %q sets allowVolumeExpansion: %v: its PVCs can never grow, so they get over-allocated", [lib.obj.metadata.name, expansion]),
		"path": "/allowVolumeExpansion",
		"fix": "set allowVolumeExpansion: true (the field can be changed on the existing class)",
		"action": "warn",
	}
}

patch contains {"op": "add", "path": "/allowVolumeExpansion", "value": true} if {
	applies
	expansion == null
}
