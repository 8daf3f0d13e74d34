# METADATA
# title: PVCs request the storage they need
# description: |
#   A provisioned volume is billed for its full size from the first day, used or not,
#   and EBS volumes cannot shrink. A PVC, or a StatefulSet volume claim template (one
#   volume per replica), that requests more than maxPvcSizeGi allows for its namespace
#   ("*" is the default) is warned unless annotation kgate.dev/size-justification
#   explains the size; a request above hardCapGi is rejected. Claims that name a gp2 or
#   in-tree EBS class (from the StorageClass inventory; the default class when they name
#   none) are warned, since gp2 ties IOPS to size and invites over-allocation. Static
#   claims (storageClassName: "") and claims of drivers that ignore the size (Mountpoint
#   for S3, EFS) are out of scope. A PVC is checked when it is created and when its size
#   grows; claim templates are immutable, so a StatefulSet is checked when it is created.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-011
# custom:
#   id: STORAGE-011
#   severity: medium
#   kinds: [PersistentVolumeClaim, StatefulSet]
#   default_action: warn
#   referential: true
#   inventory: [StorageClass, PersistentVolume]
#   why: |
#     EBS bills every provisioned GiB (gp3 about $0.08 per GiB-month) whether the
#     filesystem is full or empty, and a volume can grow in place but never shrink, so a
#     2 TiB claim "to be safe" costs 200 times a 10 GiB one for as long as it exists, and
#     a StatefulSet multiplies it by its replicas. Start from what the data needs and let
#     allowVolumeExpansion grow it; gp2 classes make this worse because their IOPS grow
#     only with size (3 IOPS per GiB).
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: demo-pvc, namespace: genai}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: gp2
#         resources: {requests: {storage: 2Ti}}
#     good: |
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: demo-pvc, namespace: genai}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: gp3-sc
#         resources: {requests: {storage: 10Gi}}
#   params:
#     maxPvcSizeGi: {"*": 1000}
#     hardCapGi: 16384
#   schema:
#     maxPvcSizeGi: {type: object, additionalProperties: {type: number, minimum: 0}, description: "largest claim in GiB per namespace without a kgate.dev/size-justification annotation; key \"*\" applies to namespaces not listed"}
#     hardCapGi: {type: number, minimum: 0, description: "claims above this size in GiB are rejected even with a justification (0: no hard cap)"}
package kgate.rules.storage.pvc_right_sized

import data.kgate.lib
import data.kgate.lib.mountpoint_s3
import data.kgate.lib.storage

justification_key := "kgate.dev/size-justification"

gib := 1073741824

# Drivers that ignore the requested size: Mountpoint for S3 and EFS are elastic.
size_ignored := {mountpoint_s3.driver, "efs.csi.aws.com"}

# claims maps the JSON pointer of every claim spec of the object to
# {path, spec, name, annotations}: the PVC itself, or each volume claim template.
claims["/spec"] := {"path": "/spec", "spec": lib.obj.spec, "name": lib.obj.metadata.name, "annotations": lib.annotations} if {
	lib.kind == "PersistentVolumeClaim"
	is_object(lib.obj.spec)
}

claims[p] := c if {
	lib.kind == "StatefulSet"
	some i, t in lib.get(lib.obj.spec, "volumeClaimTemplates", [])
	is_object(t.spec)
	p := sprintf("/spec/volumeClaimTemplates/%d/spec", [i])
	meta := lib.get(t, "metadata", {})
	c := {
		"path": p,
		"spec": t.spec,
		"name": lib.get(meta, "name", ""),
		"annotations": object.union(lib.annotations, lib.get(meta, "annotations", {})),
	}
}

# class_names maps each claim to the StorageClass it is provisioned from: its
# storageClassName, or the cluster's default class when it names none.
class_names[p] := name if {
	some p, c in claims
	name := lib.get(c.spec, "storageClassName", null)
	is_string(name)
}

class_names[p] := default_class if {
	some p, c in claims
	lib.get(c.spec, "storageClassName", null) == null
	default_class
}

default_class := name if {
	[name] := [n |
		some n, sc in object.get(data.inventory, ["cluster", "StorageClass"], {})
		lib.get(lib.get(sc, "metadata", {}), "annotations", {})["storageclass.kubernetes.io/is-default-class"] == "true"
	]
}

classes[p] := data.inventory.cluster.StorageClass[name] if some p, name in class_names

# dynamic holds the claims that provision a volume whose size is billed.
dynamic contains p if {
	some p, c in claims
	lib.get(c.spec, "storageClassName", null) != ""
	not ignores_size(p)
	not static_s3(p)
}

# ignores_size is a function so that `not` sees an unknown class as "not ignored";
# written inline, OPA would hoist the class lookup out of the negation.
ignores_size(p) if size_ignored[classes[p].provisioner]

# A claim bound by volumeName to a Mountpoint volume provisions nothing.
static_s3(p) if mountpoint_s3.inventory_pv(claims[p].spec.volumeName)

applies if {
	lib.kind in {"PersistentVolumeClaim", "StatefulSet"}
	not lib.exempt_namespace
	count(dynamic) > 0
}

# --- size ---

# quantities maps each claim to the storage it requests, as written.
quantities[p] := claims[p].spec.resources.requests.storage if some p in dynamic

# sizes maps each claim to its request in bytes; undefined for a value that is not a
# quantity (e.g. an unrendered "$SIZE").
sizes[p] := bytes(q) if some p, q in quantities

bytes(q) := q if is_number(q)

else := units.parse(q) if is_string(q)

gi(b) := round((b / gib) * 100) / 100

soft_limit := n if {
	n := lib.params.maxPvcSizeGi[lib.namespace]
	is_number(n)
} else := n if {
	n := lib.params.maxPvcSizeGi["*"]
	is_number(n)
}

hard_cap := lib.params.hardCapGi if lib.params.hardCapGi > 0

# Claim templates are immutable, and a PVC's size can only grow: check a StatefulSet
# when it is created, a PVC when it is created or its size changes.
size_checked if {
	applies
	lib.creating
}

size_checked if {
	applies
	lib.updating
	lib.kind == "PersistentVolumeClaim"
	object.get(input.oldObject, ["spec", "resources", "requests", "storage"], null) != quantities["/spec"]
}

over_cap contains p if {
	size_checked
	some p, b in sizes
	b > hard_cap * gib
}

over_limit contains p if {
	size_checked
	some p, b in sizes
	not over_cap[p]
	b > soft_limit * gib
	not justified(p)
}

justified(p) if trim_space(claims[p].annotations[justification_key]) != ""

violation contains v if {
	some p in over_cap
	v := {
		"msg": sprintf("%s requests %v (%v GiB), above the hard cap of %v GiB", [claim_ref(p), quantities[p], gi(sizes[p]), hard_cap]),
		"path": storage_path(p),
		"fix": sprintf("request at most %v GiB: split the data over several volumes, or keep datasets and checkpoints in S3 (Mountpoint for Amazon S3)", [hard_cap]),
		"action": "deny",
	}
}

violation contains v if {
	some p in over_limit
	v := {
		"msg": sprintf("%s requests %v (%v GiB%s), more than the %v GiB allowed in namespace %q without a size justification", [claim_ref(p), quantities[p], gi(sizes[p]), total(p), soft_limit, lib.namespace]),
		"path": storage_path(p),
		"fix": sprintf("request what the data needs now%s, or explain the size in annotation %s", [growth(p), justification_key]),
		"action": "warn",
	}
}

storage_path(p) := concat("", [p, "/resources/requests/storage"])

claim_ref(p) := sprintf("PVC %q", [claims[p].name]) if lib.kind == "PersistentVolumeClaim"

else := sprintf("StatefulSet %q claim template %q", [lib.obj.metadata.name, claims[p].name])

# total shows what a StatefulSet provisions across its replicas.
total(p) := sprintf(" per replica, %v GiB for %d replicas", [gi(sizes[p] * n), n]) if {
	lib.kind == "StatefulSet"
	n := lib.get(lib.obj.spec, "replicas", 1)
	is_number(n)
	n > 1
} else := ""

# The growth path: EBS volumes grow in place when the class allows expansion
# (STORAGE-006) and never shrink.
growth(p) := sprintf(" and grow it later (StorageClass %q allows expansion; volumes never shrink)", [class_names[p]]) if {
	classes[p].allowVolumeExpansion == true
} else := sprintf(" (volumes never shrink); to grow it later, StorageClass %q needs allowVolumeExpansion: true (STORAGE-006)", [class_names[p]]) if {
	classes[p]
} else := " (volumes never shrink; growing later needs a StorageClass with allowVolumeExpansion: true, STORAGE-006)"

# --- gp2 and in-tree classes (STORAGE-001/002) ---

gp2_class(p) if lower(storage.param(classes[p], "type").value) == "gp2"

gp2_class(p) if {
	classes[p].provisioner == storage.in_tree_provisioner
	not storage.param(classes[p], "type")
}

in_tree_class(p) if classes[p].provisioner == storage.in_tree_provisioner

violation contains v if {
	applies
	lib.creating
	some p in dynamic
	gp2_class(p)
	v := {
		"msg": sprintf("%s uses StorageClass %q, which provisions gp2 volumes: their IOPS grow only with size (3 IOPS per GiB), which invites over-allocation", [claim_ref(p), class_names[p]]),
		"path": class_path(p),
		"fix": "use a gp3 StorageClass and size the volume for its data; buy IOPS and throughput separately if needed (STORAGE-001)",
		"action": "warn",
	}
}

violation contains v if {
	applies
	lib.creating
	some p in dynamic
	in_tree_class(p)
	not gp2_class(p)
	v := {
		"msg": sprintf("%s uses StorageClass %q of the in-tree provisioner %s", [claim_ref(p), class_names[p], storage.in_tree_provisioner]),
		"path": class_path(p),
		"fix": "use a StorageClass of the EBS CSI driver (ebs.csi.aws.com) with type gp3 (STORAGE-002)",
		"action": "warn",
	}
}

class_path(p) := concat("", [p, "/storageClassName"]) if lib.get(claims[p].spec, "storageClassName", null) != null

else := p
