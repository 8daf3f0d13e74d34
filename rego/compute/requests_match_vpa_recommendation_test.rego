package kgate.rules.compute.requests_match_vpa_recommendation_test

import data.kgate.lib.testing
import data.kgate.rules.compute.requests_match_vpa_recommendation as rule

rag_recommendation := {
	"containerName": "rag",
	"target": {"cpu": "400m", "memory": "900Mi"},
	"lowerBound": {"cpu": "250m", "memory": "700Mi"},
	"upperBound": {"cpu": "900m", "memory": "1500Mi"},
}

vpa(mode, meta, status) := {
	"apiVersion": "autoscaling.k8s.io/v1",
	"kind": "VerticalPodAutoscaler",
	"metadata": object.union({"name": "goldilocks-rag-app", "namespace": "genai"}, meta),
	"spec": {
		"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rag-app"},
		"updatePolicy": {"updateMode": mode},
	},
	"status": status,
}

recommended := {"recommendation": {"containerRecommendations": [rag_recommendation]}}

# The catalog's VPA: observed since long ago.
goldilocks_vpa := vpa("Off", {"creationTimestamp": "2025-01-01T00:00:00Z"}, recommended)

inv(objs) := {"namespace": {"genai": {kind: {o.metadata.name: o | some o in objs; o.kind == kind} | some kind in {o.kind | some o in objs}}}}

container(name, resources) := {"name": name, "image": "rag-app:3.0.1", "resources": resources}

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "rag-app", "namespace": "genai"},
	"spec": {
		"selector": {"matchLabels": {"app": "rag"}},
		"template": {"metadata": {"labels": {"app": "rag"}}, "spec": {"containers": containers}},
	},
}

oversized := deployment([container("rag", {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": {"memory": "16Gi"}})])

sized := deployment([container("rag", {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1536Mi"}})])

findings(obj, objs) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inv(objs)]

# The catalog's bad example: requests far above the upper bound.
test_over_provisioned_requests_are_reported if {
	vs := findings(oversized, [goldilocks_vpa])
	count(vs) == 2
	every v in vs {
		v.action == "audit"
		contains(v.msg, "over-provisioned")
		contains(v.msg, `container "rag" of Deployment "rag-app"`)
		contains(v.msg, `VerticalPodAutoscaler "goldilocks-rag-app" plus 30% slack`)
	}
	[cpu] := [v | some v in vs; v.path == "/spec/template/spec/containers/0/resources/requests/cpu"]
	contains(cpu.msg, "requests cpu 8, more than the upper bound 900m")
	contains(cpu.fix, "near the VPA target 400m (recommended range 250m to 900m)")
	[mem] := [v | some v in vs; v.path == "/spec/template/spec/containers/0/resources/requests/memory"]
	contains(mem.msg, "requests memory 16Gi")
}

# The catalog's good example: within lowerBound ... upperBound.
test_requests_within_recommendation_pass if {
	rule.applies with input as testing.review(sized) with data.inventory as inv([goldilocks_vpa])
	count(findings(sized, [goldilocks_vpa])) == 0
}

test_slack_tolerates_a_little_more_than_upper_bound if {
	# 1100m is 22% above 900m: within the default 30% slack.
	d := deployment([container("rag", {"requests": {"cpu": "1100m", "memory": "1Gi"}})])
	count(findings(d, [goldilocks_vpa])) == 0
	vs := [v | some v in rule.violation with input as testing.review_with(d, {"slack": 0.1}) with data.inventory as inv([goldilocks_vpa])]
	[v] := vs
	contains(v.msg, "plus 10% slack")
}

test_under_provisioned_requests_are_reported if {
	d := deployment([container("rag", {"requests": {"cpu": 0.1, "memory": "512Mi"}})])
	vs := findings(d, [goldilocks_vpa])
	count(vs) == 2
	every v in vs {
		contains(v.msg, "under-provisioned")
	}
	[cpu] := [v | some v in vs; endswith(v.path, "/cpu")]
	contains(cpu.msg, "requests cpu 0.1, less than the lower bound 250m")
}

test_no_vpa_is_not_in_scope if {
	not rule.applies with input as testing.review(oversized) with data.inventory as inv([])
	count(findings(oversized, [])) == 0
}

test_vpa_of_another_workload_is_ignored if {
	other := json.patch(goldilocks_vpa, [{"op": "replace", "path": "/spec/targetRef/name", "value": "chatbot-ui"}])
	not rule.applies with input as testing.review(oversized) with data.inventory as inv([other])
	sts := json.patch(goldilocks_vpa, [{"op": "replace", "path": "/spec/targetRef/kind", "value": "StatefulSet"}])
	not rule.applies with input as testing.review(oversized) with data.inventory as inv([sts])
}

test_containers_without_recommendation_or_request_are_skipped if {
	d := deployment([
		container("rag", {"requests": {"cpu": "500m", "memory": "1Gi"}}),
		container("exporter", {"requests": {"cpu": "4", "memory": "8Gi"}}),
		container("rag", {}),
	])
	count(findings(d, [goldilocks_vpa])) == 0
}

test_injected_sidecars_are_skipped if {
	sidecar := json.patch(goldilocks_vpa, [{"op": "replace", "path": "/status/recommendation/containerRecommendations/0/containerName", "value": "istio-proxy"}])
	d := deployment([container("istio-proxy", {"requests": {"cpu": "2", "memory": "2Gi"}})])
	count(findings(d, [sidecar])) == 0
}

# ignoreGpuContainers (default true): VPA has no accelerator data.
test_gpu_containers_are_skipped if {
	d := deployment([container("rag", {"requests": {"cpu": "8", "memory": "16Gi", "nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 1}})])
	count(findings(d, [goldilocks_vpa])) == 0
	vs := [v | some v in rule.violation with input as testing.review_with(d, {"ignoreGpuContainers": false}) with data.inventory as inv([goldilocks_vpa])]
	count(vs) == 2
}

# Edge case: bursty batch jobs have few samples. A VPA younger than
# minObservationDays, or one that reports LowConfidence, is not compared.
test_young_vpa_is_not_compared if {
	yesterday := time.format(time.now_ns() - (((24 * 60) * 60) * 1000000000))
	young := vpa("Off", {"creationTimestamp": yesterday}, recommended)
	rule.applies with input as testing.review(oversized) with data.inventory as inv([young])
	count(findings(oversized, [young])) == 0
	vs := [v | some v in rule.violation with input as testing.review_with(oversized, {"minObservationDays": 0.5}) with data.inventory as inv([young])]
	count(vs) == 2
}

test_low_confidence_vpa_is_not_compared if {
	status := object.union(recommended, {"conditions": [
		{"type": "RecommendationProvided", "status": "True"},
		{"type": "LowConfidence", "status": "True"},
	]})
	unsure := vpa("Off", {}, status)
	count(findings(oversized, [unsure])) == 0
	confident := vpa("Off", {}, object.union(recommended, {"conditions": [{"type": "LowConfidence", "status": "False"}]}))
	count(findings(oversized, [confident])) == 2
}

test_batch_job_is_compared if {
	job := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "embed-nightly", "namespace": "genai"},
		"spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
			"restartPolicy": "OnFailure",
			"containers": [container("rag", {"requests": {"cpu": "8", "memory": "1Gi"}})],
		}}}}},
	}
	v := json.patch(goldilocks_vpa, [{"op": "replace", "path": "/spec/targetRef", "value": {"apiVersion": "batch/v1", "kind": "CronJob", "name": "embed-nightly"}}])
	[f] := findings(job, [v])
	f.path == "/spec/jobTemplate/spec/template/spec/containers/0/resources/requests/cpu"
}

# A VPA that changes pods (any mode but Off) sets the requests itself: not compared.
test_vpa_in_auto_mode_is_not_compared if {
	every mode in ["Auto", "Recreate", "Initial", "InPlaceOrRecreate"] {
		auto := vpa(mode, {}, recommended)
		rule.applies with input as testing.review(oversized) with data.inventory as inv([auto])
		count(findings(oversized, [auto])) == 0
	}

	# updatePolicy omitted: VPA defaults to Recreate.
	implicit := json.patch(vpa("Off", {}, recommended), [{"op": "remove", "path": "/spec/updatePolicy"}])
	count(findings(oversized, [implicit])) == 0
}

hpa(metrics) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "rag-app", "namespace": "genai"},
	"spec": object.union(
		{"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rag-app"}, "minReplicas": 2, "maxReplicas": 10},
		metrics,
	),
}

cpu_metric := {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}

custom_metric := {"type": "Pods", "pods": {"metric": {"name": "queue_depth"}, "target": {"type": "AverageValue", "averageValue": "10"}}}

# Edge case: an HPA on CPU/memory conflicts with a VPA that changes pods.
test_hpa_on_cpu_with_auto_vpa_is_reported if {
	auto := vpa("Recreate", {}, recommended)
	[v] := findings(sized, [auto, hpa({"metrics": [cpu_metric]})])
	v.action == "audit"
	v.path == "/metadata/name"
	contains(v.msg, `VerticalPodAutoscaler "goldilocks-rag-app" (updateMode Recreate) and HorizontalPodAutoscaler "rag-app" both act on the cpu of Deployment "rag-app"`)
	contains(v.fix, `updateMode to "Off"`)
}

test_hpa_without_metrics_defaults_to_cpu if {
	auto := vpa("Auto", {}, recommended)
	[v] := findings(sized, [auto, hpa({})])
	contains(v.msg, "both act on the cpu")
	memory := {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "rag", "target": {"type": "Utilization", "averageUtilization": 80}}}
	[w] := findings(sized, [auto, hpa({"metrics": [memory, cpu_metric]})])
	contains(w.msg, "both act on the cpu and memory")
}

# Recommend-only VPAs are fine next to an HPA, and so is an HPA on custom metrics.
test_hpa_with_recommend_only_vpa_or_custom_metric_passes if {
	count(findings(sized, [goldilocks_vpa, hpa({"metrics": [cpu_metric]})])) == 0
	count(findings(sized, [vpa("Auto", {}, recommended), hpa({"metrics": [custom_metric]})])) == 0
}

test_exempt_namespace_not_in_scope if {
	d := json.patch(oversized, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	v := json.patch(goldilocks_vpa, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	i := {"namespace": {"kube-system": {"VerticalPodAutoscaler": {"goldilocks-rag-app": v}}}}
	not rule.applies with input as testing.review(d) with data.inventory as i
}
