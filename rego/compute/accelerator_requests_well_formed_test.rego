package kgate.rules.compute.accelerator_requests_well_formed_test

import data.kgate.lib.testing
import data.kgate.rules.compute.accelerator_requests_well_formed as rule

pod(resources) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "embedder", "namespace": "genai"},
	"spec": {"containers": [{"name": "embedder", "image": "embedder:1.2.0", "resources": resources}]},
}

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "vllm", "namespace": "genai"},
	"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm:0.6", "resources": resources}]}}},
}

test_requests_differ_from_limits_is_denied if {
	p := pod({"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1}, "limits": {"memory": "16Gi", "nvidia.com/gpu": 2}})
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "deny"
	v.path == "/spec/containers/0/resources/requests/nvidia.com~1gpu"
	contains(v.msg, "request 1 differs from limit 2")
}

test_equal_requests_and_limits_pass if {
	every res in [
		{"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 1}},
		{"requests": {"nvidia.com/gpu": "8"}, "limits": {"nvidia.com/gpu": 8}},
		{"limits": {"aws.amazon.com/neuron": 16, "vpc.amazonaws.com/efa": 8}},
	] {
		rule.applies with input as testing.review(deployment(res))
		count(rule.violation) == 0 with input as testing.review(deployment(res))
	}
}

test_requests_only_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(deployment({"requests": {"nvidia.com/gpu": 1, "cpu": "2"}}))]
	v.path == "/spec/template/spec/containers/0/resources/requests/nvidia.com~1gpu"
	contains(v.msg, "no limit")
}

test_non_integer_counts_are_denied if {
	every q in ["500m", 1.5, "two"] {
		[v] := [v | some v in rule.violation with input as testing.review(deployment({"limits": {"nvidia.com/gpu": q}}))]
		v.path == "/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu"
		contains(v.msg, "not an integer")
	}
}

test_placeholders_are_non_integer if {
	pj := {
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "llama3-1-8b-fsdp", "namespace": "genai"},
		"spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": "$NUM_NODES", "template": {"spec": {"containers": [{
			"name": "pytorch", "image": "fsdp:1",
			"resources": {
				"requests": {"nvidia.com/gpu": "$GPU_PER_NODE", "vpc.amazonaws.com/efa": "$EFA_PER_NODE"},
				"limits": {"nvidia.com/gpu": "$GPU_PER_NODE", "vpc.amazonaws.com/efa": "$EFA_PER_NODE"},
			},
		}]}}}}},
	}
	paths := {v.path | some v in rule.violation with input as testing.review(pj)}
	paths == {
		"/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/resources/limits/nvidia.com~1gpu",
		"/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa",
	}
}

test_more_than_max_per_pod_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(deployment({"limits": {"nvidia.com/gpu": 16}}))]
	v.path == "/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu"
	contains(v.msg, "asks for 16 nvidia.com/gpu")

	# summed over the containers of one pod
	p := json.patch(pod({"limits": {"aws.amazon.com/neuron": 12}}), [{"op": "add", "path": "/spec/containers/-", "value": {"name": "b", "image": "b:1", "resources": {"limits": {"aws.amazon.com/neuron": 8}}}}])
	[w] := [v | some v in rule.violation with input as testing.review(p)]
	w.path == "/spec/containers"

	# a raised maxPerPod accepts it
	count(rule.violation) == 0 with input as testing.review_with(p, {"maxPerPod": {"aws.amazon.com/neuron": 32}})
}

test_multi_template_objects if {
	rc := {
		"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rayml-efa", "namespace": "genai"},
		"spec": {
			"headGroupSpec": {"template": {"spec": {"containers": [{"name": "ray-head", "image": "ray:2"}]}}},
			"workerGroupSpecs": [{"groupName": "gpu-group", "replicas": 2, "template": {"spec": {"containers": [{
				"name": "ray-worker", "image": "ray:2",
				"resources": {"limits": {"nvidia.com/gpu": 8}, "requests": {"nvidia.com/gpu": 4}},
			}]}}}],
		},
	}
	rule.applies with input as testing.review(rc)
	[v] := [v | some v in rule.violation with input as testing.review(rc)]
	v.path == "/spec/workerGroupSpecs/0/template/spec/containers/0/resources/requests/nvidia.com~1gpu"
	contains(v.msg, `template "gpu-group"`)
}

test_cronjob_path if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "eval", "namespace": "genai"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "eval", "image": "eval:1", "resources": {"requests": {"nvidia.com/gpu": 1}}}]}}}}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(cj)]
	v.path == "/spec/jobTemplate/spec/template/spec/containers/0/resources/requests/nvidia.com~1gpu"
}

test_controller_owned_pod_is_warned if {
	p := object.union(pod({"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 2}}), {"metadata": {"ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "1", "controller": true}]}})
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
}

test_init_container_is_checked if {
	p := object.union(pod({"limits": {"nvidia.com/gpu": 1}}), {"spec": {"initContainers": [{"name": "warmup", "image": "w:1", "resources": {"requests": {"nvidia.com/gpu": 1}}}]}})
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.path == "/spec/initContainers/0/resources/requests/nvidia.com~1gpu"
}

test_no_accelerator_not_in_scope if {
	every obj in [
		pod({"requests": {"cpu": "1", "memory": "1Gi"}}),
		deployment({}),
		{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "genai"}, "spec": {}},
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_max_per_pod_of_other_resources if {
	d := deployment({"limits": {"nvidia.com/gpu": 1, "example.com/fpga": 3}})
	count(rule.violation) == 0 with input as testing.review(d)
	[v] := [v | some v in rule.violation with input as testing.review_with(d, {"maxPerPod": {"example.com/fpga": 2}})]
	v.path == "/spec/template/spec/containers/0/resources/limits/example.com~1fpga"
	contains(v.msg, "asks for 3 example.com/fpga")
}

test_max_per_pod_counts_sidecars_and_init_containers if {
	# a sidecar runs beside the container: 6 + 4
	sidecar := object.union(pod({"limits": {"nvidia.com/gpu": 6}}), {"spec": {"initContainers": [{"name": "proxy", "image": "p:1", "restartPolicy": "Always", "resources": {"limits": {"nvidia.com/gpu": 4}}}]}})
	[v] := [v | some v in rule.violation with input as testing.review(sidecar)]
	v.path == "/spec/containers"
	contains(v.msg, "asks for 10 nvidia.com/gpu")

	# a plain init container runs before it: max(4, 12)
	init := object.union(pod({"limits": {"nvidia.com/gpu": 4}}), {"spec": {"initContainers": [{"name": "warmup", "image": "w:1", "resources": {"limits": {"nvidia.com/gpu": 12}}}]}})
	[w] := [v | some v in rule.violation with input as testing.review(init)]
	contains(w.msg, "asks for 12 nvidia.com/gpu")

	# within the limit either way
	ok := object.union(pod({"limits": {"nvidia.com/gpu": 4}}), {"spec": {"initContainers": [{"name": "warmup", "image": "w:1", "resources": {"limits": {"nvidia.com/gpu": 8}}}]}})
	count(rule.violation) == 0 with input as testing.review(ok)
}
