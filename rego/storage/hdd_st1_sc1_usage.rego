# METADATA
# title: HDD EBS volumes (st1/sc1) are large, sequential and cold
# description: |
#   Throughput Optimized (st1) and Cold HDD (sc1) volumes cost a fraction of SSD
#   volumes for logs, backups and other sequentially read, rarely accessed data, but
#   they exist only from 125 GiB (EC2 refuses smaller ones, so the claim stays Pending)
#   and deliver at most 500 (st1) or 250 (sc1) IOPS. A new PVC or StatefulSet
#   volumeClaimTemplate of an st1/sc1 class smaller than hddMinSizeGi is denied (warned
#   when a PVC is updated, audited for existing StatefulSets, whose templates are
#   immutable). Workloads whose role label (workloadRoleLabel) is one of randomIoRoles,
#   such as vector databases, are warned when they mount an st1/sc1 volume: a PVC with
#   that role, a StatefulSet's claim templates, or a pod template's PVC. A PVC labelled
#   kgate.dev/data-tier: cold on an SSD class is reported by the audit as a candidate
#   for sc1. Classes and claims are read from the inventory (a claim without a class
#   gets the single default class); nothing is reported while they are unknown, and
#   nothing is mutated: the class decides performance.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-009
# custom:
#   id: STORAGE-009
#   severity: medium
#   kinds: [PersistentVolumeClaim, StatefulSet, Pod, Deployment, ReplicaSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   referential: true
#   inventory: [StorageClass, PersistentVolumeClaim]
#   why: |
#     sc1 costs about a fifth and st1 about half of gp3 per GiB, which makes them the
#     right home for logs, backups and other cold data read sequentially. But EBS only
#     creates them from 125 GiB, so a small claim hangs in Pending, and their few hundred
#     IOPS make random-access workloads such as vector databases crawl. Checking size and
#     workload role at admission keeps cheap HDD storage where it fits.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: ctx-sc1-cold}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: sc1, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: logs, namespace: genai}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: ctx-sc1-cold
#         resources: {requests: {storage: 20Gi}}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: ctx-sc1-cold}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: sc1, encrypted: "true"}
#       volumeBindingMode: WaitForFirstConsumer
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: logs, namespace: genai}
#       spec:
#         accessModes: [ReadWriteOnce]
#         storageClassName: ctx-sc1-cold
#         resources: {requests: {storage: 500Gi}}
#   params:
#     hddMinSizeGi: 125
#     randomIoRoles: [vectordb]
#   schema:
#     hddMinSizeGi: {type: integer, minimum: 1, description: "smallest st1/sc1 volume EC2 creates, in GiB"}
#     randomIoRoles: {type: array, items: {type: string}, description: "values of workloadRoleLabel whose workloads do random I/O and should not use st1/sc1"}
package kgate.rules.storage.hdd_st1_sc1_usage

import data.kgate.lib
import data.kgate.lib.ebs_sizes
import data.kgate.lib.storage

hdd_types := {"st1", "sc1"}

ssd_types := {"gp2", "gp3", "io1", "io2"}

data_tier_label := "kgate.dev/data-tier"

role_label := lib.params.workloadRoleLabel

name := lib.obj.metadata.name

# class_type is the volume type of an EBS class, lower-cased (gp3, the driver's
# default, when unset); undefined for other provisioners.
class_type(sc) := t if {
	storage.ebs_class(sc)
	t := lower(ebs_sizes.type(sc))
	t != ""
} else := "gp3" if storage.ebs_class(sc)

min_gi := lib.params.hddMinSizeGi

random_io_role(labels) := r if {
	r := object.get(labels, role_label, "")
	r in lib.params.randomIoRoles
}

# ------------------------------------------------------------------------- PVC

pvc_class := ebs_sizes.pvc_class

pvc_type := class_type(pvc_class)

pvc_gib := ebs_sizes.gib(lib.obj.spec.resources.requests.storage)

applies if pvc_type in hdd_types

applies if {
	pvc_type in ssd_types
	lib.labels[data_tier_label] == "cold"
}

violation contains v if {
	pvc_type in hdd_types
	pvc_gib < min_gi
	v := {
		"msg": sprintf("PVC %q asks for %d GiB of StorageClass %q (%s), but EBS creates %s volumes only from %d GiB: the claim stays Pending", [name, pvc_gib, pvc_class.metadata.name, pvc_type, pvc_type, min_gi]),
		"path": "/spec/resources/requests/storage",
		"fix": sprintf("request at least %dGi, or use a gp3 class for small volumes", [min_gi]),
		"action": small_pvc_action,
	}
}

# A PVC update can only grow the claim: warn rather than block it.
small_pvc_action := "warn" if lib.updating

else := "deny"

violation contains v if {
	pvc_type in hdd_types
	role := random_io_role(lib.labels)
	v := {
		"msg": sprintf("PVC %q has role %s, which does random I/O, but StorageClass %q provisions %s (HDD, at most %d IOPS)", [name, role, pvc_class.metadata.name, pvc_type, hdd_iops[pvc_type]]),
		"path": "/spec/storageClassName",
		"fix": role_fix,
		"action": role_action,
	}
}

hdd_iops := {"st1": 500, "sc1": 250}

role_fix := "recreate the claim with a gp3 StorageClass (the class of a claim cannot change)" if lib.updating

else := "use a gp3 StorageClass (with provisioned iops if needed) for random-access data"

role_action := "audit" if lib.updating

else := "warn"

violation contains v if {
	pvc_type in ssd_types
	lib.labels[data_tier_label] == "cold"
	v := {
		"msg": sprintf("PVC %q is labelled %s: cold but uses StorageClass %q (%s SSD)", [name, data_tier_label, pvc_class.metadata.name, pvc_type]),
		"path": "/spec/storageClassName",
		"fix": sprintf("for cold, sequentially read data of at least %d GiB, an sc1 (or st1) StorageClass costs a fraction of SSD", [min_gi]),
		"action": "audit",
	}
}

# ---------------------------------------------------------------- StatefulSet

# hdd_templates maps the index of every volumeClaimTemplate of an st1/sc1 class to
# {class, type, gib}.
hdd_templates[i] := t if {
	lib.kind == "StatefulSet"
	some i, vct in lib.get(lib.obj.spec, "volumeClaimTemplates", [])
	spec := lib.get(vct, "spec", {})
	sc := ebs_sizes.class_named(lib.get(spec, "storageClassName", null))
	type := class_type(sc)
	type in hdd_types
	t := {"class": sc.metadata.name, "type": type, "name": lib.get(lib.get(vct, "metadata", {}), "name", ""), "size": object.get(spec, ["resources", "requests", "storage"], null)}
}

applies if count(hdd_templates) > 0

violation contains v if {
	some i, t in hdd_templates
	gib := ebs_sizes.gib(t.size)
	gib < min_gi
	v := {
		"msg": sprintf("StatefulSet %q: volumeClaimTemplate %q asks for %d GiB of StorageClass %q (%s), but EBS creates %s volumes only from %d GiB: its claims stay Pending", [name, t.name, gib, t.class, t.type, t.type, min_gi]),
		"path": sprintf("/spec/volumeClaimTemplates/%d/spec/resources/requests/storage", [i]),
		"fix": template_fix(sprintf("request at least %dGi, or use a gp3 class for small volumes", [min_gi])),
		"action": template_action("deny"),
	}
}

statefulset_role := r if {
	r := random_io_role(lib.labels)
} else := r if {
	r := random_io_role(lib.get(lib.get(lib.obj.spec.template, "metadata", {}), "labels", {}))
}

violation contains v if {
	some i, t in hdd_templates
	role := statefulset_role
	v := {
		"msg": sprintf("StatefulSet %q has role %s, which does random I/O, but volumeClaimTemplate %q uses StorageClass %q (%s, HDD, at most %d IOPS)", [name, role, t.name, t.class, t.type, hdd_iops[t.type]]),
		"path": sprintf("/spec/volumeClaimTemplates/%d/spec/storageClassName", [i]),
		"fix": template_fix("use a gp3 StorageClass (with provisioned iops if needed) for random-access data"),
		"action": template_action("warn"),
	}
}

# volumeClaimTemplates are immutable: existing StatefulSets are only reported.
template_fix(new) := sprintf("recreate the StatefulSet (and its claims): %s", [new]) if lib.updating

else := new

template_action(action) := "audit" if {
	lib.updating
} else := action

# ------------------------------------------------------------- pod templates

# workload_role is the random-I/O role of a pod template (its labels, else the
# object's); only such templates are looked at.
workload_role[tp] := r if {
	some tp, _ in lib.pod_templates
	r := template_role(tp)
}

template_role(tp) := r if {
	r := random_io_role(lib.get(lib.pod_templates[tp].meta, "labels", {}))
} else := r if {
	r := random_io_role(lib.labels)
}

claims := object.get(data.inventory, ["namespace", lib.namespace, "PersistentVolumeClaim"], {})

# mounted_claims maps the path of every PVC volume of a random-I/O template to
# {claim, class, type}, for claims and EBS classes found in the inventory.
mounted_claims[path] := m if {
	some tp, _ in workload_role
	some i, vol in lib.get(lib.pod_templates[tp].spec, "volumes", [])
	claim := vol.persistentVolumeClaim.claimName
	pvc := claims[claim]
	sc := ebs_sizes.class_named(lib.get(lib.get(pvc, "spec", {}), "storageClassName", null))
	type := class_type(sc)
	path := sprintf("%s/volumes/%d/persistentVolumeClaim/claimName", [tp, i])
	m := {"claim": claim, "class": sc.metadata.name, "type": type, "role": workload_role[tp]}
}

applies if count(mounted_claims) > 0

violation contains v if {
	some path, m in mounted_claims
	m.type in hdd_types
	v := {
		"msg": sprintf("%s %q has role %s, which does random I/O, but mounts PVC %q of StorageClass %q (%s, HDD, at most %d IOPS)", [lib.kind, name, m.role, m.claim, m.class, m.type, hdd_iops[m.type]]),
		"path": path,
		"fix": "move the data to a PVC of a gp3 StorageClass (with provisioned iops if needed)",
		"action": "warn",
	}
}
