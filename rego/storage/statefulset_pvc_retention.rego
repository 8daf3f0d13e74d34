# METADATA
# title: Disposable StatefulSets delete their PVCs
# description: |
#   A StatefulSet keeps the PVCs of its volume claim templates, and so their EBS volumes,
#   after it is deleted or scaled down, unless spec.persistentVolumeClaimRetentionPolicy
#   says Delete (StatefulSetAutoDeletePVC: on by default since Kubernetes 1.27, GA in
#   1.32). StatefulSets whose role label (workloadRoleLabel) names a disposable role
#   (disposableRoles, e.g. cache) and that retain on both events get whenDeleted: Delete
#   and whenScaled: Delete, on CREATE and UPDATE (the field is updatable). Other
#   StatefulSets with claim templates that retain on both events are reported for audit
#   only; vectordb StatefulSets (systems of record, such as Qdrant) are never changed or
#   reported: Retain is right for them. A StatefulSet that already deletes on one of
#   the two events made a choice and passes. Before Kubernetes 1.27 (kubernetesMinor)
#   the field is ignored and the rule does not apply.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-012
# custom:
#   id: STORAGE-012
#   severity: low
#   kinds: [StatefulSet]
#   default_action: mutate
#   why: |
#     With the default Retain policy, every deleted or scaled-down StatefulSet leaves its
#     PVCs and EBS volumes behind, billed per GiB-month until someone notices them (the
#     "unattached volumes" of Kubecost's savings report). For caches and other data that
#     can be rebuilt, deleting the claims with the StatefulSet stops that silent cost;
#     databases keep Retain, because their data cannot be recreated.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: StatefulSet
#       metadata: {name: embedding-cache, namespace: genai, labels: {kgate.dev/role: cache}}
#       spec:
#         serviceName: embedding-cache
#         replicas: 3
#         selector: {matchLabels: {app: embedding-cache}}
#         template:
#           metadata: {labels: {app: embedding-cache}}
#           spec:
#             containers:
#             - name: cache
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/cache:1.0.0
#               volumeMounts: [{name: data, mountPath: /data}]
#         volumeClaimTemplates:
#         - metadata: {name: data}
#           spec:
#             accessModes: [ReadWriteOnce]
#             storageClassName: gp3-sc
#             resources: {requests: {storage: 20Gi}}
#     good: |
#       apiVersion: apps/v1
#       kind: StatefulSet
#       metadata: {name: embedding-cache, namespace: genai, labels: {kgate.dev/role: cache}}
#       spec:
#         serviceName: embedding-cache
#         replicas: 3
#         persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}
#         selector: {matchLabels: {app: embedding-cache}}
#         template:
#           metadata: {labels: {app: embedding-cache}}
#           spec:
#             containers:
#             - name: cache
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/cache:1.0.0
#               volumeMounts: [{name: data, mountPath: /data}]
#         volumeClaimTemplates:
#         - metadata: {name: data}
#           spec:
#             accessModes: [ReadWriteOnce]
#             storageClassName: gp3-sc
#             resources: {requests: {storage: 20Gi}}
#   params:
#     disposableRoles: [cache]
#   schema:
#     disposableRoles: {type: array, items: {type: string, not: {const: vectordb}}, description: "workload roles whose StatefulSets get whenDeleted/whenScaled: Delete (vectordb is never disposable)"}
package kgate.rules.storage.statefulset_pvc_retention

import data.kgate.lib

policy_path := "/spec/persistentVolumeClaimRetentionPolicy"

delete_policy := {"whenDeleted": "Delete", "whenScaled": "Delete"}

# Roles whose data is a system of record: never changed, never reported.
protected_roles := {"vectordb"}

applies if {
	lib.kind == "StatefulSet"
	not lib.exempt_namespace
	count(lib.get(lib.obj.spec, "volumeClaimTemplates", [])) > 0
	lib.params.kubernetesMinor >= 27
}

# role is the workload role of the StatefulSet: its own label, else its pod template's.
role := r if {
	r := lib.labels[lib.params.workloadRoleLabel]
} else := r if {
	r := lib.obj.spec.template.metadata.labels[lib.params.workloadRoleLabel]
} else := ""

disposable if {
	role in lib.params.disposableRoles
	not protected_roles[role]
}

policy := lib.get(lib.obj.spec, "persistentVolumeClaimRetentionPolicy", {})

# Both events default to Retain.
retains_all if {
	lib.get(policy, "whenDeleted", "Retain") == "Retain"
	lib.get(policy, "whenScaled", "Retain") == "Retain"
}

name := lib.obj.metadata.name

violation contains v if {
	applies
	retains_all
	disposable
	v := {
		"msg": sprintf("StatefulSet %q has role %q but keeps its PVCs (and their EBS volumes) after it is deleted or scaled down", [name, role]),
		"path": existing_path,
		"fix": "set spec.persistentVolumeClaimRetentionPolicy to {whenDeleted: Delete, whenScaled: Delete}; scaling down then also deletes the data of the removed replicas",
		"action": "mutate",
	}
}

violation contains v if {
	applies
	retains_all
	not disposable
	not protected_roles[role]
	v := {
		"msg": sprintf("StatefulSet %q keeps the PVCs of deleted and scaled-down replicas (Retain): their EBS volumes stay billed until removed by hand", [name]),
		"path": existing_path,
		"fix": sprintf("if its data can be rebuilt, set spec.persistentVolumeClaimRetentionPolicy {whenDeleted: Delete, whenScaled: Delete} (or whenScaled: Retain to keep data across scale-downs), or label it %s: <a role in disposableRoles>; keep Retain for systems of record", [lib.params.workloadRoleLabel]),
		"action": "audit",
	}
}

existing_path := policy_path if lib.obj.spec.persistentVolumeClaimRetentionPolicy != null

else := "/spec"

patch contains {"op": "add", "path": policy_path, "value": delete_policy} if {
	applies
	retains_all
	disposable
}
