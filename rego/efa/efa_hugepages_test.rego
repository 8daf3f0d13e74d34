package kgate.rules.efa.efa_hugepages_test

import data.kgate.lib.testing
import data.kgate.rules.efa.efa_hugepages as rule

efa_res := {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "memory": "32000Mi"}

# container with the given limits and requests (merged over the EFA worker's).
worker(limits, requests) := {
	"name": "worker",
	"image": "public.ecr.aws/hpc-cloud/nccl-tests:latest",
	"resources": {"limits": object.union(efa_res, limits), "requests": object.union(efa_res, requests)},
}

pod(containers) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "nccl-worker-1", "namespace": "training"},
	"spec": {"containers": containers},
}

hp(q) := {"hugepages-2Mi": q}

# The catalog's examples.
bad := pod([worker({}, {})])

good := pod([worker(hp("5120Mi"), hp("5120Mi"))])

findings(obj) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj)
}

passes(obj) if {
	rule.applies with input as testing.review(obj)
	count(rule.violation) == 0 with input as testing.review(obj)
}

test_missing_hugepages_warns if {
	[v] := findings(bad)
	v.action == "warn"
	v.path == "/spec/containers/0/resources"
	contains(v.msg, `container "worker" of Pod "nccl-worker-1"`)
	contains(v.fix, "hugepages-2Mi: 5120Mi")
	count(rule.patch) == 0 with input as testing.review(bad)
}

test_good_passes if {
	passes(good)

	# limits only: the API server copies them into requests
	passes(pod([worker(hp("5120Mi"), {})]))

	# equal quantities written differently
	passes(pod([worker(hp("5120Mi"), hp("5Gi"))]))
}

test_request_without_limit_is_denied if {
	[v] := findings(pod([worker({}, hp("5120Mi"))]))
	v.action == "deny"
	v.path == "/spec/containers/0/resources/requests/hugepages-2Mi"
	contains(v.msg, "without a limit")
}

test_request_differs_from_limit_is_denied if {
	[v] := findings(pod([worker(hp("5120Mi"), hp("4096Mi"))]))
	v.action == "deny"
	v.path == "/spec/containers/0/resources/requests/hugepages-2Mi"
	contains(v.msg, "requests 4096Mi hugepages-2Mi but limits it to 5120Mi")
}

test_not_a_page_multiple_is_denied if {
	# 5121Mi is 2560.5 pages; reported once, on the limit the request repeats
	[v] := findings(pod([worker(hp("5121Mi"), hp("5121Mi"))]))
	v.action == "deny"
	v.path == "/spec/containers/0/resources/limits/hugepages-2Mi"
	contains(v.msg, "not a whole number of 2Mi pages")

	# 1Gi pages are checked against their own size
	count(findings(pod([worker({"hugepages-2Mi": "5120Mi", "hugepages-1Gi": "1536Mi"}, {})]))) == 1
	passes(pod([worker({"hugepages-2Mi": "5120Mi", "hugepages-1Gi": "2Gi"}, {})]))
}

no_compute(hugepages) := {
	"name": "worker",
	"image": "public.ecr.aws/hpc-cloud/nccl-tests:latest",
	"resources": {
		"limits": object.union({"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32}, hugepages),
		"requests": object.union({"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32}, hugepages),
	},
}

test_hugepages_without_cpu_or_memory_is_denied if {
	[v] := findings(pod([no_compute(hp("5120Mi"))]))
	v.action == "deny"
	v.path == "/spec/containers/0/resources"
	contains(v.msg, "neither cpu nor memory")

	# upstream accepts cpu or memory in the limits as well as in the requests
	limits_only := {
		"name": "worker",
		"image": "public.ecr.aws/hpc-cloud/nccl-tests:latest",
		"resources": {
			"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "cpu": "90"},
			"requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi"},
		},
	}
	passes(pod([limits_only]))
}

sidecar(hugepages) := {
	"name": "fabric-monitor",
	"image": "public.ecr.aws/example/monitor:1.0",
	"resources": {"limits": object.union({"memory": "1Gi"}, hugepages), "requests": object.union({"memory": "1Gi"}, hugepages)},
}

test_more_than_a_node_offers_is_denied if {
	obj := pod([worker(hp("8192Mi"), {}), sidecar(hp("4096Mi"))])
	[v] := findings(obj)
	v.action == "deny"
	v.path == "/spec/containers"
	contains(v.msg, "asks for 12288Mi hugepages-2Mi, more than an EFA node pre-allocates (10256Mi)")

	# one container: the path points at its quantity
	[w] := findings(pod([worker(hp("12Gi"), {})]))
	w.path == "/spec/containers/0/resources/limits/hugepages-2Mi"
}

# Edge: Bottlerocket nodes configured with fewer pages (EKS example: 3000 pages).
test_bottlerocket_page_budget if {
	obj := pod([worker(hp("8000Mi"), {})])
	passes(obj)
	[v] := [v | some v in rule.violation with input as testing.review_with(obj, {"maxHugepages2MiPerNode": "6000Mi"})]
	contains(v.msg, "(6000Mi)")
	count(rule.violation) == 0 with input as testing.review_with(good, {"maxHugepages2MiPerNode": "6000Mi"})
}

# Edge: huge pages are accounted per container.
test_hugepages_of_another_container_do_not_count if {
	obj := pod([worker({}, {}), sidecar(hp("5120Mi"))])
	[v] := findings(obj)
	v.path == "/spec/containers/0/resources"
	v.action == "warn"
}

test_templates_and_controller_pods if {
	deploy := {
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": {"name": "nccl", "namespace": "training"},
		"spec": {"replicas": 2, "template": {"spec": {"containers": [worker({}, hp("5120Mi"))]}}},
	}
	[d] := findings(deploy)
	d.action == "deny"
	d.path == "/spec/template/spec/containers/0/resources/requests/hugepages-2Mi"

	# a Pod created by a controller is warned, not denied
	owned := json.patch(pod([worker({}, hp("5120Mi"))]), [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "batch/v1", "kind": "Job", "name": "nccl", "uid": "1", "controller": true}]}])
	[o] := findings(owned)
	o.action == "warn"
}

test_update_of_immutable_pod_spec_warns if {
	job := {
		"apiVersion": "batch/v1",
		"kind": "Job",
		"metadata": {"name": "nccl", "namespace": "training"},
		"spec": {"parallelism": 2, "template": {"spec": {"restartPolicy": "Never", "containers": [worker(hp("5120Mi"), hp("4096Mi"))]}}},
	}
	[c] := [v | some v in rule.violation with input as testing.review(job)]
	c.action == "deny"
	[u] := [v | some v in rule.violation with input as testing.review_update(job, job)]
	u.action == "warn"
}

test_scope if {
	plain := {"name": "app", "image": "nginx:1.27", "resources": {"limits": {"memory": "1Gi", "hugepages-2Mi": "3Mi"}}}
	every obj in [
		# no EFA: huge pages of other workloads (e.g. DPDK) are not this rule's business
		pod([plain]),
		# an EFA count of 0 is no request
		pod([worker({"vpc.amazonaws.com/efa": 0}, {"vpc.amazonaws.com/efa": 0})]),
		json.patch(bad, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}

	# an unrendered EFA count is a request
	count(findings(pod([worker({"vpc.amazonaws.com/efa": "$EFA_PER_NODE"}, {"vpc.amazonaws.com/efa": "$EFA_PER_NODE"})]))) == 1
}

mutate := {"efaHugepagesMutate": true}

test_mutation_adds_default_hugepages if {
	req := testing.review_with(bad, mutate)
	[v] := [v | some v in rule.violation with input as req]
	v.action == "mutate"
	ops := rule.patch with input as req
	ops == {
		{"op": "add", "path": "/spec/containers/0/resources/limits/hugepages-2Mi", "value": "5120Mi"},
		{"op": "add", "path": "/spec/containers/0/resources/requests/hugepages-2Mi", "value": "5120Mi"},
	}

	# idempotent. The containers already have limits and requests, so plain json.patch
	# applies the ops as the engine does (testing.apply takes array indices in a path for
	# missing map keys and would insert an element).
	patched := json.patch(bad, [op | some op in ops])
	patched == good
	count(rule.violation) == 0 with input as testing.review_with(patched, mutate)
	count(rule.patch) == 0 with input as testing.review_with(patched, mutate)
}

test_mutation_only_when_safe if {
	# templates are not mutated
	deploy := {
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": {"name": "nccl", "namespace": "training"},
		"spec": {"replicas": 2, "template": {"spec": {"containers": [worker({}, {})]}}},
	}
	count(rule.patch) == 0 with input as testing.review_with(deploy, mutate)

	# the container would become invalid (huge pages need cpu or memory)
	count(rule.patch) == 0 with input as testing.review_with(pod([no_compute({})]), mutate)

	# the pod would exceed what a node offers
	full := pod([worker({}, {}), sidecar(hp("8192Mi"))])
	[v] := [v | some v in rule.violation with input as testing.review_with(full, mutate)]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review_with(full, mutate)

	# not on UPDATE
	count(rule.patch) == 0 with input as object.union(testing.review_update(bad, bad), {"params": object.union(data.kgate.defaults, mutate)})
}
