package kgate.rules.team.gpu_team_label_test

import data.kgate.lib.testing
import data.kgate.rules.team.gpu_team_label as rule

gpu_pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "finetune", "namespace": "research"},
	"spec": {"containers": [{
		"name": "trainer",
		"image": "trainer:1.0",
		"resources": {"limits": {"nvidia.com/gpu": 1}},
	}]},
}

owned := {
	"labels": {"team": "nlp"},
	"annotations": {"cost-center": "cc-4711"},
}

violations(obj) := vs if {
	vs := rule.violation with input as testing.review(obj)
}

test_gpu_pod_without_team_and_cost_center_is_denied if {
	vs := violations(gpu_pod)
	count(vs) == 2
	paths := {v.path | some v in vs}
	paths == {"/metadata"}
	every v in vs {
		v.action == "deny"
	}
}

test_gpu_pod_with_team_and_cost_center_passes if {
	pod := json.patch(gpu_pod, [{"op": "add", "path": "/metadata/labels", "value": owned.labels}, {"op": "add", "path": "/metadata/annotations", "value": owned.annotations}])
	rule.applies with input as testing.review(pod)
	count(violations(pod)) == 0
}

test_empty_values_do_not_count if {
	pod := json.patch(gpu_pod, [{"op": "add", "path": "/metadata/labels", "value": {"team": ""}}, {"op": "add", "path": "/metadata/annotations", "value": owned.annotations}])
	[v] := [v | some v in violations(pod)]
	v.path == "/metadata/labels"
	v.msg == `Pod "finetune" asks for accelerators but has no label "team"`
}

test_pod_without_accelerator_is_out_of_scope if {
	cpu_pod := json.patch(gpu_pod, [{"op": "replace", "path": "/spec/containers/0/resources", "value": {"limits": {"cpu": "2", "memory": "4Gi"}}}])
	not rule.applies with input as testing.review(cpu_pod)
	count(violations(cpu_pod)) == 0
}

test_zero_gpus_is_out_of_scope if {
	pod := json.patch(gpu_pod, [{"op": "replace", "path": "/spec/containers/0/resources/limits", "value": {"nvidia.com/gpu": 0}}])
	not rule.applies with input as testing.review(pod)
}

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "vllm", "namespace": "genai", "labels": {"team": "nlp"}},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "vllm"}},
		"template": {
			"metadata": {"labels": {"app": "vllm"}},
			"spec": {"containers": [{
				"name": "vllm",
				"image": "vllm:0.6",
				"resources": {"limits": {"nvidia.com/gpu": 4}},
			}]},
		},
	},
}

# The label belongs on the pod template: a team label on the Deployment itself does not count.
test_template_is_checked_at_its_own_path if {
	vs := violations(deployment)
	{v.path | some v in vs} == {"/spec/template/metadata/labels", "/spec/template/metadata"}
	some v in vs
	v.msg == `Deployment "vllm" asks for accelerators but its pod template has no label "team"`
}

test_template_with_team_and_cost_center_passes if {
	d := json.patch(deployment, [
		{"op": "add", "path": "/spec/template/metadata/labels/team", "value": "nlp"},
		{"op": "add", "path": "/spec/template/metadata/annotations", "value": owned.annotations},
	])
	count(violations(d)) == 0
}

# Only the templates that ask for accelerators are checked: the CPU launcher of an
# MPIJob is not.
test_only_accelerator_templates_of_a_job_are_checked if {
	job := {
		"apiVersion": "kubeflow.org/v2beta1",
		"kind": "MPIJob",
		"metadata": {"name": "llama", "namespace": "genai"},
		"spec": {"mpiReplicaSpecs": {
			"Launcher": {"replicas": 1, "template": {"spec": {"containers": [{"name": "launcher", "image": "mpi:1"}]}}},
			"Worker": {"replicas": 4, "template": {
				"metadata": owned,
				"spec": {"containers": [{"name": "worker", "image": "mpi:1", "resources": {"limits": {"nvidia.com/gpu": "$GPUS"}}}]},
			}},
		}},
	}
	count(violations(job)) == 0
	unowned := json.patch(job, [{"op": "remove", "path": "/spec/mpiReplicaSpecs/Worker/template/metadata"}])
	{v.path | some v in violations(unowned)} == {"/spec/mpiReplicaSpecs/Worker/template"}
}

test_pod_created_by_a_controller_is_warned if {
	pod := json.patch(gpu_pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "vllm-5d8f", "uid": "1", "controller": true}]}])
	vs := violations(pod)
	count(vs) == 2
	every v in vs {
		v.action == "warn"
	}
}

test_exempt_namespace_is_out_of_scope if {
	pod := json.patch(gpu_pod, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	count(violations(pod)) == 0
}

test_names_are_parameters if {
	pod := json.patch(gpu_pod, [{"op": "add", "path": "/metadata/labels", "value": {"owner": "nlp"}}, {"op": "add", "path": "/metadata/annotations", "value": {"billing/cost-center": "cc-4711"}}])
	count(rule.violation) == 0 with input as testing.review_with(pod, {"teamLabel": "owner", "costCenterAnnotation": "billing/cost-center"})
}
