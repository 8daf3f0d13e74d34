package kgate.rules.compute.require_cpu_memory_requests_test

import data.kgate.lib.testing
import data.kgate.rules.compute.require_cpu_memory_requests as rule

sized := {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "768Mi"}}

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "chatbot-ui", "namespace": "genai"},
	"spec": {
		"selector": {"matchLabels": {"app": "ui"}},
		"template": {
			"metadata": {"labels": {"app": "ui"}},
			"spec": {"containers": [{"name": "ui", "image": "ui:1.4.2", "resources": resources}]},
		},
	},
}

pod(containers) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "nginx", "namespace": "genai"},
	"spec": {"containers": containers},
}

test_missing_requests_and_limit_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(deployment({}))]
	v.action == "deny"
	v.path == "/spec/template/spec/containers/0/resources"
	contains(v.msg, "requests.cpu, requests.memory, limits.memory")
	contains(v.msg, `container "ui" of Deployment "chatbot-ui"`)
}

test_sized_container_passes if {
	rule.applies with input as testing.review(deployment(sized))
	count(rule.violation) == 0 with input as testing.review(deployment(sized))
}

test_each_missing_field_is_reported if {
	every tc in [
		[{"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}, "requests.cpu"],
		[{"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}, "requests.memory"],
		[{"requests": {"cpu": "1", "memory": "1Gi"}}, "limits.memory"],
	] {
		[v] := [v | some v in rule.violation with input as testing.review(deployment(tc[0]))]
		endswith(v.msg, concat(" ", ["sets no", tc[1]]))
	}
}

test_cpu_limit_is_not_required if {
	count(rule.violation) == 0 with input as testing.review(deployment({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}))
}

test_limits_only_container_violates if {
	d := deployment({"limits": {"cpu": "1", "memory": "1Gi"}})
	[v] := [v | some v in rule.violation with input as testing.review(d)]
	endswith(v.msg, "sets no requests.cpu, requests.memory")
}

test_memory_limit_optional_by_param if {
	d := deployment({"requests": {"cpu": "1", "memory": "1Gi"}})
	count(rule.violation) == 0 with input as testing.review_with(d, {"requireMemoryLimit": false})
}

test_ignored_sidecar_is_skipped if {
	p := pod([
		{"name": "app", "image": "app:1", "resources": sized},
		{"name": "istio-proxy", "image": "proxyv2:1.22"},
	])
	rule.applies with input as testing.review(p)
	count(rule.violation) == 0 with input as testing.review(p)
}

test_init_containers_are_checked if {
	p := object.union(pod([{"name": "app", "image": "app:1", "resources": sized}]), {"spec": {"initContainers": [
		{"name": "istio-init", "image": "proxyv2:1.22"},
		{"name": "fetch", "image": "fetch:1"},
	]}})
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.path == "/spec/initContainers/1/resources"
	startswith(v.msg, `init container "fetch" of Pod "nginx"`)
}

test_pod_level_resources_satisfy if {
	p := object.union(pod([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]), {"spec": {"resources": sized}})
	count(rule.violation) == 0 with input as testing.review(p)
}

test_limit_range_defaults_satisfy if {
	lr := {
		"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "genai"},
		"spec": {"limits": [{"type": "Container", "default": {"memory": "1Gi"}, "defaultRequest": {"cpu": "250m"}}]},
	}
	inv := {"namespace": {"genai": {"LimitRange": {"defaults": lr}}}}
	count(rule.violation) == 0 with input as testing.review(deployment({})) with data.inventory as inv

	# a LimitRange of another namespace does not count, nor does one when honourLimitRange is off
	other := {"namespace": {"other": {"LimitRange": {"defaults": lr}}}}
	count(rule.violation) == 1 with input as testing.review(deployment({})) with data.inventory as other
	count(rule.violation) == 1 with input as testing.review_with(deployment({}), {"honourLimitRange": false}) with data.inventory as inv
}

test_controller_owned_pod_is_warned if {
	p := object.union(pod([{"name": "nginx", "image": "nginx:1.27"}]), {"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "nginx-5d8", "uid": "1", "controller": true}]}})
	[v] := [v | some v in rule.violation with input as testing.review(p)]
	v.action == "warn"
	v.path == "/spec/containers/0/resources"
}

test_bare_pod_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(pod([{"name": "nginx", "image": "nginx:1.27"}]))]
	v.action == "deny"
}

test_cronjob_path if {
	cj := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "genai"},
		"spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "busybox", "image": "busybox:1.36"}]}}}}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(cj)]
	v.path == "/spec/jobTemplate/spec/template/spec/containers/0/resources"
}

test_multi_template_objects_report_each_template if {
	pj := {
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "fsdp", "namespace": "genai"},
		"spec": {"pytorchReplicaSpecs": {
			"Master": {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t:1", "resources": sized}]}}},
			"Worker": {"replicas": 3, "template": {"spec": {"containers": [{"name": "pytorch", "image": "t:1"}]}}},
		}},
	}
	[v] := [v | some v in rule.violation with input as testing.review(pj)]
	v.path == "/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0/resources"
	contains(v.msg, `template "Worker"`)

	rc := {
		"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "ray", "namespace": "genai"},
		"spec": {
			"headGroupSpec": {"template": {"spec": {"containers": [{"name": "ray-head", "image": "ray:2", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}]}}},
			"workerGroupSpecs": [{"groupName": "gpu", "replicas": 2, "template": {"spec": {"containers": [{"name": "ray-worker", "image": "ray:2", "resources": sized}]}}}],
		},
	}
	[h] := [v | some v in rule.violation with input as testing.review(rc)]
	h.path == "/spec/headGroupSpec/template/spec/containers/0/resources"
	endswith(h.msg, "sets no limits.memory")
}

test_exempt_namespace_and_other_kinds_not_in_scope if {
	ds := json.patch(deployment({}), [
		{"op": "replace", "path": "/kind", "value": "DaemonSet"},
		{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"},
	])
	not rule.applies with input as testing.review(ds)
	count(rule.violation) == 0 with input as testing.review(ds)

	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ui", "namespace": "genai"}, "spec": {"selector": {"app": "ui"}}}
	not rule.applies with input as testing.review(svc)
}

test_update_of_immutable_pod_spec_is_warned if {
	p := pod([{"name": "nginx", "image": "nginx:1.27"}])
	labelled := json.patch(p, [{"op": "add", "path": "/metadata/labels", "value": {"team": "a"}}])
	[v] := [v | some v in rule.violation with input as testing.review_update(labelled, p)]
	v.action == "warn"

	# a Deployment template can be fixed in the same update: still denied
	[w] := [v | some v in rule.violation with input as testing.review_update(deployment({}), deployment({}))]
	w.action == "deny"
}

# The strict GenAI profile is scoped by genaiNamespaceSelector: selected
# namespaces deny, other namespaces warn (catalog: deny GenAI templates / warn).
test_outside_the_genai_profile_warns if {
	params := {"genaiNamespaceSelector": {"matchLabels": {"kgate.dev/genai": "true"}}}
	plain := object.union(testing.review_with(deployment({}), params), {"namespaceLabels": {}})
	[w] := [v | some v in rule.violation with input as plain]
	w.action == "warn"
	labelled := object.union(plain, {"namespaceLabels": {"kgate.dev/genai": "true"}})
	[d] := [v | some v in rule.violation with input as labelled]
	d.action == "deny"
}
