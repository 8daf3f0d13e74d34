# METADATA
# title: Ephemeral storage and emptyDir volumes are bounded
# description: |
#   Scratch space on a node is shared: a Pod that writes an unbounded emptyDir fills the
#   node's root volume and gets its neighbours evicted, and a memory-backed emptyDir
#   (medium: Memory, e.g. /dev/shm for NCCL or the PyTorch DataLoader) without a
#   sizeLimit can grow until the container is OOM-killed, because its files count
#   against the memory limit. In pod templates and Pods of non-exempt namespaces the
#   rule warns about containers that write a disk-backed emptyDir without
#   limits.ephemeral-storage (a LimitRange default counts), disk-backed emptyDirs
#   without sizeLimit, memory-backed emptyDirs without sizeLimit, and containers whose
#   limits.memory leaves no headroom over the sizeLimit of the memory-backed volumes they
#   write. With defaultEmptyDirSizeLimit set, a Pod being created gets that sizeLimit on
#   its disk-backed emptyDirs, shared-memory volumes (shmVolumeNames or mounted at
#   /dev/shm) excepted; off by default, because a Pod that outgrows it is evicted.
#   hostPath /dev/shm mounts are not emptyDirs and are not checked. Pod specs are
#   immutable, so UPDATEs of Pods and Jobs are not checked.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-013
# custom:
#   id: STORAGE-013
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   referential: true
#   inventory: [LimitRange]
#   why: |
#     Without limits, one Pod's scratch files or logs can fill a node's root volume and
#     get every Pod on it evicted, and teams answer by buying larger root volumes for all
#     nodes. Ephemeral-storage requests and limits let Karpenter pick nodes with enough
#     disk (and size Fargate's task storage, 20 GiB by default, up to 175 GiB), and a
#     sizeLimit on /dev/shm keeps a DataLoader from turning into an OOM kill.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: loader, namespace: genai}
#       spec:
#         containers:
#         - name: loader
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/loader:1.0.0
#           resources: {requests: {cpu: "2", memory: 8Gi}, limits: {memory: 8Gi}}
#           volumeMounts: [{name: scratch, mountPath: /scratch}, {name: dshm, mountPath: /dev/shm}]
#         volumes:
#         - {name: scratch, emptyDir: {}}
#         - {name: dshm, emptyDir: {medium: Memory}}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: loader, namespace: genai}
#       spec:
#         containers:
#         - name: loader
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/loader:1.0.0
#           resources:
#             requests: {cpu: "2", memory: 12Gi, ephemeral-storage: 20Gi}
#             limits: {memory: 12Gi, ephemeral-storage: 30Gi}
#           volumeMounts: [{name: scratch, mountPath: /scratch}, {name: dshm, mountPath: /dev/shm}]
#         volumes:
#         - {name: scratch, emptyDir: {sizeLimit: 25Gi}}
#         - {name: dshm, emptyDir: {medium: Memory, sizeLimit: 4Gi}}
#   params:
#     defaultEmptyDirSizeLimit: ""
#     shmVolumeNames: [dshm, shm]
#   schema:
#     defaultEmptyDirSizeLimit: {type: string, pattern: '^([0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?)?$', description: "sizeLimit added to the disk-backed emptyDir volumes of Pods being created (empty: never add one)"}
#     shmVolumeNames: {type: array, items: {type: string}, description: "names of shared-memory (/dev/shm) volumes, which never get the default sizeLimit"}
package kgate.rules.storage.ephemeral_storage_bounded

import data.kgate.lib
import data.kgate.lib.pods

ephemeral := "ephemeral-storage"

dev_shm := "/dev/shm"

applies if pods.workload

# Pod specs are immutable: an UPDATE of a Pod or a batch Job cannot fix a finding.
checked if {
	applies
	not frozen
}

frozen if {
	lib.updating
	pods.immutable_pod_spec
}

# empty_dirs maps the JSON pointer of every emptyDir volume to
# {template, name, memory, size_limit}: memory is true for medium: Memory, size_limit
# is null when the volume sets none.
empty_dirs[vp] := v if {
	checked
	some tp, t in lib.pod_templates
	some i, vol in lib.get(t.spec, "volumes", [])
	is_object(vol.emptyDir)
	vp := sprintf("%s/volumes/%d", [tp, i])
	v := {
		"template": tp,
		"name": vol.name,
		"memory": object.get(vol.emptyDir, "medium", "") == "Memory",
		"size_limit": lib.get(vol.emptyDir, "sizeLimit", null),
	}
}

volume_paths[[e.template, e.name]] := vp if some vp, e in empty_dirs

# mounts holds the [container path, volume path] pairs of the emptyDirs each container
# (injected sidecars excepted) mounts writable.
mounts contains [cp, vp] if {
	count(empty_dirs) > 0
	some cp, c in lib.containers
	not lib.ignored_container(c.name)
	some m in lib.get(c.container, "volumeMounts", [])
	not m.readOnly == true
	vp := volume_paths[[c.template, m.name]]
}

# shm holds the shared-memory volumes: named in shmVolumeNames or mounted at /dev/shm.
shm contains vp if {
	some vp, e in empty_dirs
	e.name in lib.params.shmVolumeNames
}

shm contains vp if {
	count(empty_dirs) > 0
	some cp, c in lib.containers
	some m in lib.get(c.container, "volumeMounts", [])
	m.mountPath == dev_shm
	vp := volume_paths[[c.template, m.name]]
}

bytes(q) := q if is_number(q)

else := units.parse(q) if is_string(q)

# --- containers that write disk-backed emptyDirs without an ephemeral-storage limit ---

disk_writers[cp] contains empty_dirs[vp].name if {
	some [cp, vp] in mounts
	not empty_dirs[vp].memory
}

violation contains v if {
	some cp, names in disk_writers
	c := lib.containers[cp]
	lib.get(c.limits, ephemeral, null) == null
	not limit_range_limit
	v := {
		"msg": sprintf("%s writes emptyDir %s without a limits.ephemeral-storage: it can fill the node's disk and get other Pods evicted", [pods.container_ref(cp), concat(", ", [sprintf("%q", [n]) | some n in sort(names)])]),
		"path": concat("", [cp, "/resources"]),
		"fix": concat("", [
			"set resources.limits.ephemeral-storage (and a request) to what the container writes to emptyDir, its writable layer and logs: above it the Pod alone is evicted, and Karpenter and Fargate size nodes from the request",
			instance_store_hint(c.template),
		]),
		"action": "warn",
	}
}

instance_store_hint(tp) := "; on GPU nodes with NVMe instance store, set EC2NodeClass instanceStorePolicy: RAID0 so ephemeral storage comes from the local disks, not a large gp3 root volume" if {
	pods.has_accelerator(tp)
} else := ""

# limit_range_limit is true when a LimitRange of the namespace gives containers a
# default ephemeral-storage limit (from default or max), as LimitRanger does for Pods.
limit_range_limit if {
	some lr in object.get(data.inventory, ["namespace", lib.namespace, "LimitRange"], {})
	some item in lib.get(lib.get(lr, "spec", {}), "limits", [])
	item.type == "Container"
	some key in ["default", "max"]
	lib.get(lib.get(item, key, {}), ephemeral, null) != null
}

# --- disk-backed emptyDirs without sizeLimit ---

# auto_size holds the volumes that get defaultEmptyDirSizeLimit: disk-backed emptyDirs
# of a Pod being created (mutations target Pods at CREATE), shared memory excepted.
auto_size contains vp if {
	lib.kind == "Pod"
	lib.creating
	lib.params.defaultEmptyDirSizeLimit != ""
	some vp in unsized_disk
	not shm[vp]
}

unsized_disk contains vp if {
	some vp, e in empty_dirs
	not e.memory
	e.size_limit == null
}

violation contains v if {
	some vp in unsized_disk
	v := {
		"msg": sprintf("%s: emptyDir %q has no sizeLimit: it can grow until the node's disk is full", [pods.template_ref(empty_dirs[vp].template), empty_dirs[vp].name]),
		"path": concat("", [vp, "/emptyDir"]),
		"fix": disk_fix(vp),
		"action": disk_action(vp),
	}
}

disk_fix(vp) := sprintf("set emptyDir.sizeLimit: %s (added now; the Pod is evicted if it writes more)", [lib.params.defaultEmptyDirSizeLimit]) if {
	auto_size[vp]
} else := "set emptyDir.sizeLimit to the scratch space the Pod needs (e.g. 10Gi); a Pod that writes more is evicted, so size it from observed use"

disk_action(vp) := "mutate" if auto_size[vp]

else := "warn"

patch contains {"op": "add", "path": concat("", [vp, "/emptyDir/sizeLimit"]), "value": lib.params.defaultEmptyDirSizeLimit} if {
	some vp in auto_size
}

# --- memory-backed emptyDirs ---

violation contains v if {
	some vp, e in empty_dirs
	e.memory
	e.size_limit == null
	v := {
		"msg": sprintf("%s: memory-backed emptyDir %q%s has no sizeLimit: its files count against the container's memory limit and can get it OOM-killed", [pods.template_ref(e.template), e.name, shm_words[shm_flag(vp)]]),
		"path": concat("", [vp, "/emptyDir"]),
		"fix": "set emptyDir.sizeLimit to what the workload keeps in it (e.g. 4Gi to 16Gi of /dev/shm for PyTorch DataLoader workers or NCCL) and keep limits.memory above it",
		"action": "warn",
	}
}

shm_flag(vp) if shm[vp]

else := false

shm_words := {true: " (shared memory, /dev/shm)", false: ""}

# sized_memory maps each container to the sized memory-backed emptyDirs it writes.
sized_memory[cp] contains vp if {
	some [cp, vp] in mounts
	empty_dirs[vp].memory
	empty_dirs[vp].size_limit != null
}

violation contains v if {
	some cp, vps in sized_memory
	memory_limit := lib.containers[cp].limits.memory
	in_memory := sum([bytes(empty_dirs[vp].size_limit) | some vp in vps])
	bytes(memory_limit) <= in_memory
	v := {
		"msg": sprintf("%s has limits.memory %v, no more than the sizeLimit of the memory-backed emptyDir %s it writes: a full volume leaves the process no memory", [pods.container_ref(cp), memory_limit, concat(", ", sort([sprintf("%q", [empty_dirs[vp].name]) | some vp in vps]))]),
		"path": concat("", [cp, "/resources/limits/memory"]),
		"fix": "raise limits.memory above the volumes' sizeLimit plus what the process itself needs, or lower the sizeLimit",
		"action": "warn",
	}
}
