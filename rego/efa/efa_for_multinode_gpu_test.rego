package kgate.rules.efa.efa_for_multinode_gpu_test

import data.kgate.lib.testing
import data.kgate.rules.efa.efa_for_multinode_gpu as rule

gpu8 := {"limits": {"nvidia.com/gpu": 8, "memory": "32000Mi"}, "requests": {"nvidia.com/gpu": 8, "memory": "32000Mi", "cpu": "90"}}

gpu8_efa := {
	"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi"},
	"requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi", "cpu": "90"},
}

# The catalog's bad example: an indexed Job of 4 p5 pods.
job(parallelism, resources) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "llama3-pretrain", "namespace": "training", "labels": {"kgate.dev/role": "training"}},
	"spec": {
		"parallelism": parallelism,
		"completions": 4,
		"completionMode": "Indexed",
		"template": {"spec": {
			"restartPolicy": "Never",
			"nodeSelector": {"node.kubernetes.io/instance-type": "p5.48xlarge"},
			"containers": [{"name": "worker", "image": "nemo:24.07", "resources": resources}],
		}},
	},
}

pytorchjob(master, worker, resources) := {
	"apiVersion": "kubeflow.org/v1",
	"kind": "PyTorchJob",
	"metadata": {"name": "fsdp", "namespace": "training"},
	"spec": {"pytorchReplicaSpecs": {
		"Master": {"replicas": master, "template": {"spec": {"containers": [{"name": "pytorch", "image": "fsdp:1", "resources": resources}]}}},
		"Worker": {"replicas": worker, "template": {"spec": {"containers": [{"name": "pytorch", "image": "fsdp:1", "resources": resources}]}}},
	}},
}

test_multinode_job_without_efa_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(job(4, gpu8))]
	v.action == "deny"
	v.path == "/spec/template/spec/containers/0/resources"
	contains(v.msg, "8 accelerators per pod")
	contains(v.fix, "vpc.amazonaws.com/efa: 32")
}

test_multinode_job_with_efa_passes if {
	rule.applies with input as testing.review(job(4, gpu8_efa))
	count(rule.violation) == 0 with input as testing.review(job(4, gpu8_efa))
}

test_dra_claim_is_accepted if {
	j := json.patch(job(4, gpu8), [{"op": "add", "path": "/spec/template/spec/resourceClaims", "value": [{"name": "efa", "resourceClaimTemplateName": "efa-8"}]}])
	rule.applies with input as testing.review(j)
	count(rule.violation) == 0 with input as testing.review(j)
}

test_single_node_and_small_pods_not_in_scope if {
	every obj in [
		# parallelism 1: one node, no EFA needed
		json.patch(job(1, gpu8), [{"op": "remove", "path": "/metadata/labels"}]),
		# training label but a single pod
		job(1, gpu8),
		# fewer accelerators than gpuThreshold per pod
		job(4, {"limits": {"nvidia.com/gpu": 4}}),
		# no accelerators
		job(4, {"requests": {"cpu": "1"}}),
		# inference Deployment with TP=8 is not training
		{
			"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm", "namespace": "genai"},
			"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm:1", "resources": gpu8}]}}},
		},
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_parallel_job_without_label_is_training if {
	j := json.patch(job(4, gpu8), [{"op": "remove", "path": "/metadata/labels"}])
	count(rule.violation) == 1 with input as testing.review(j)
}

test_gpu_threshold_param if {
	j := job(4, {"limits": {"nvidia.com/gpu": 4}})
	count(rule.violation) == 1 with input as testing.review_with(j, {"gpuThreshold": 4})
}

test_training_role_label_param if {
	d := {
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "trainer", "namespace": "genai", "labels": {"example.com/workload": "training"}},
		"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "t", "image": "t:1", "resources": gpu8}]}}},
	}
	count(rule.violation) == 0 with input as testing.review(d)
	count(rule.violation) == 1 with input as testing.review_with(d, {"trainingRoleLabel": "example.com/workload"})
}

test_replicas_counted_across_templates if {
	# Master 1 + Worker 1 = two nodes
	paths := {v.path | some v in rule.violation with input as testing.review(pytorchjob(1, 1, gpu8))}
	paths == {
		"/spec/pytorchReplicaSpecs/Master/template/spec/containers/0/resources",
		"/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/resources",
	}

	# one pod in all: single node
	single := json.patch(pytorchjob(1, 1, gpu8), [{"op": "remove", "path": "/spec/pytorchReplicaSpecs/Worker"}])
	not rule.applies with input as testing.review(single)

	rule.applies with input as testing.review(pytorchjob(1, 3, gpu8_efa))
	count(rule.violation) == 0 with input as testing.review(pytorchjob(1, 3, gpu8_efa))
}

test_mpijob_launcher_without_accelerators_is_ignored if {
	mj := {
		"apiVersion": "kubeflow.org/v2beta1", "kind": "MPIJob", "metadata": {"name": "nccl-tests", "namespace": "training"},
		"spec": {"mpiReplicaSpecs": {
			"Launcher": {"replicas": 1, "template": {"spec": {"containers": [{"name": "launcher", "image": "nccl:1"}]}}},
			"Worker": {"replicas": 2, "template": {"spec": {"containers": [{"name": "worker", "image": "nccl:1", "resources": gpu8}]}}},
		}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(mj)]
	v.path == "/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources"
}

test_raycluster_head_and_workers if {
	rc := {
		"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "llama2-pretrain", "namespace": "default"},
		"spec": {
			"headGroupSpec": {"template": {"spec": {"containers": [{"name": "ray-head", "image": "ray:2", "resources": {"requests": {"cpu": "1"}}}]}}},
			"workerGroupSpecs": [{"groupName": "trn1", "replicas": 2, "template": {"spec": {"containers": [{
				"name": "ray-worker", "image": "ray:2",
				"resources": {"limits": {"aws.amazon.com/neuron": "16"}, "requests": {"aws.amazon.com/neuron": "16"}},
			}]}}}],
		},
	}
	[v] := [v | some v in rule.violation with input as testing.review(rc)]
	v.path == "/spec/workerGroupSpecs/0/template/spec/containers/0/resources"
	contains(v.msg, `template "trn1"`)

	with_efa := json.patch(rc, [{"op": "add", "path": "/spec/workerGroupSpecs/0/template/spec/containers/0/resources/limits/vpc.amazonaws.com~1efa", "value": "8"}])
	rule.applies with input as testing.review(with_efa)
	count(rule.violation) == 0 with input as testing.review(with_efa)
}

test_rayservice_and_lws_are_not_training if {
	rs := {
		"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "serve", "namespace": "genai"},
		"spec": {"rayClusterConfig": {"workerGroupSpecs": [{"groupName": "gpu", "replicas": 4, "template": {"spec": {"containers": [{"name": "w", "image": "ray:2", "resources": gpu8}]}}}]}},
	}
	not rule.applies with input as testing.review(rs)
	lws := {
		"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": {"name": "vllm-405b", "namespace": "genai"},
		"spec": {"leaderWorkerTemplate": {
			"size": 2,
			"leaderTemplate": {"spec": {"containers": [{"name": "leader", "image": "vllm:1", "resources": gpu8}]}},
			"workerTemplate": {"spec": {"containers": [{"name": "worker", "image": "vllm:1", "resources": gpu8}]}},
		}},
	}
	not rule.applies with input as testing.review(lws)
}

test_placeholders_leave_scope_open_without_violation if {
	every res in [
		{"limits": {"nvidia.com/gpu": "$GPU_PER_NODE", "vpc.amazonaws.com/efa": "$EFA_PER_NODE"}},
		{"limits": {"nvidia.com/gpu": "$GPU_PER_NODE"}},
	] {
		pj := pytorchjob(1, "$NUM_NODES", res)
		rule.applies with input as testing.review(pj)
		count(rule.violation) == 0 with input as testing.review(pj)
	}

	# known counts with a placeholder replica count elsewhere: Master 1 + Worker "$N" is open
	count(rule.violation) == 0 with input as testing.review(pytorchjob(1, "$NUM_NODES", gpu8))

	# but two known replicas decide it
	count(rule.violation) == 2 with input as testing.review(pytorchjob(2, "$NUM_NODES", gpu8))
}

test_volcano_job_tasks if {
	vj := {
		"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "metadata": {"name": "trn1-mlp", "namespace": "ml"},
		"spec": {"tasks": [{"name": "worker", "replicas": 1, "template": {"spec": {"containers": [{"name": "trn", "image": "t:1", "resources": {"limits": {"aws.amazon.com/neuron": 16}}}]}}}]},
	}
	not rule.applies with input as testing.review(vj)
	multi := json.patch(vj, [{"op": "replace", "path": "/spec/tasks/0/replicas", "value": 2}])
	[v] := [v | some v in rule.violation with input as testing.review(multi)]
	v.path == "/spec/tasks/0/template/spec/containers/0/resources"
}

test_cronjob_path if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly-pretrain", "namespace": "training"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"parallelism": 2, "template": {"spec": {"containers": [{"name": "w", "image": "w:1", "resources": gpu8}]}}}}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(cj)]
	v.path == "/spec/jobTemplate/spec/template/spec/containers/0/resources"
}

test_operator_pod_is_warned if {
	p := {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {
			"name": "fsdp-worker-0", "namespace": "training",
			"labels": {"training.kubeflow.org/job-name": "fsdp", "training.kubeflow.org/replica-type": "worker"},
			"ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "name": "fsdp", "uid": "1", "controller": true}],
		},
		"spec": {"containers": [{"name": "pytorch", "image": "fsdp:1", "resources": gpu8}]},
	}
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
	v.path == "/spec/containers/0/resources"

	# a bare Pod, even labelled training, is a single node
	bare := json.patch(p, [
		{"op": "remove", "path": "/metadata/ownerReferences"},
		{"op": "replace", "path": "/metadata/labels", "value": {"kgate.dev/role": "training"}},
	])
	not rule.applies with input as testing.review(bare)
}

test_most_accelerated_container_gets_the_finding if {
	j := json.patch(job(4, {"requests": {"cpu": "1"}}), [{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "trainer", "image": "t:1", "resources": gpu8}}])
	[v] := [v | some v in rule.violation with input as testing.review(j)]
	v.path == "/spec/template/spec/containers/1/resources"
	contains(v.fix, `container "trainer"`)
}

# Corpus convention: an unrendered EFA count is still an EFA request, so a known
# 8-GPU multi-node job that asks for "$EFA_PER_NODE" interfaces does not violate;
# an explicit 0 is no request.
test_placeholder_efa_count_is_a_request if {
	placeholder := {
		"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": "$EFA_PER_NODE"},
		"requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": "$EFA_PER_NODE", "cpu": "90", "memory": "32000Mi"},
	}
	count(rule.violation) == 0 with input as testing.review(job(4, placeholder))
	zero := {"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 0}, "requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 0}}
	count(rule.violation) == 1 with input as testing.review(job(4, zero))
}
