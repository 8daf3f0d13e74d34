# METADATA
# title: EBS volumes use gp3, not gp2
# description: |
#   gp3 costs up to 20% less than gp2 and its IOPS and throughput do not grow with
#   volume size. StorageClass parameters are immutable, so admission is the only cheap
#   moment to switch: a new gp2 class without IOPS or throughput settings is converted
#   to gp3, other gp2 or in-tree classes without a type are rejected, PVCs that use a
#   gp2 class are warned, and existing classes are only reported.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-001
# custom:
#   id: STORAGE-001
#   severity: high
#   kinds: [StorageClass, PersistentVolumeClaim]
#   default_action: mutate
#   referential: true
#   inventory: [StorageClass]
#   why: |
#     gp2 volumes cost about 20% more per GiB than gp3 and tie performance to size: a
#     gp2 volume gets 3 IOPS per GiB, so teams over-provision capacity to buy IOPS. gp3
#     gives 3,000 IOPS and 125 MiB/s at any size and lets you buy more independently.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: standard}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp2}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: standard}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#   params:
#     autoConvertGp2: true
#   schema:
#     autoConvertGp2: {type: boolean, description: "convert new gp2 classes to gp3 instead of denying"}
package kgate.rules.storage.ebs_gp3_not_gp2

import data.kgate.lib
import data.kgate.lib.storage

applies if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

applies if pvc_class

pvc_class := sc if {
	lib.kind == "PersistentVolumeClaim"
	sc := storage.class_of(lib.obj)
	storage.ebs_class(sc)
}

type := storage.param(lib.obj, "type")

gp2 if lower(type.value) == "gp2"

# The in-tree provisioner defaulted to gp2.
gp2 if {
	lib.obj.provisioner == storage.in_tree_provisioner
	not type
}

sized if storage.param(lib.obj, "iops")

sized if storage.param(lib.obj, "iopsPerGB")

sized if storage.param(lib.obj, "throughput")

convertible if {
	lib.creating
	lib.params.autoConvertGp2
	type
	not sized
}

violation contains v if {
	applies
	lib.kind == "StorageClass"
	gp2
	v := {
		"msg": sprintf("StorageClass %q provisions gp2 volumes", [lib.obj.metadata.name]),
		"path": path,
		"fix": fix,
		"action": action,
	}
}

violation contains v if {
	sc := pvc_class
	lower(storage.param(sc, "type").value) == "gp2"
	v := {
		"msg": sprintf("PVC uses StorageClass %q, which provisions gp2 volumes", [sc.metadata.name]),
		"path": "/spec/storageClassName",
		"fix": "use a gp3 StorageClass; for a bound volume set spec.volumeAttributesClassName to a VolumeAttributesClass with type gp3",
		"action": "warn",
	}
}

path := concat("", ["/parameters/", lib.escape(type.key)]) if type

else := "/provisioner"

fix := "set parameters.type to gp3" if convertible

else := "recreate the class under a new name with type gp3 (parameters are immutable)" if lib.updating

else := "use type gp3 and set iops and throughput explicitly"

action := "mutate" if convertible

else := "audit" if lib.updating

else := "deny"

patch contains op if {
	applies
	gp2
	convertible
	op := {"op": "replace", "path": path, "value": "gp3"}
}
