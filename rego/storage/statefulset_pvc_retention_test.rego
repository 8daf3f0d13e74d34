package kgate.rules.storage.statefulset_pvc_retention_test

import data.kgate.lib.testing
import data.kgate.rules.storage.statefulset_pvc_retention as rule

cache := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "embedding-cache", "namespace": "genai", "labels": {"kgate.dev/role": "cache"}},
	"spec": {
		"serviceName": "embedding-cache",
		"replicas": 3,
		"selector": {"matchLabels": {"app": "embedding-cache"}},
		"template": {
			"metadata": {"labels": {"app": "embedding-cache"}},
			"spec": {"containers": [{"name": "cache", "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/cache:1.0.0"}]},
		},
		"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3-sc", "resources": {"requests": {"storage": "20Gi"}}}}],
	},
}

delete_patch := {{"op": "add", "path": "/spec/persistentVolumeClaimRetentionPolicy", "value": {"whenDeleted": "Delete", "whenScaled": "Delete"}}}

with_role(sts, role) := json.patch(sts, [{"op": "replace", "path": "/metadata/labels", "value": {"kgate.dev/role": role}}])

with_policy(sts, policy) := json.patch(sts, [{"op": "add", "path": "/spec/persistentVolumeClaimRetentionPolicy", "value": policy}])

test_cache_gets_delete_policy if {
	[v] := [v | some v in rule.violation] with input as testing.review(cache)
	v.action == "mutate"
	v.path == "/spec"
	rule.patch == delete_patch with input as testing.review(cache)
}

test_patched_cache_passes if {
	ops := [op | some op in rule.patch] with input as testing.review(cache)
	patched := testing.apply(cache, ops)
	rule.applies with input as testing.review(patched)
	count(rule.violation) == 0 with input as testing.review(patched)
	count(rule.patch) == 0 with input as testing.review(patched)
}

# The field is updatable: existing caches are fixed on UPDATE too.
test_cache_update_is_mutated if {
	[v] := [v | some v in rule.violation] with input as testing.review_update(cache, cache)
	v.action == "mutate"
	rule.patch == delete_patch with input as testing.review_update(cache, cache)
}

test_explicit_retain_on_cache_is_mutated if {
	sts := with_policy(cache, {"whenDeleted": "Retain", "whenScaled": "Retain"})
	[v] := [v | some v in rule.violation] with input as testing.review(sts)
	v.path == "/spec/persistentVolumeClaimRetentionPolicy"
	rule.patch == delete_patch with input as testing.review(sts)
}

test_partial_policy_is_completed if {
	sts := with_policy(cache, {"whenDeleted": "Retain"})
	rule.patch == delete_patch with input as testing.review(sts)
}

# Edge case: whenScaled: Delete destroys the data of removed replicas, so a cache that
# already deletes on one event keeps its choice.
test_one_delete_is_a_choice if {
	every policy in [{"whenDeleted": "Delete", "whenScaled": "Retain"}, {"whenDeleted": "Delete"}, {"whenDeleted": "Retain", "whenScaled": "Delete"}] {
		sts := with_policy(cache, policy)
		rule.applies with input as testing.review(sts)
		count(rule.violation) == 0 with input as testing.review(sts)
		count(rule.patch) == 0 with input as testing.review(sts)
	}
}

test_fix_warns_about_scale_down if {
	[v] := [v | some v in rule.violation] with input as testing.review(cache)
	contains(v.fix, "scaling down then also deletes the data")
}

test_vectordb_is_never_changed if {
	sts := with_role(cache, "vectordb")
	rule.applies with input as testing.review(sts)
	count(rule.violation) == 0 with input as testing.review(sts)
	count(rule.patch) == 0 with input as testing.review(sts)

	# even when a configuration lists it
	count(rule.patch) == 0 with input as testing.review_with(sts, {"disposableRoles": ["cache", "vectordb"]})
}

test_other_roles_are_audited if {
	sts := with_role(cache, "inference")
	[v] := [v | some v in rule.violation] with input as testing.review(sts)
	v.action == "audit"
	count(rule.patch) == 0 with input as testing.review(sts)
}

test_unlabelled_statefulset_is_audited if {
	sts := json.remove(cache, ["/metadata/labels"])
	[v] := [v | some v in rule.violation] with input as testing.review(sts)
	v.action == "audit"
}

test_dataprep_when_configured if {
	sts := with_role(cache, "dataprep")
	rule.patch == delete_patch with input as testing.review_with(sts, {"disposableRoles": ["cache", "dataprep"]})
}

test_role_from_pod_template if {
	sts := json.patch(json.remove(cache, ["/metadata/labels"]), [{"op": "add", "path": "/spec/template/metadata/labels/kgate.dev~1role", "value": "cache"}])
	rule.patch == delete_patch with input as testing.review(sts)
}

test_custom_role_label if {
	sts := json.patch(cache, [{"op": "replace", "path": "/metadata/labels", "value": {"team.example.com/role": "cache"}}])
	rule.patch == delete_patch with input as testing.review_with(sts, {"workloadRoleLabel": "team.example.com/role"})
}

test_no_claim_templates_out_of_scope if {
	sts := json.remove(cache, ["/spec/volumeClaimTemplates"])
	not rule.applies with input as testing.review(sts)
	count(rule.violation) == 0 with input as testing.review(sts)
}

# The policy is ignored before Kubernetes 1.27 (StatefulSetAutoDeletePVC off by default).
test_old_kubernetes_out_of_scope if {
	not rule.applies with input as testing.review_with(cache, {"kubernetesMinor": 26})
	count(rule.patch) == 0 with input as testing.review_with(cache, {"kubernetesMinor": 26})
}

test_exempt_namespace_out_of_scope if {
	sts := json.patch(cache, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(sts)
	count(rule.violation) == 0 with input as testing.review(sts)
}
