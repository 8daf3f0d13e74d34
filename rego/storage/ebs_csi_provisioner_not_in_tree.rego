# METADATA
# title: EBS volumes use the CSI driver, not the in-tree plugin
# description: |
#   The in-tree kubernetes.io/aws-ebs plugin is no longer supported: every call is
#   translated to the EBS CSI driver (CSIMigrationAWS), and only the CSI driver offers
#   gp3 defaults, volume modification (VolumeAttributesClass) and the current
#   parameters. An in-tree class without a type also silently meant gp2, which costs up
#   to 20% more than gp3. New in-tree StorageClasses, awsElasticBlockStore
#   PersistentVolumes and inline awsElasticBlockStore pod volumes are rejected (Pods
#   created by a controller are warned); existing classes, such as the gp2 class EKS
#   creates in every cluster, are only reported, since provisioner and parameters are
#   immutable. With autoTranslateInTree, a new in-tree class is rewritten the way
#   csi-translation-lib translates it: provisioner, fsType, zone/zones to
#   allowedTopologies, and type gp3 when it had none.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-002
# custom:
#   id: STORAGE-002
#   severity: medium
#   kinds: [StorageClass, PersistentVolume, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   why: |
#     The in-tree kubernetes.io/aws-ebs plugin is no longer supported: its volumes only
#     work because Kubernetes translates every call to the EBS CSI driver, and the
#     in-tree type default was gp2, which costs about 20% more than gp3. Classes and
#     volumes written for the CSI driver get its current defaults (gp3), in-place volume
#     modification and the driver's parameters, and keep working on EKS Auto Mode.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp2}
#       provisioner: kubernetes.io/aws-ebs
#       parameters: {type: gp2, fsType: ext4}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-sc}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true", csi.storage.k8s.io/fstype: ext4}
#       volumeBindingMode: WaitForFirstConsumer
#       allowVolumeExpansion: true
#   params:
#     autoTranslateInTree: false
#   schema:
#     autoTranslateInTree: {type: boolean, description: "rewrite in-tree EBS classes to the CSI provisioner instead of denying"}
package kgate.rules.storage.ebs_csi_provisioner_not_in_tree

import data.kgate.lib
import data.kgate.lib.storage

csi_zone_key := "topology.ebs.csi.aws.com/zone"

applies if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

applies if count(in_tree_volumes) > 0

in_tree_class if {
	lib.kind == "StorageClass"
	lib.obj.provisioner == storage.in_tree_provisioner
}

# in_tree_volumes lists the awsElasticBlockStore volume sources of a PV or of the pod
# templates: {path, what}.
in_tree_volumes contains {"path": "/spec/awsElasticBlockStore", "what": "PersistentVolume"} if {
	lib.kind == "PersistentVolume"
	lib.obj.spec.awsElasticBlockStore
}

in_tree_volumes contains v if {
	some t in lib.pod_templates
	some i, vol in object.get(t.spec, "volumes", [])
	vol.awsElasticBlockStore
	v := {
		"path": sprintf("%s/volumes/%d/awsElasticBlockStore", [t.path, i]),
		"what": sprintf("volume %q of %s", [lib.get(vol, "name", ""), t.group]),
	}
}

# A change that keeps what the stored object already had is an existing object
# (audit); provisioner and PV sources are immutable, so only pod templates can add one.
# Volume sources live under spec: walking only spec skips managedFields, the
# last-applied annotation and status, which are most of a stored object.
existing if {
	lib.updating
	lib.kind in {"StorageClass", "PersistentVolume"}
}

existing if {
	lib.updating
	walk(object.get(input.oldObject, "spec", {}), [_, v])
	is_object(v)
	v.awsElasticBlockStore
}

# Zone parameters the translator turns into allowedTopologies.
zone_values contains trim_space(z) if {
	some k, v in lib.get(lib.obj, "parameters", {})
	lower(k) in {"zone", "zones"}
	some z in split(v, ",")
	trim_space(z) != ""
}

# The translator refuses zone/zones together with allowedTopologies.
translatable if {
	lib.creating
	lib.params.autoTranslateInTree
	not conflicting_topology
}

conflicting_topology if {
	count(zone_values) > 0
	count(lib.get(lib.obj, "allowedTopologies", [])) > 0
}

class_action := "audit" if existing

else := "mutate" if translatable

else := "deny"

class_fix := sprintf("recreate the class under a new name with provisioner %s (provisioner and parameters are immutable)", [lib.params.ebsProvisioners[0]]) if existing

else := "remove the zone/zones parameters or allowedTopologies: the CSI translation refuses both" if conflicting_topology

else := sprintf("set provisioner to %s, replace fsType with csi.storage.k8s.io/fstype and zone/zones with allowedTopologies on %s", [lib.params.ebsProvisioners[0], csi_zone_key])

violation contains v if {
	in_tree_class
	v := {
		"msg": sprintf("StorageClass %q uses the unsupported in-tree provisioner %s", [lib.obj.metadata.name, storage.in_tree_provisioner]),
		"path": "/provisioner",
		"fix": class_fix,
		"action": class_action,
	}
}

violation contains v if {
	some vol in in_tree_volumes
	v := {
		"msg": sprintf("%s %q: %s uses the in-tree awsElasticBlockStore volume source", [lib.kind, lib.obj.metadata.name, vol.what]),
		"path": vol.path,
		"fix": volume_fix,
		"action": volume_action,
	}
}

volume_fix := sprintf("use a CSI PersistentVolume (spec.csi.driver: %s, volumeHandle: the vol-... id of volumeID)", [lib.params.ebsProvisioners[0]]) if lib.kind == "PersistentVolume"

else := "mount the volume through a PersistentVolumeClaim of an EBS CSI StorageClass (or a CSI PersistentVolume) instead of awsElasticBlockStore"

# Pods created by a controller are warned: a denial would only surface as
# FailedCreate events of the controller.
volume_action := "audit" if existing

else := "warn" if {
	lib.kind == "Pod"
	lib.owned_by_controller
} else := "deny"

patch contains {"op": "replace", "path": "/provisioner", "value": lib.params.ebsProvisioners[0]} if {
	in_tree_class
	translatable
}

# fsType (any case) becomes csi.storage.k8s.io/fstype with the same value.
patch contains op if {
	in_tree_class
	translatable
	some k, v in lib.get(lib.obj, "parameters", {})
	lower(k) == "fstype"
	some op in [
		{"op": "remove", "path": concat("", ["/parameters/", lib.escape(k)])},
		{"op": "add", "path": "/parameters/csi.storage.k8s.io~1fstype", "value": v},
	]
}

patch contains op if {
	in_tree_class
	translatable
	some k, _ in lib.get(lib.obj, "parameters", {})
	lower(k) in {"zone", "zones"}
	op := {"op": "remove", "path": concat("", ["/parameters/", lib.escape(k)])}
}

patch contains op if {
	in_tree_class
	translatable
	count(zone_values) > 0
	op := {"op": "add", "path": "/allowedTopologies", "value": [{"matchLabelExpressions": [{"key": csi_zone_key, "values": sort(zone_values)}]}]}
}

# The in-tree default type was gp2; the CSI default is gp3. Write it down.
patch contains {"op": "add", "path": "/parameters/type", "value": "gp3"} if {
	in_tree_class
	translatable
	not storage.param(lib.obj, "type")
}
