package kgate.rules.compute.cpu_nodepools_allow_graviton_test

import data.kgate.lib.testing
import data.kgate.rules.compute.cpu_nodepools_allow_graviton as rule

arch(operator, values) := {"key": "kubernetes.io/arch", "operator": operator, "values": values}

category(values) := {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": values}

family(values) := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": values}

nodepool(requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": "general-cpu"},
	"spec": {"template": {"spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
		"requirements": requirements,
	}}},
}

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

# The catalog's bad example.
test_amd64_only_cpu_pool_is_reported if {
	pool := nodepool([arch("In", ["amd64"]), category(["c", "m", "r"])])
	[v] := findings(pool)
	v.action == "audit"
	v.path == "/spec/template/spec/requirements/0"
	contains(v.msg, `NodePool "general-cpu" has no accelerators but allows amd64 instances only`)
	contains(v.fix, "kubernetes.io/arch In [arm64, amd64]")
}

# The catalog's good example, and a pool without an arch requirement (either arch).
test_pools_allowing_arm64_pass if {
	every pool in [
		nodepool([arch("In", ["arm64", "amd64"]), category(["c", "m", "r"])]),
		nodepool([category(["c", "m", "r"])]),
		nodepool([arch("In", ["arm64"])]),
		nodepool([arch("Exists", [])]),
	] {
		rule.applies with input as testing.review(pool)
		count(findings(pool)) == 0
	}
}

test_other_amd64_only_shapes_are_reported if {
	[v] := findings(nodepool([category(["m"]), arch("NotIn", ["arm64"])]))
	v.path == "/spec/template/spec/requirements/1"
	labelled := json.patch(nodepool([category(["m"])]), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"kubernetes.io/arch": "amd64"}}}])
	[w] := findings(labelled)
	w.path == "/spec/template/metadata/labels/kubernetes.io~1arch"
}

# Edge case: GPU/accelerator pools are x86 (except Graviton-based g5g): not checked.
test_accelerator_pools_are_not_in_scope if {
	every pool in [
		nodepool([arch("In", ["amd64"]), family(["g6e", "g5"])]),
		nodepool([arch("In", ["amd64"]), {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]}]),
		nodepool([arch("In", ["amd64"]), {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]}]),
		nodepool([arch("In", ["amd64"]), {"key": "karpenter.k8s.aws/instance-accelerator-name", "operator": "In", "values": ["inferentia"]}]),
		nodepool([arch("In", ["amd64"]), {"key": "eks.amazonaws.com/instance-gpu-name", "operator": "In", "values": ["l40s"]}]),
		nodepool([arch("In", ["amd64"]), category(["g", "p"])]),
		nodepool([arch("In", ["amd64"]), family(["trn1", "inf2"])]),
		json.patch(nodepool([arch("In", ["amd64"])]), [{"op": "add", "path": "/spec/template/spec/taints", "value": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]}]),
		json.patch(nodepool([arch("In", ["amd64"])]), [{"op": "add", "path": "/spec/limits", "value": {"cpu": "1000", "aws.amazon.com/neuron": "32"}}]),
	] {
		not rule.applies with input as testing.review(pool)
		count(findings(pool)) == 0
	}
}

test_zero_gpu_requirement_is_a_cpu_pool if {
	pool := nodepool([arch("In", ["amd64"]), {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "In", "values": ["0"]}])
	[_] := findings(pool)
}

test_update_is_reported_as_audit if {
	pool := nodepool([arch("In", ["amd64"])])
	[v] := [v | some v in rule.violation with input as testing.review_update(pool, pool)]
	v.action == "audit"
}

deployment(labels, pspec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "chatbot-ui", "namespace": "genai", "labels": labels},
	"spec": {
		"selector": {"matchLabels": {"app": "ui"}},
		"template": {"metadata": {"labels": {"app": "ui"}}, "spec": object.union({"containers": [{"name": "ui", "image": "chatbot-ui:1.4.2"}]}, pspec)},
	},
}

ui := {"kgate.dev/role": "ui"}

amd64_selector := {"nodeSelector": {"kubernetes.io/arch": "amd64"}}

test_cpu_role_pod_pinned_to_amd64_is_reported if {
	[v] := findings(deployment(ui, amd64_selector))
	v.action == "audit"
	v.path == "/spec/template/spec/nodeSelector/kubernetes.io~1arch"
	contains(v.msg, `Deployment "chatbot-ui" runs CPU work (role ui) but requires amd64 nodes`)
	contains(v.fix, "multi-arch image")
}

test_cpu_role_pod_without_pin_passes if {
	every d in [deployment(ui, {}), deployment(ui, {"nodeSelector": {"kubernetes.io/arch": "arm64"}})] {
		rule.applies with input as testing.review(d)
		count(findings(d)) == 0
	}
}

terms(exprs) := {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}}}

test_required_affinity_on_amd64 if {
	[v] := findings(deployment(ui, terms([arch("NotIn", ["arm64"])])))
	endswith(v.path, "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution")
	count(findings(deployment(ui, terms([arch("In", ["amd64", "arm64"])])))) == 0
}

test_role_from_template_labels_and_other_roles if {
	d := json.patch(deployment({}, amd64_selector), [{"op": "add", "path": "/spec/template/metadata/labels/kgate.dev~1role", "value": "dataprep"}])
	[v] := findings(d)
	contains(v.msg, "role dataprep")
	inference := deployment({"kgate.dev/role": "inference"}, amd64_selector)
	not rule.applies with input as testing.review(inference)
	count(findings(inference)) == 0
	custom := deployment({"kgate.dev/role": "inference"}, amd64_selector)
	[_] := [v | some v in rule.violation with input as testing.review_with(custom, {"cpuRoles": ["inference"]})]
}

test_cpu_role_pod_with_accelerator_is_not_in_scope if {
	gpu := {"nodeSelector": {"kubernetes.io/arch": "amd64"}, "containers": [{"name": "rag", "image": "rag:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}]}
	d := deployment({"kgate.dev/role": "rag"}, gpu)
	not rule.applies with input as testing.review(d)
	count(findings(d)) == 0
}

test_exempt_namespace_not_in_scope if {
	d := json.patch(deployment(ui, amd64_selector), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(d)
}
