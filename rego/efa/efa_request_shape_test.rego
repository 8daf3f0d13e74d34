package kgate.rules.efa.efa_request_shape_test

import data.kgate.lib.testing
import data.kgate.rules.efa.efa_request_shape as rule

good := {
	"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi"},
	"requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi"},
}

pod(resources) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "nccl-worker-0", "namespace": "training"},
	"spec": {
		"nodeSelector": {"node.kubernetes.io/instance-type": "p5.48xlarge"},
		"containers": [{"name": "worker", "image": "nccl-tests:1", "resources": resources}],
	},
}

with_resources(obj, path, value) := json.patch(obj, [{"op": "add", "path": path, "value": value}])

test_good_pod_passes if {
	rule.applies with input as testing.review(pod(good))
	count(rule.violation) == 0 with input as testing.review(pod(good))
}

test_requests_differ_from_limits_is_denied if {
	p := with_resources(pod(good), "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa", 16)
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "deny"
	v.path == "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa"
	contains(v.msg, "requests 16 vpc.amazonaws.com/efa but limits it to 32")
}

test_requests_only_is_denied if {
	p := json.patch(pod(good), [{"op": "remove", "path": "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa"}])
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "deny"
	v.path == "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa"
}

test_limits_only_passes if {
	p := json.patch(pod(good), [{"op": "remove", "path": "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa"}])
	count(rule.violation) == 0 with input as testing.review(p)
}

test_non_integer_and_placeholders_are_denied if {
	every q in ["$EFA_PER_NODE", "PLACEHOLDER_NUM_EFA_PER_NODE", "1.5", 2.5] {
		p := json.patch(pod(good), [
			{"op": "replace", "path": "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa", "value": q},
			{"op": "replace", "path": "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa", "value": q},
		])
		[v] := [v | some v in rule.violation with input as testing.review(p)]
		v.action == "deny"
		v.path == "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa"
		contains(v.msg, "not an integer")
	}
}

test_more_than_instance_offers_is_denied if {
	p := json.patch(pod(good), [{"op": "replace", "path": "/spec/nodeSelector/node.kubernetes.io~1instance-type", "value": "p4d.24xlarge"}])
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "deny"
	v.path == "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa"
	contains(v.msg, "p4d.24xlarge offers 4")

	# unknown or unpinned instance types are not checked
	every sel in [{"node.kubernetes.io/instance-type": "p9.96xlarge"}, {}] {
		q := json.patch(pod(good), [{"op": "replace", "path": "/spec/nodeSelector", "value": sel}])
		count(rule.violation) == 0 with input as testing.review(q)
	}
}

test_efa_without_accelerator_or_hugepages_warns if {
	p := json.patch(pod({"limits": {"vpc.amazonaws.com/efa": 1}}), [{"op": "replace", "path": "/metadata/name", "value": "training-job"}])
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
	v.path == "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa"

	# huge pages alone make it plausible
	h := pod({"limits": {"vpc.amazonaws.com/efa": 1, "hugepages-2Mi": "5120Mi", "memory": "8Gi"}, "requests": {"memory": "8Gi"}})
	count(rule.violation) == 0 with input as testing.review(h)
}

test_efa_in_several_containers_warns if {
	p := json.patch(pod(good), [{"op": "add", "path": "/spec/containers/-", "value": {"name": "sidecar", "image": "s:1", "resources": {"limits": {"vpc.amazonaws.com/efa": 0}}}}])
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
	v.path == "/spec/containers"
	contains(v.msg, "2 containers (sidecar, worker)")
}

test_controller_owned_pod_is_warned if {
	p := json.patch(pod(good), [
		{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "batch/v1", "kind": "Job", "name": "nccl", "uid": "1", "controller": true}]},
		{"op": "replace", "path": "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa", "value": 16},
	])
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
}

test_multi_template_objects if {
	mj := {
		"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": {"name": "nccl-tests", "namespace": "training"},
		"spec": {"mpiReplicaSpecs": {
			"Launcher": {"replicas": 1, "template": {"spec": {"containers": [{"name": "launcher", "image": "nccl:1"}]}}},
			"Worker": {"replicas": 2, "template": {"spec": {
				"nodeSelector": {"node.kubernetes.io/instance-type": "p5en.48xlarge"},
				"containers": [{"name": "worker", "image": "nccl:1", "resources": good}],
			}}},
		}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(mj)]
	v.path == "/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa"
	contains(v.msg, `template "Worker"`)
	contains(v.msg, "p5en.48xlarge offers 16")

	rc := {
		"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "llama2", "namespace": "default"},
		"spec": {
			"headGroupSpec": {"template": {"spec": {"containers": [{"name": "ray-head", "image": "ray:2"}]}}},
			"workerGroupSpecs": [{"groupName": "trn1", "replicas": 2, "template": {"spec": {"containers": [{
				"name": "ray-worker", "image": "ray:2",
				"resources": {"limits": {"aws.amazon.com/neuron": "16", "vpc.amazonaws.com/efa": "8"}, "requests": {"aws.amazon.com/neuron": "16", "vpc.amazonaws.com/efa": "8"}},
			}]}}}],
		},
	}
	rule.applies with input as testing.review(rc)
	count(rule.violation) == 0 with input as testing.review(rc)
}

test_cronjob_and_init_container_paths if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nccl-nightly", "namespace": "training"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {
			"initContainers": [{"name": "probe", "image": "p:1", "resources": {"requests": {"vpc.amazonaws.com/efa": 1}}}],
			"containers": [{"name": "worker", "image": "w:1", "resources": good}],
		}}}}},
	}
	violations := {[v.path, v.action] | some v in rule.violation with input as testing.review(cj)}
	violations == {
		["/spec/jobTemplate/spec/template/spec/initContainers/0/resources/requests/vpc.amazonaws.com~1efa", "deny"],
		["/spec/jobTemplate/spec/template/spec/containers", "warn"],
	}
}

test_without_efa_not_in_scope if {
	every obj in [
		pod({"limits": {"nvidia.com/gpu": 8}}),
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "training"}},
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_efa_summed_over_containers_of_a_pod if {
	p := json.patch(pod(good), [
		{"op": "replace", "path": "/spec/nodeSelector/node.kubernetes.io~1instance-type", "value": "p5en.48xlarge"},
		{"op": "replace", "path": "/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa", "value": 8},
		{"op": "replace", "path": "/spec/containers/0/resources/requests/vpc.amazonaws.com~1efa", "value": 8},
		{"op": "add", "path": "/spec/containers/-", "value": {"name": "helper", "image": "h:1", "resources": {"limits": {"vpc.amazonaws.com/efa": 12}}}},
	])
	violations := {[v.path, v.action] | some v in rule.violation with input as testing.review(p)}
	violations == {["/spec/containers", "deny"], ["/spec/containers", "warn"]}
	some v in rule.violation with input as testing.review(p)
	contains(v.msg, "asks for 20 vpc.amazonaws.com/efa but p5en.48xlarge offers 16")
}
