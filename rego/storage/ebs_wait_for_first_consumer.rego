# METADATA
# title: EBS StorageClasses bind volumes when the first Pod is scheduled
# description: |
#   EBS volumes are zonal. With volumeBindingMode Immediate (the default) the volume's
#   AZ is chosen before the Pod is scheduled, which can force a GPU Pod into an AZ
#   without capacity, outside its single-AZ NodePool, or away from its peers (cross-AZ
#   traffic at $0.01/GB each way). WaitForFirstConsumer lets the scheduler and Karpenter
#   pick the zone first; the EBS CSI driver recommends it whenever possible. New classes
#   get WaitForFirstConsumer; existing classes are reported, since the field is
#   immutable. Classes listed in allowImmediateFor (static or pre-bound volumes) keep
#   Immediate.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-003
# custom:
#   id: STORAGE-003
#   severity: medium
#   kinds: [StorageClass]
#   default_action: mutate
#   why: |
#     EBS volumes live in one Availability Zone. With Immediate binding the volume's zone
#     is picked before the Pod is scheduled, so a GPU Pod can be forced into a zone with
#     no free capacity or outside its single-AZ training NodePool, or end up talking to
#     its peers across zones ($0.01/GB in each direction). WaitForFirstConsumer creates
#     the volume where the scheduler (and Karpenter) put the Pod.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-immediate}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       volumeBindingMode: Immediate
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-wffc}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#   params:
#     allowImmediateFor: []
#   schema:
#     allowImmediateFor: {type: array, items: {type: string}, description: "StorageClass names allowed volumeBindingMode Immediate"}
package kgate.rules.storage.ebs_wait_for_first_consumer

import data.kgate.lib
import data.kgate.lib.storage

wffc := "WaitForFirstConsumer"

applies if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

mode := lib.get(lib.obj, "volumeBindingMode", "")

immediate if {
	mode != wffc
	not lib.obj.metadata.name in lib.params.allowImmediateFor
}

describe := "has no volumeBindingMode (defaults to Immediate)" if mode == ""

else := sprintf("has volumeBindingMode %s", [mode])

violation contains v if {
	applies
	immediate
	v := {
		"msg": sprintf("StorageClass %q %s: EBS volumes are created in a zone chosen before the Pod is scheduled", [lib.obj.metadata.name, describe]),
		"path": path,
		"fix": fix,
		"action": action,
	}
}

# The offending field; when absent it resolves to the object's first line.
path := "/volumeBindingMode"

fix := "recreate the class under a new name with volumeBindingMode: WaitForFirstConsumer (the field is immutable)" if lib.updating

else := "set volumeBindingMode: WaitForFirstConsumer (or list the class in allowImmediateFor if its PVCs must bind before any Pod exists)"

action := "audit" if lib.updating

else := "mutate"

patch contains {"op": patch_op, "path": "/volumeBindingMode", "value": wffc} if {
	applies
	immediate
	lib.creating
}

patch_op := "replace" if mode != ""

else := "add"
