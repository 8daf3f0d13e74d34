# METADATA
# title: Provisioned-IOPS EBS volumes (io1/io2) are justified
# description: |
#   io1 and io2 volumes bill every provisioned IOPS on top of capacity, and io2 Block
#   Express only reaches its 256,000 IOPS on Nitro instances; most checkpoint and
#   dataset volumes are served by gp3 with provisioned iops and throughput
#   (STORAGE-005) for a fraction of the price. New io1/io2 StorageClasses are warned
#   unless annotated kgate.dev/iops-justification, and new io1 classes are warned when
#   preferIo2 is set (io2 costs no more, is more durable, and multi-attach is
#   io2-only). A PVC that uses an io1/io2 class from a namespace
#   outside ioAllowedNamespaces is denied on CREATE (audited on UPDATE: the class of
#   an existing claim cannot change). A PVC that asks for a multi-attach block volume
#   (ReadWriteMany, volumeMode Block) of an EBS class other than io2 is warned: the
#   driver refuses it. Class types are read from the inventory; a PVC of an unknown
#   class is not judged.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-008
# custom:
#   id: STORAGE-008
#   severity: medium
#   kinds: [StorageClass, PersistentVolumeClaim]
#   default_action: warn
#   referential: true
#   inventory: [StorageClass]
#   why: |
#     io2 volumes cost more per GiB than gp3 and bill every provisioned IOPS on top:
#     a 500 GiB io2 volume with 20,000 IOPS costs several times a gp3 volume of the same
#     size with 6,000 IOPS and 500 MiB/s, which is enough for most checkpoints and
#     datasets. io2 Block Express (up to 256,000 IOPS) also needs Nitro instances to
#     deliver it. Keeping io1/io2 to justified classes and allowed namespaces stops
#     expensive volumes from spreading through copy-pasted manifests.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: ctx-io2-fast}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: io2, iops: "20000", encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: scratch, namespace: team-a}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: ctx-io2-fast
#         resources: {requests: {storage: 100Gi}}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: ctx-gp3-checkpoints}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, iops: "6000", throughput: "500", encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: scratch, namespace: team-a}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: ctx-gp3-checkpoints
#         resources: {requests: {storage: 100Gi}}
#   params:
#     ioAllowedNamespaces: []
#     preferIo2: true
#   schema:
#     ioAllowedNamespaces: {type: array, items: {type: string}, description: "namespaces whose PVCs may use io1/io2 StorageClasses"}
#     preferIo2: {type: boolean, description: "warn on new io1 StorageClasses (io2 has higher durability at the same price)"}
package kgate.rules.storage.provisioned_iops_justified

import data.kgate.lib
import data.kgate.lib.ebs_sizes
import data.kgate.lib.storage

justification_annotation := "kgate.dev/iops-justification"

io_types := {"io1", "io2"}

name := lib.obj.metadata.name

# ---------------------------------------------------------------- StorageClass

ebs_class if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

class_type := lower(ebs_sizes.type(lib.obj)) if ebs_class

applies if {
	ebs_class
	class_type in io_types
}

applies if pvc_class

type_path := concat("", ["/parameters/", lib.escape(k)]) if {
	some k, _ in lib.obj.parameters
	lower(k) == "type"
}

justified if trim_space(object.get(lib.annotations, justification_annotation, "")) != ""

violation contains v if {
	ebs_class
	class_type in io_types
	not justified
	v := {
		"msg": sprintf("StorageClass %q provisions %s volumes, which bill every provisioned IOPS (io2 reaches 256,000 IOPS only on Nitro instances), without a %s annotation", [name, class_type, justification_annotation]),
		"path": annotation_path,
		"fix": sprintf("annotate the class %s: <workload and measured IOPS need>, or use gp3 with provisioned iops and throughput, which usually suffices for checkpoints and datasets", [justification_annotation]),
		"action": "warn",
	}
}

annotation_path := lib.annotation_path(justification_annotation) if {
	lib.obj.metadata.annotations
} else := "/metadata"

violation contains v if {
	ebs_class
	class_type == "io1"
	lib.params.preferIo2
	v := {
		"msg": sprintf("StorageClass %q provisions io1 volumes: io2 costs no more, is more durable (99.999%%) and is the only type with multi-attach", [name]),
		"path": type_path,
		"fix": io1_fix,
		"action": io1_action,
	}
}

io1_fix := "recreate the class under a new name with type: io2 (parameters are immutable)" if lib.updating

else := "use type: io2"

io1_action := "audit" if lib.updating

else := "warn"

# ------------------------------------------------------------------------- PVC

pvc_class := sc if {
	lib.kind == "PersistentVolumeClaim"
	sc := ebs_sizes.pvc_class
	storage.ebs_class(sc)
	lower(ebs_sizes.type(sc)) in io_types
}

# A multi-attach block claim of any EBS class is in scope too.
pvc_class := sc if {
	lib.kind == "PersistentVolumeClaim"
	multi_attach
	sc := ebs_sizes.pvc_class
	storage.ebs_class(sc)
}

pvc_type := lower(ebs_sizes.type(pvc_class))

allowed_namespace if lib.namespace in lib.params.ioAllowedNamespaces

violation contains v if {
	sc := pvc_class
	pvc_type in io_types
	not lib.exempt_namespace
	not allowed_namespace
	v := {
		"msg": sprintf("PVC %q uses StorageClass %q (%s, billed per provisioned IOPS), but namespace %q is not in ioAllowedNamespaces", [name, sc.metadata.name, pvc_type, lib.namespace]),
		"path": "/spec/storageClassName",
		"fix": pvc_fix,
		"action": pvc_action,
	}
}

pvc_fix := "move the data to a gp3 claim, or have the namespace added to ioAllowedNamespaces (the class of an existing claim cannot change)" if lib.updating

else := "use a gp3 StorageClass with provisioned iops/throughput, or have the namespace added to ioAllowedNamespaces"

pvc_action := "audit" if lib.updating

else := "deny"

# EBS multi-attach: ReadWriteMany block volumes, io2 only.
multi_attach if {
	"ReadWriteMany" in lib.get(lib.obj.spec, "accessModes", [])
	lib.obj.spec.volumeMode == "Block"
}

violation contains v if {
	sc := pvc_class
	multi_attach
	pvc_type != "io2"
	v := {
		"msg": sprintf("PVC %q asks for a multi-attach (ReadWriteMany block) volume of StorageClass %q, but EBS multi-attach is io2-only: provisioning fails", [name, sc.metadata.name]),
		"path": "/spec/accessModes",
		"fix": "use an io2 StorageClass for multi-attach volumes, or ReadWriteOnce",
		"action": multi_attach_action,
	}
}

multi_attach_action := "audit" if lib.updating

else := "warn"
