package kgate.rules.storage.ephemeral_storage_bounded_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ephemeral_storage_bounded as rule

image := "111122223333.dkr.ecr.us-west-2.amazonaws.com/loader:1.0.0"

# The catalog's bad example.
loader := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "loader", "namespace": "genai"},
	"spec": {
		"containers": [{
			"name": "loader",
			"image": image,
			"resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "8Gi"}},
			"volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}, {"name": "dshm", "mountPath": "/dev/shm"}],
		}],
		"volumes": [{"name": "scratch", "emptyDir": {}}, {"name": "dshm", "emptyDir": {"medium": "Memory"}}],
	},
}

# The catalog's good example.
bounded := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "loader", "namespace": "genai"},
	"spec": {
		"containers": [{
			"name": "loader",
			"image": image,
			"resources": {
				"requests": {"cpu": "2", "memory": "12Gi", "ephemeral-storage": "20Gi"},
				"limits": {"memory": "12Gi", "ephemeral-storage": "30Gi"},
			},
			"volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}, {"name": "dshm", "mountPath": "/dev/shm"}],
		}],
		"volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "25Gi"}}, {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "4Gi"}}],
	},
}

deployment(pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "loader", "namespace": "genai"},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "loader"}},
		"template": {"metadata": {"labels": {"app": "loader"}}, "spec": pod.spec},
	},
}

by_path(vs) := {v.path: v | some v in vs}

test_bad_example_is_warned_three_times if {
	found_vs := [v | some v in rule.violation] with input as testing.review(loader)
	vs := by_path(found_vs)
	object.keys(vs) == {"/spec/containers/0/resources", "/spec/volumes/0/emptyDir", "/spec/volumes/1/emptyDir"}
	every v in vs {
		v.action == "warn"
	}
	contains(vs["/spec/containers/0/resources"].msg, `emptyDir "scratch" without a limits.ephemeral-storage`)
	contains(vs["/spec/volumes/0/emptyDir"].msg, `emptyDir "scratch" has no sizeLimit`)
	contains(vs["/spec/volumes/1/emptyDir"].msg, `memory-backed emptyDir "dshm" (shared memory, /dev/shm) has no sizeLimit`)
	count(rule.patch) == 0 with input as testing.review(loader)
}

test_good_example_passes if {
	rule.applies with input as testing.review(bounded)
	count(rule.violation) == 0 with input as testing.review(bounded)
}

test_no_memory_headroom_is_warned if {
	pod := json.patch(bounded, [{"op": "replace", "path": "/spec/containers/0/resources/limits/memory", "value": "4Gi"}])
	[v] := [v | some v in rule.violation] with input as testing.review(pod)
	v.path == "/spec/containers/0/resources/limits/memory"
	contains(v.msg, `limits.memory 4Gi`)
}

test_templates_are_checked_at_their_path if {
	d := deployment(loader)
	found_vs := [v | some v in rule.violation] with input as testing.review(d)
	vs := by_path(found_vs)
	object.keys(vs) == {"/spec/template/spec/containers/0/resources", "/spec/template/spec/volumes/0/emptyDir", "/spec/template/spec/volumes/1/emptyDir"}
	contains(vs["/spec/template/spec/containers/0/resources"].msg, `Deployment "loader"`)
}

test_template_update_is_checked if {
	d := deployment(loader)
	count(rule.violation) == 3 with input as testing.review_update(d, d)
}

# Pod specs are immutable: an UPDATE (e.g. a label change) cannot fix anything.
test_pod_update_is_not_checked if {
	rule.applies with input as testing.review_update(loader, loader)
	count(rule.violation) == 0 with input as testing.review_update(loader, loader)
}

# Only the disk-backed emptyDir is unbounded here.
scratch_only := json.patch(bounded, [{"op": "replace", "path": "/spec/volumes/0/emptyDir", "value": {}}])

test_default_size_limit_mutates_pods if {
	params := {"defaultEmptyDirSizeLimit": "10Gi"}
	[v] := [v | some v in rule.violation] with input as testing.review_with(scratch_only, params)
	v.action == "mutate"
	v.path == "/spec/volumes/0/emptyDir"
	rule.patch == {{"op": "add", "path": "/spec/volumes/0/emptyDir/sizeLimit", "value": "10Gi"}} with input as testing.review_with(scratch_only, params)
}

test_default_size_limit_is_idempotent if {
	params := {"defaultEmptyDirSizeLimit": "10Gi"}
	ops := [op | some op in rule.patch] with input as testing.review_with(scratch_only, params)

	# json.patch, not testing.apply: testing.apply looks list indices up as map keys and
	# would insert a new volume at /spec/volumes/0. The emptyDir map exists, so the
	# engine applies this op unchanged.
	patched := json.patch(scratch_only, ops)
	patched.spec.volumes[0].emptyDir.sizeLimit == "10Gi"
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)
}

test_default_size_limit_off_by_default if {
	[v] := [v | some v in rule.violation] with input as testing.review(scratch_only)
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review(scratch_only)
}

test_default_size_limit_never_on_templates if {
	params := {"defaultEmptyDirSizeLimit": "10Gi"}
	d := deployment(scratch_only)
	[v] := [v | some v in rule.violation] with input as testing.review_with(d, params)
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review_with(d, params)
}

test_default_size_limit_skips_shared_memory if {
	params := {"defaultEmptyDirSizeLimit": "10Gi"}
	pod := json.patch(scratch_only, [{"op": "replace", "path": "/spec/volumes/1/emptyDir", "value": {}}])
	found_vs := [v | some v in rule.violation] with input as testing.review_with(pod, params)
	vs := by_path(found_vs)
	vs["/spec/volumes/1/emptyDir"].action == "warn"
	rule.patch == {{"op": "add", "path": "/spec/volumes/0/emptyDir/sizeLimit", "value": "10Gi"}} with input as testing.review_with(pod, params)
}

test_shared_memory_recognised_by_mount_path if {
	pod := json.patch(loader, [
		{"op": "replace", "path": "/spec/volumes/1/name", "value": "tmpfs"},
		{"op": "replace", "path": "/spec/containers/0/volumeMounts/1/name", "value": "tmpfs"},
	])
	found_vs := [v | some v in rule.violation] with input as testing.review(pod)
	vs := by_path(found_vs)
	contains(vs["/spec/volumes/1/emptyDir"].msg, "shared memory")
}

# Edge case: the EFA NCCL example mounts /dev/shm from the host, not as an emptyDir.
test_host_path_dev_shm_passes if {
	pod := json.patch(bounded, [{"op": "replace", "path": "/spec/volumes/1", "value": {"name": "dshm", "hostPath": {"path": "/dev/shm"}}}])
	rule.applies with input as testing.review(pod)
	count(rule.violation) == 0 with input as testing.review(pod)
}

# Edge case: GPU nodes with NVMe instance store should serve ephemeral storage from it.
test_gpu_pods_are_pointed_at_instance_store if {
	pod := json.patch(loader, [{"op": "add", "path": "/spec/containers/0/resources/limits/nvidia.com~1gpu", "value": 1}])
	found_vs := [v | some v in rule.violation] with input as testing.review(pod)
	vs := by_path(found_vs)
	contains(vs["/spec/containers/0/resources"].fix, "instanceStorePolicy: RAID0")
	found_vs2 := [v | some v in rule.violation] with input as testing.review(loader)
	vs2 := by_path(found_vs2)
	not contains(vs2["/spec/containers/0/resources"].fix, "RAID0")
}

test_limit_range_default_counts_for_templates if {
	d := deployment(json.patch(bounded, [{"op": "remove", "path": "/spec/containers/0/resources/limits/ephemeral-storage"}]))
	[v] := [v | some v in rule.violation] with input as testing.review(d)
	v.path == "/spec/template/spec/containers/0/resources"
	lr := {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "genai"}, "spec": {"limits": [{"type": "Container", "default": {"ephemeral-storage": "20Gi"}}]}}
	count(rule.violation) == 0 with input as testing.review(d) with data.inventory as {"namespace": {"genai": {"LimitRange": {"defaults": lr}}}}
}

test_read_only_mounts_do_not_need_a_limit if {
	pod := json.patch(bounded, [
		{"op": "remove", "path": "/spec/containers/0/resources/limits/ephemeral-storage"},
		{"op": "add", "path": "/spec/containers/0/volumeMounts/0/readOnly", "value": true},
	])
	count(rule.violation) == 0 with input as testing.review(pod)
}

test_init_container_writing_scratch_is_warned if {
	pod := json.patch(bounded, [{"op": "add", "path": "/spec/initContainers", "value": [{"name": "fetch-weights", "image": image, "volumeMounts": [{"name": "scratch", "mountPath": "/models"}]}]}])
	[v] := [v | some v in rule.violation] with input as testing.review(pod)
	v.path == "/spec/initContainers/0/resources"
	contains(v.msg, `init container "fetch-weights"`)
}

test_injected_sidecars_are_skipped if {
	pod := json.patch(bounded, [{"op": "add", "path": "/spec/containers/-", "value": {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0", "volumeMounts": [{"name": "scratch", "mountPath": "/etc/istio/proxy"}]}}])
	count(rule.violation) == 0 with input as testing.review(pod)
}

test_exempt_namespace_out_of_scope if {
	pod := json.patch(loader, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(pod)
	count(rule.violation) == 0 with input as testing.review(pod)
}
