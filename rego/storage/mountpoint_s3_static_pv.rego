# METADATA
# title: Mountpoint for S3 volumes are static, in-region, read-only for datasets
# description: |
#   The Mountpoint for Amazon S3 CSI driver (s3.csi.aws.com) mounts an existing bucket
#   through a statically provisioned PersistentVolume; it has no dynamic provisioning.
#   Rejected: a StorageClass of the driver, a Mountpoint PV without
#   volumeAttributes.bucketName, a Mountpoint PV with a non-empty storageClassName, and a
#   PVC bound (volumeName) to a Mountpoint PV, or naming a class of the driver, whose
#   storageClassName is not "" (the default class would be used and the claim never
#   binds). Warned: ReadWriteOnce/ReadWriteOncePod access modes (the driver serves
#   ReadWriteMany and ReadOnlyMany), a region mount option other than the cluster's
#   region (cross-region transfer cost and latency), dataset volumes (datasetSelector)
#   that are writable or carry allow-delete, outside allowDeleteNamespaces (by the
#   namespace of the claimRef), and a local cache on a gp2 StorageClass
#   (cacheEphemeralStorageClassName). A new Mountpoint PV without a region mount option
#   gets `region <region>`; an existing one is warned. Immutable fields (the CSI source,
#   a StorageClass, a PVC's class) are reported for audit on UPDATE: they need a new
#   object.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-014
# custom:
#   id: STORAGE-014
#   severity: high
#   kinds: [PersistentVolume, PersistentVolumeClaim, StorageClass]
#   default_action: deny
#   referential: true
#   inventory: [PersistentVolume, StorageClass]
#   why: |
#     Mountpoint for Amazon S3 lets training and inference Pods read datasets and model
#     artifacts straight from S3 at S3 prices instead of copying them onto EBS volumes.
#     A misconfigured volume either never mounts (no bucket, a StorageClass that makes
#     the default EBS class take over), or quietly costs money: a bucket read from
#     another region pays inter-region transfer on every epoch, and a writable dataset
#     volume with allow-delete lets one buggy job delete the training data.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: PersistentVolume
#       metadata: {name: s3-demo-pv}
#       spec:
#         capacity: {storage: 1200Gi}
#         accessModes: [ReadWriteOnce]
#         storageClassName: gp3-sc
#         csi:
#           driver: s3.csi.aws.com
#           volumeHandle: s3-csi-driver-volume
#           volumeAttributes: {}
#     good: |
#       apiVersion: v1
#       kind: PersistentVolume
#       metadata: {name: s3-datasets-pv, labels: {kgate.dev/data-use: dataset}}
#       spec:
#         capacity: {storage: 1200Gi}
#         accessModes: [ReadOnlyMany]
#         storageClassName: ""
#         claimRef: {namespace: genai, name: s3-datasets-pvc}
#         mountOptions: ["region us-west-2", "prefix train/"]
#         csi:
#           driver: s3.csi.aws.com
#           volumeHandle: s3-datasets-volume
#           volumeAttributes: {bucketName: genai-datasets-111122223333}
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: s3-datasets-pvc, namespace: genai}
#       spec:
#         accessModes: [ReadOnlyMany]
#         storageClassName: ""
#         resources: {requests: {storage: 1200Gi}}
#         volumeName: s3-datasets-pv
#   params:
#     datasetSelector:
#       matchLabels: {kgate.dev/data-use: dataset}
#     allowDeleteNamespaces: []
#   schema:
#     datasetSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of Mountpoint PersistentVolumes that hold datasets (read-only; an empty selector selects none)"}
#     allowDeleteNamespaces: {type: array, items: {type: string}, description: "namespaces whose claims may mount dataset volumes writable or with allow-delete (e.g. data preparation)"}
package kgate.rules.storage.mountpoint_s3_static_pv

import data.kgate.lib
import data.kgate.lib.karpenter
import data.kgate.lib.mountpoint_s3 as s3
import data.kgate.lib.storage

applies if s3.pv

applies if s3_class

applies if s3_claim

name := lib.obj.metadata.name

# --- StorageClass ---

s3_class if {
	lib.kind == "StorageClass"
	lib.obj.provisioner == s3.driver
}

violation contains v if {
	s3_class
	v := {
		"msg": sprintf("StorageClass %q uses provisioner %s, which supports only static provisioning: claims of this class stay Pending", [name, s3.driver]),
		"path": "/provisioner",
		"fix": fix("delete the class; mount buckets through a PersistentVolume with storageClassName: \"\" and a PVC with storageClassName: \"\" and volumeName", "delete the class (provisioner is immutable); mount buckets through a PersistentVolume with storageClassName: \"\" and a PVC with storageClassName: \"\" and volumeName"),
		"action": immutable_action,
	}
}

# On UPDATE, immutable fields are reported for audit: fixing them needs a new object,
# and denying would block unrelated changes (labels, claimRef binding).
immutable_action := "audit" if lib.updating

else := "deny"

fix(new, existing) := existing if lib.updating

else := new

# --- PersistentVolume ---

violation contains v if {
	s3.pv
	not s3.bucket
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q names no bucket (csi.volumeAttributes.bucketName): it cannot mount", [name]),
		"path": attributes_path,
		"fix": fix("set csi.volumeAttributes.bucketName to the bucket name (the access point ARN or alias for S3 on Outposts)", "recreate the PersistentVolume with csi.volumeAttributes.bucketName (the CSI source is immutable)"),
		"action": immutable_action,
	}
}

attributes_path := "/spec/csi/volumeAttributes" if is_object(lib.obj.spec.csi.volumeAttributes)

else := "/spec/csi"

violation contains v if {
	s3.pv
	class := lib.get(lib.obj.spec, "storageClassName", "")
	class != ""
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q has storageClassName %q; Mountpoint volumes are static and belong to no class", [name, class]),
		"path": "/spec/storageClassName",
		"fix": "set storageClassName: \"\" on the PersistentVolume and on its PVC",
		"action": pv_class_action,
	}
}

# A PV's class is mutable, but an existing PV is updated by the PV controller when it
# binds: warn instead of blocking it.
pv_class_action := "warn" if lib.updating

else := "deny"

violation contains v if {
	s3.pv
	some i, mode in lib.get(lib.obj.spec, "accessModes", [])
	mode in single_node_modes
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q uses access mode %s; the driver serves ReadWriteMany and ReadOnlyMany", [name, mode]),
		"path": sprintf("/spec/accessModes/%d", [i]),
		"fix": "use ReadOnlyMany for data the Pods only read (the driver then mounts read-only), ReadWriteMany otherwise",
		"action": "warn",
	}
}

single_node_modes := {"ReadWriteOnce", "ReadWriteOncePod"}

# --- region ---

region := lib.params.region

region_indices := object.get(s3.option_indices, "--region", set())

violation contains v if {
	s3.pv
	region != ""
	count(region_indices) == 0
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q sets no region mount option", [name]),
		"path": options_path,
		"fix": region_fix,
		"action": region_action,
	}
}

region_action := "mutate" if lib.creating

else := "warn"

region_fix := sprintf("added mount option \"region %s\"; if the bucket is in another region, set its region instead and expect inter-region transfer charges", [region]) if {
	lib.creating
} else := sprintf("add mount option \"region %s\" (the bucket's region; mount options apply at the next mount)", [region])

options_path := "/spec/mountOptions" if is_array(lib.obj.spec.mountOptions)

else := "/spec"

violation contains v if {
	s3.pv
	region != ""
	some i in region_indices
	s3.options[i].value != region
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q reads a bucket in region %q, not the cluster's region %s: every read pays inter-region transfer and latency", [name, s3.options[i].value, region]),
		"path": sprintf("/spec/mountOptions/%d", [i]),
		"fix": sprintf("use a bucket in %s (replicate the data, e.g. with S3 Replication), or accept the cost with kgate.dev/exempt", [region]),
		"action": "warn",
	}
}

patch contains op if {
	s3.pv
	lib.creating
	region != ""
	count(region_indices) == 0
	op := add_region
}

add_region := {"op": "add", "path": "/spec/mountOptions/-", "value": sprintf("region %s", [region])} if {
	is_array(lib.obj.spec.mountOptions)
} else := {"op": "add", "path": "/spec/mountOptions", "value": [sprintf("region %s", [region])]}

# --- datasets ---

dataset if {
	s3.pv
	karpenter.selector_matches(lib.params.datasetSelector, lib.labels)
	not object.get(lib.obj.spec, ["claimRef", "namespace"], "") in lib.params.allowDeleteNamespaces
}

# The driver mounts read-only when the access modes are ReadOnlyMany alone, or with
# the read-only option.
read_only if lib.obj.spec.accessModes == ["ReadOnlyMany"]

read_only if s3.option_indices["--read-only"]

violation contains v if {
	dataset
	not read_only
	v := {
		"msg": sprintf("dataset volume %q is mounted writable: any job using it can change the training data", [name]),
		"path": "/spec/accessModes",
		"fix": "use accessModes: [ReadOnlyMany] (the driver then adds --read-only); write datasets from a data-preparation namespace listed in allowDeleteNamespaces",
		"action": "warn",
	}
}

violation contains v if {
	dataset
	some i in object.get(s3.option_indices, "--allow-delete", set())
	v := {
		"msg": sprintf("dataset volume %q carries mount option allow-delete: any job using it can delete objects from the bucket", [name]),
		"path": sprintf("/spec/mountOptions/%d", [i]),
		"fix": "remove allow-delete (or use a separate volume in a namespace listed in allowDeleteNamespaces)",
		"action": "warn",
	}
}

# --- local cache ---

cache_class := s3.attributes.cacheEphemeralStorageClassName

violation contains v if {
	s3.pv
	gp2_cache
	v := {
		"msg": sprintf("Mountpoint PersistentVolume %q caches on StorageClass %q, which provisions gp2 volumes", [name, cache_class]),
		"path": "/spec/csi/volumeAttributes/cacheEphemeralStorageClassName",
		"fix": fix("name a gp3 StorageClass in cacheEphemeralStorageClassName (STORAGE-001)", "recreate the PersistentVolume with a gp3 class in cacheEphemeralStorageClassName (the CSI source is immutable; STORAGE-001)"),
		"action": "warn",
	}
}

gp2_cache if lower(storage.param(data.inventory.cluster.StorageClass[cache_class], "type").value) == "gp2"

gp2_cache if {
	sc := data.inventory.cluster.StorageClass[cache_class]
	sc.provisioner == storage.in_tree_provisioner
	not storage.param(sc, "type")
}

# Unknown to the inventory: "gp2" is the in-tree gp2 class EKS creates in every cluster.
gp2_cache if {
	cache_class == "gp2"
	not data.inventory.cluster.StorageClass[cache_class]
}

# --- PersistentVolumeClaim ---

s3_claim if {
	lib.kind == "PersistentVolumeClaim"
	not lib.exempt_namespace
	claim_target
}

# claim_target describes what makes the claim a Mountpoint claim.
claim_target := sprintf("is bound to Mountpoint PersistentVolume %q", [lib.obj.spec.volumeName]) if {
	s3.inventory_pv(lib.obj.spec.volumeName)
} else := sprintf("names StorageClass %q of %s, which has no dynamic provisioning", [claim_class, s3.driver]) if {
	data.inventory.cluster.StorageClass[claim_class].provisioner == s3.driver
}

claim_class := lib.get(lib.obj.spec, "storageClassName", null)

violation contains v if {
	s3_claim
	claim_class != ""
	v := {
		"msg": sprintf("PVC %q %s but its storageClassName is %s: it never binds", [name, claim_target, class_words]),
		"path": claim_class_path,
		"fix": fix("set storageClassName: \"\" and volumeName to the Mountpoint PersistentVolume", "recreate the PVC with storageClassName: \"\" and volumeName (its class cannot change)"),
		"action": immutable_action,
	}
}

class_words := "unset (the default class applies)" if claim_class == null

else := sprintf("%q", [claim_class])

claim_class_path := "/spec/storageClassName" if claim_class != null

else := "/spec"

violation contains v if {
	s3_claim
	some i, mode in lib.get(lib.obj.spec, "accessModes", [])
	mode in single_node_modes
	v := {
		"msg": sprintf("PVC %q %s and asks for access mode %s; the driver serves ReadWriteMany and ReadOnlyMany", [name, claim_target, mode]),
		"path": sprintf("/spec/accessModes/%d", [i]),
		"fix": fix("use ReadOnlyMany for data the Pods only read, ReadWriteMany otherwise (and the same on the PersistentVolume)", "recreate the PVC with ReadOnlyMany or ReadWriteMany (its access modes cannot change)"),
		"action": claim_mode_action,
	}
}

# A PVC's access modes are immutable: reported for audit on UPDATE.
claim_mode_action := "audit" if lib.updating

else := "warn"
