package kgate.rules.image.pinned_images_cache_friendly_pull_test

import data.kgate.lib.testing
import data.kgate.rules.image.pinned_images_cache_friendly_pull as rule

repo := "111122223333.dkr.ecr.us-west-2.amazonaws.com/llm-server"

digest := "sha256:0d3c5f0b8e0e6a0d9c3f0b6a1e2d4c5b6a7980e1f2a3b4c5d6e7f8091a2b3c4d"

gpu := {"requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 1}, "limits": {"memory": "64Gi", "nvidia.com/gpu": 1}}

cpu := {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}

# container builds a container; policy "" leaves imagePullPolicy out.
container(image, policy, resources) := c if {
	policy == ""
	c := {"name": "server", "image": image, "resources": resources}
} else := {"name": "server", "image": image, "imagePullPolicy": policy, "resources": resources}

pod(ctr) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "llm-server", "namespace": "genai"},
	"spec": {"containers": [ctr]},
}

deployment(ctr, labels) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "llm-server", "namespace": "genai"},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "llm-server"}},
		"template": {
			"metadata": {"labels": object.union({"app": "llm-server"}, labels)},
			"spec": {"containers": [ctr]},
		},
	},
}

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

mutating := {"mutatePinnedPullPolicy": true}

test_latest_tag_warns if {
	[v] := findings(pod(container(concat(":", [repo, "latest"]), "", cpu)))
	v.action == "warn"
	v.path == "/spec/containers/0/image"
	contains(v.msg, "the tag latest")
	contains(v.msg, "imagePullPolicy Always")
	contains(v.fix, "IfNotPresent")
}

test_untagged_image_warns if {
	[v] := findings(pod(container(repo, "", cpu)))
	contains(v.msg, "no tag")
}

# An explicit Always on a moving tag is one finding, about the tag.
test_latest_with_explicit_always_is_one_finding if {
	[v] := findings(pod(container(concat(":", [repo, "latest"]), "Always", gpu)))
	v.path == "/spec/containers/0/image"
	contains(v.msg, "imagePullPolicy Always")
}

test_latest_with_if_not_present_still_warns if {
	[v] := findings(pod(container(concat(":", [repo, "latest"]), "IfNotPresent", cpu)))
	contains(v.msg, "imagePullPolicy IfNotPresent")
}

test_pinned_images_pass if {
	every ctr in [
		container(concat(":", [repo, "2.3.1"]), "", gpu),
		container(concat(":", [repo, "2.3.1"]), "IfNotPresent", gpu),
		container(concat("", [repo, ":2.3.1@", digest]), "IfNotPresent", gpu),
		container(concat("@", [repo, digest]), "", gpu),
		container(concat("", [repo, ":2.3.1@", digest]), "Never", gpu),
	] {
		rule.applies with input as testing.review(pod(ctr))
		count(findings(pod(ctr))) == 0
	}
}

test_always_on_gpu_pod_warns if {
	[v] := findings(pod(container(concat(":", [repo, "2.3.1"]), "Always", gpu)))
	v.action == "warn"
	v.path == "/spec/containers/0/imagePullPolicy"
	contains(v.msg, "GPU/inference pod")
	contains(v.fix, "pin the image by digest")
}

# Edge case: Always does not download layers already on the node with the same
# digest, but it needs the registry at every start; on CPU pods it is left alone.
test_always_on_cpu_pod_passes if {
	count(findings(pod(container(concat(":", [repo, "2.3.1"]), "Always", cpu)))) == 0
	count(findings(pod(container(concat("", [repo, ":2.3.1@", digest]), "Always", cpu)))) == 0
}

test_always_message_explains_registry_round_trip if {
	[v] := findings(pod(container(concat("", [repo, ":2.3.1@", digest]), "Always", gpu)))
	contains(v.msg, "layers already on the node are not downloaded again")
	contains(v.msg, "waits for the registry")
	v.fix == "set imagePullPolicy: IfNotPresent (the digest pins the content)"
}

# repo:latest@sha256:... is pinned, but the API server still defaults Always.
test_latest_with_digest_defaults_to_always if {
	image := concat("", [repo, ":latest@", digest])
	count(findings(pod(container(image, "", cpu)))) == 0
	[v] := findings(pod(container(image, "", gpu)))
	v.path == "/spec/containers/0/image"
	contains(v.msg, "the default for the tag latest")
}

test_inference_role_counts_as_large if {
	ctr := container(concat(":", [repo, "2.3.1"]), "Always", cpu)
	[v] := findings(deployment(ctr, {"kgate.dev/role": "inference"}))
	v.path == "/spec/template/spec/containers/0/imagePullPolicy"
	count(findings(deployment(ctr, {"kgate.dev/role": "ui"}))) == 0
	labelled := json.patch(deployment(ctr, {}), [{"op": "add", "path": "/metadata/labels", "value": {"kgate.dev/role": "training"}}])
	count(findings(labelled)) == 1
	count([v | some v in rule.violation with input as testing.review_with(deployment(ctr, {"kgate.dev/role": "inference"}), {"largeImageRoles": ["training"]})]) == 0
}

test_init_containers_are_checked if {
	p := json.patch(pod(container(concat(":", [repo, "2.3.1"]), "", cpu)), [{"op": "add", "path": "/spec/initContainers", "value": [{"name": "fetch-model", "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/s5cmd"}]}])
	[v] := findings(p)
	v.path == "/spec/initContainers/0/image"
}

test_injected_sidecar_is_skipped if {
	p := json.patch(pod(container(concat(":", [repo, "2.3.1"]), "", gpu)), [{"op": "add", "path": "/spec/containers/-", "value": {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:latest", "imagePullPolicy": "Always"}}])
	count(findings(p)) == 0
}

test_exempt_namespace_out_of_scope if {
	p := json.patch(pod(container(concat(":", [repo, "latest"]), "", cpu)), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(p)
	count(findings(p)) == 0
}

test_no_mutation_by_default if {
	p := pod(container(concat("", [repo, ":2.3.1@", digest]), "Always", gpu))
	count(rule.patch) == 0 with input as testing.review(p)
}

test_digest_pinned_gpu_pod_is_mutated if {
	p := pod(container(concat("", [repo, ":2.3.1@", digest]), "Always", gpu))
	inp := testing.review_with(p, mutating)
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "mutate"
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/imagePullPolicy", "value": "IfNotPresent"}} with input as inp
}

test_defaulted_always_is_mutated if {
	p := pod(container(concat("", [repo, ":latest@", digest]), "", gpu))
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/imagePullPolicy", "value": "IfNotPresent"}} with input as testing.review_with(p, mutating)
}

test_mutation_is_idempotent if {
	p := pod(container(concat("", [repo, ":latest@", digest]), "", gpu))
	ops := [op | some op in rule.patch with input as testing.review_with(p, mutating)]

	# The engine turns a replace of a missing member into an add; testing.apply would
	# take the array element /spec/containers/0 for a missing parent map.
	patched := json.patch(p, [object.union(op, {"op": "add"}) | some op in ops])
	patched.spec.containers[0].imagePullPolicy == "IfNotPresent"
	count(rule.violation) == 0 with input as testing.review_with(patched, mutating)
	count(rule.patch) == 0 with input as testing.review_with(patched, mutating)
	rule.applies with input as testing.review_with(patched, mutating)
}

test_tag_pinned_without_digest_is_not_mutated if {
	inp := testing.review_with(pod(container(concat(":", [repo, "2.3.1"]), "Always", gpu)), mutating)
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	count(rule.patch) == 0 with input as inp
}

test_template_is_warned_not_mutated if {
	inp := testing.review_with(deployment(container(concat("", [repo, ":2.3.1@", digest]), "Always", gpu), {}), mutating)
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	count(rule.patch) == 0 with input as inp
}

test_pod_update_is_warned_not_mutated if {
	p := pod(container(concat("", [repo, ":2.3.1@", digest]), "Always", gpu))
	inp := object.union(testing.review_update(p, p), {"params": object.union(data.kgate.defaults, mutating)})
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	count(rule.patch) == 0 with input as inp
}
