package kgate.rules.image.regional_ecr_images_test

import data.kgate.lib.testing
import data.kgate.rules.image.regional_ecr_images as rule

regional := "111122223333.dkr.ecr.us-west-2.amazonaws.com"

cache := {"docker.io": "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub", "ghcr.io": "111122223333.dkr.ecr.us-west-2.amazonaws.com/ghcr/"}

pod(image) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "vllm", "namespace": "genai"},
	"spec": {"containers": [{"name": "vllm", "image": image}]},
}

deployment(image) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "vllm", "namespace": "genai"},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "vllm"}},
		"template": {
			"metadata": {"labels": {"app": "vllm"}},
			"spec": {"containers": [{"name": "vllm", "image": image}]},
		},
	},
}

# apply applies the rule's patch. The ops replace existing leaves inside the container
# list, so json.patch gives the engine's result; testing.apply would take the array
# element /spec/containers/0 for a missing parent map.
apply(obj, ops) := json.patch(obj, ops)

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

test_docker_hub_image_warns if {
	[v] := findings(pod("docker.io/vllm/vllm-openai:latest"))
	v.action == "warn"
	v.path == "/spec/containers/0/image"
	contains(v.msg, "public registry docker.io")
	contains(v.msg, "NAT gateway")
	contains(v.fix, "pull-through cache")
	count(rule.patch) == 0 with input as testing.review(pod("docker.io/vllm/vllm-openai:latest"))
}

test_implicit_docker_hub_and_aliases_warn if {
	every image in ["nginx:1.27", "vllm/vllm-openai:v0.6.3", "index.docker.io/library/nginx:1.27", "registry-1.docker.io/vllm/vllm-openai:v0.6.3"] {
		[v] := findings(pod(image))
		contains(v.msg, "public registry docker.io")
	}
}

test_public_registries_warn if {
	every image in ["ghcr.io/huggingface/text-generation-inference:2.4", "nvcr.io/nvidia/tritonserver:24.08-py3", "quay.io/prometheus/node-exporter:v1.8.2"] {
		[v] := findings(pod(image))
		v.action == "warn"
	}
}

# Edge case: ECR Public is served from AWS but is not the Region's private endpoint.
test_ecr_public_warns if {
	[v] := findings(pod("public.ecr.aws/neuron/pytorch-inference-neuronx:2.1.2"))
	contains(v.msg, "ECR Public")
}

test_other_region_ecr_warns if {
	[v] := findings(pod("111122223333.dkr.ecr.us-east-1.amazonaws.com/llm-server:2.3.1"))
	contains(v.msg, "ECR registry of us-east-1")
	contains(v.fix, "replicate")
}

test_regional_ecr_passes if {
	every image in [
		concat("/", [regional, "llm-server:2.3.1"]),
		concat("/", [regional, "docker-hub/vllm/vllm-openai:v0.6.3@sha256:0d3c5f0b8e0e6a0d9c3f0b6a1e2d4c5b6a7980e1f2a3b4c5d6e7f8091a2b3c4d"]),
		"111122223333.dkr.ecr-fips.us-west-2.amazonaws.com/llm-server:2.3.1",
		"111122223333.dkr-ecr.us-west-2.on.aws/llm-server:2.3.1",
	] {
		rule.applies with input as testing.review(pod(image))
		count(findings(pod(image))) == 0
	}
}

# Edge case: EKS add-on images come from AWS account 602401143452's regional ECR.
test_eks_addon_account_in_region_passes if {
	count(findings(pod("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin:v0.5.6"))) == 0
}

test_china_region if {
	image := "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/llm-server:2.3.1"
	count([v | some v in rule.violation with input as testing.review_with(pod(image), {"region": "cn-north-1"})]) == 0
	count(findings(pod(image))) == 1
}

test_allowed_registries if {
	image := "harbor.corp.internal:8443/genai/llm-server:2.3.1"
	[v] := findings(pod(image))
	contains(v.msg, "harbor.corp.internal:8443")
	count([v | some v in rule.violation with input as testing.review_with(pod(image), {"allowedRegistries": [`^harbor\.corp\.internal(:[0-9]+)?$`]})]) == 0
}

test_init_and_ephemeral_containers if {
	p := json.patch(pod(concat("/", [regional, "app:1.0"])), [
		{"op": "add", "path": "/spec/initContainers", "value": [{"name": "fetch", "image": "busybox:1.36"}]},
		{"op": "add", "path": "/spec/ephemeralContainers", "value": [{"name": "debug", "image": "nicolaka/netshoot:v0.13"}]},
	])
	paths := {v.path | some v in findings(p)}
	paths == {"/spec/initContainers/0/image", "/spec/ephemeralContainers/0/image"}
}

test_injected_sidecar_is_skipped if {
	p := json.patch(pod(concat("/", [regional, "app:1.0"])), [{"op": "add", "path": "/spec/containers/-", "value": {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.23.2"}}])
	count(findings(p)) == 0
}

test_exempt_namespace_out_of_scope if {
	p := json.patch(pod("nginx:1.27"), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(p)
	count(findings(p)) == 0
}

test_pod_rewritten_through_pull_through_cache if {
	p := pod("docker.io/vllm/vllm-openai:v0.6.3")
	inp := testing.review_with(p, {"pullThroughCachePrefixes": cache})
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "mutate"
	contains(v.fix, "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/vllm/vllm-openai:v0.6.3")
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/image", "value": "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/vllm/vllm-openai:v0.6.3"}} with input as inp
}

test_official_image_gets_library_prefix if {
	inp := testing.review_with(pod("nginx@sha256:0d3c5f0b8e0e6a0d9c3f0b6a1e2d4c5b6a7980e1f2a3b4c5d6e7f8091a2b3c4d"), {"pullThroughCachePrefixes": cache})
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/image", "value": "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/library/nginx@sha256:0d3c5f0b8e0e6a0d9c3f0b6a1e2d4c5b6a7980e1f2a3b4c5d6e7f8091a2b3c4d"}} with input as inp
}

test_prefix_trailing_slash_is_trimmed if {
	inp := testing.review_with(pod("ghcr.io/huggingface/text-generation-inference:2.4"), {"pullThroughCachePrefixes": cache})
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/image", "value": "111122223333.dkr.ecr.us-west-2.amazonaws.com/ghcr/huggingface/text-generation-inference:2.4"}} with input as inp
}

test_rewrite_is_idempotent if {
	p := pod("docker.io/vllm/vllm-openai:v0.6.3")
	params := {"pullThroughCachePrefixes": cache}
	ops := [op | some op in rule.patch with input as testing.review_with(p, params)]
	patched := apply(p, ops)
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)
	rule.applies with input as testing.review_with(patched, params)
}

test_prefix_outside_region_is_not_used if {
	inp := testing.review_with(pod("docker.io/vllm/vllm-openai:v0.6.3"), {"pullThroughCachePrefixes": {"docker.io": "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub"}})
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	count(rule.patch) == 0 with input as inp
}

test_template_is_warned_not_rewritten if {
	inp := testing.review_with(deployment("docker.io/vllm/vllm-openai:v0.6.3"), {"pullThroughCachePrefixes": cache})
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	v.path == "/spec/template/spec/containers/0/image"
	contains(v.fix, "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/vllm/vllm-openai:v0.6.3")
	count(rule.patch) == 0 with input as inp
}

test_pod_update_is_warned_not_rewritten if {
	p := pod("docker.io/vllm/vllm-openai:v0.6.3")
	inp := object.union(testing.review_update(p, p), {"params": object.union(data.kgate.defaults, {"pullThroughCachePrefixes": cache})})
	[v] := [v | some v in rule.violation with input as inp]
	v.action == "warn"
	count(rule.patch) == 0 with input as inp
}

test_templates_of_other_kinds if {
	[v] := findings(deployment("ghcr.io/huggingface/text-generation-inference:2.4"))
	v.path == "/spec/template/spec/containers/0/image"
	contains(v.msg, `Deployment "vllm"`)
}

test_aliases_with_several_prefixes_pick_one if {
	prefixes := {"docker.io": "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub", "registry-1.docker.io": "111122223333.dkr.ecr.us-west-2.amazonaws.com/dockerhub"}
	inp := testing.review_with(pod("nginx:1.27"), {"pullThroughCachePrefixes": prefixes})
	rule.patch == {{"op": "replace", "path": "/spec/containers/0/image", "value": "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/library/nginx:1.27"}} with input as inp
}
