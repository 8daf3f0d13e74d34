package kgate.rules.topology.service_topology_aware_routing_test

import data.kgate.lib.testing
import data.kgate.rules.topology.service_topology_aware_routing as rule

mode_key := "service.kubernetes.io/topology-mode"

hints_key := "service.kubernetes.io/topology-aware-hints"

mode_path := "/metadata/annotations/service.kubernetes.io~1topology-mode"

hints_path := "/metadata/annotations/service.kubernetes.io~1topology-aware-hints"

service(meta, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": object.union({"name": "rag-app", "namespace": "genai"}, meta),
	"spec": object.union({"selector": {"app.kubernetes.io/name": "rag-app"}, "ports": [{"port": 80, "targetPort": 8080}]}, spec),
}

plain := service({}, {})

hints(value) := service({"annotations": {hints_key: value}}, {})

minor(m) := {"kubernetesMinor": m}

# Apply the rule's patch and check that the result is clean.
idempotent(svc, params) if {
	patched := testing.apply(svc, [op | some op in rule.patch with input as testing.review_with(svc, params)])
	rule.applies with input as testing.review_with(patched, params)
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)
}

test_missing_routing_gets_prefer_same_zone if {
	[v] := [v | some v in rule.violation with input as testing.review(plain)]
	v.action == "mutate"
	v.path == "/spec"
	contains(v.msg, `"rag-app"`)
	v.fix == "set spec.trafficDistribution: PreferSameZone"
	rule.patch == {{"op": "add", "path": "/spec/trafficDistribution", "value": "PreferSameZone"}} with input as testing.review(plain)
	idempotent(plain, {})
}

test_value_follows_kubernetes_minor if {
	rule.patch == {{"op": "add", "path": "/spec/trafficDistribution", "value": "PreferClose"}} with input as testing.review_with(plain, minor(33))
	rule.patch == {{"op": "add", "path": "/spec/trafficDistribution", "value": "PreferClose"}} with input as testing.review_with(plain, minor(31))
	rule.patch == {{"op": "add", "path": mode_path, "value": "Auto"}} with input as testing.review_with(plain, minor(30))
	rule.patch == {{"op": "add", "path": mode_path, "value": "Auto"}} with input as testing.review_with(plain, minor(27))
	rule.patch == {{"op": "add", "path": hints_path, "value": "Auto"}} with input as testing.review_with(plain, minor(26))
	every m in [35, 34, 33, 31, 30, 27, 26] {
		idempotent(plain, minor(m))
	}
}

test_routed_services_pass if {
	every svc in [
		service({}, {"trafficDistribution": "PreferClose"}),
		service({}, {"trafficDistribution": "PreferSameZone"}),
		service({}, {"trafficDistribution": "PreferSameNode"}),
		service({"annotations": {mode_key: "Auto"}}, {}),
		service({"annotations": {mode_key: "auto"}}, {}),
		# an explicit opt-out is respected (respectDisabled)
		service({"annotations": {mode_key: "Disabled"}}, {}),
	] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

test_disabled_is_flagged_when_not_respected if {
	svc := service({"annotations": {mode_key: "Disabled"}}, {})
	params := {"respectDisabled": false}
	[v] := [v | some v in rule.violation with input as testing.review_with(svc, params)]
	v.action == "mutate"
	idempotent(svc, params)
}

test_deprecated_annotation_is_renamed if {
	svc := hints("auto")
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "mutate"
	v.path == hints_path
	rule.patch == {
		{"op": "remove", "path": hints_path},
		{"op": "add", "path": mode_path, "value": "auto"},
	} with input as testing.review(svc)
	idempotent(svc, {})
}

# The deprecated annotation wins over topology-mode: the rename keeps its value.
test_deprecated_annotation_wins_over_topology_mode if {
	svc := service({"annotations": {hints_key: "Disabled", mode_key: "Auto"}}, {})
	rule.patch == {
		{"op": "remove", "path": hints_path},
		{"op": "add", "path": mode_path, "value": "Disabled"},
	} with input as testing.review(svc)
	idempotent(svc, {})
}

# A deprecated annotation that does not enable routing: rename it and add routing.
test_deprecated_annotation_without_routing if {
	vs := [v | some v in rule.violation with input as testing.review(hints("yes"))]
	count(vs) == 2
	idempotent(hints("yes"), {})
	rule.patch == {
		{"op": "remove", "path": hints_path},
		{"op": "add", "path": mode_path, "value": "Auto"},
	} with input as testing.review_with(hints("yes"), minor(29))
	idempotent(hints("yes"), minor(29))
}

# Before 1.27 topology-aware-hints is the only annotation: not deprecated.
test_hints_annotation_before_1_27 if {
	count(rule.violation) == 0 with input as testing.review_with(hints("Auto"), minor(26))
}

# Outside the GenAI namespaces only the deprecated annotation is reported, as a warning.
test_exempt_namespaces if {
	svc := service({"namespace": "kube-system"}, {})
	not rule.applies with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review(svc)
	old := service({"namespace": "kube-system", "annotations": {hints_key: "auto"}}, {})
	[v] := [v | some v in rule.violation with input as testing.review(old)]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review(old)
}

test_services_without_kube_proxy_balancing_not_in_scope if {
	every svc in [
		service({}, {"clusterIP": "None"}),
		service({}, {"type": "ExternalName", "externalName": "db.example.com"}),
		json.patch(plain, [{"op": "replace", "path": "/spec/selector", "value": {}}]),
		json.patch(plain, [{"op": "remove", "path": "/spec/selector"}]),
		service({}, {"internalTrafficPolicy": "Local"}),
		service({"labels": {"kgate.dev/role": "vectordb"}}, {}),
	] {
		not rule.applies with input as testing.review_with(svc, {"skipRoles": ["vectordb"]})
		count(rule.violation) == 0 with input as testing.review_with(svc, {"skipRoles": ["vectordb"]})
	}
}

# externalTrafficPolicy only affects external traffic: in-cluster clients still benefit.
test_load_balancer_services_are_in_scope if {
	every spec in [{"type": "LoadBalancer", "externalTrafficPolicy": "Local"}, {"type": "NodePort"}] {
		count(rule.violation) == 1 with input as testing.review(service({}, spec))
	}
}

test_other_kinds_not_in_scope if {
	not rule.applies with input as testing.review({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "genai", "annotations": {hints_key: "auto"}}})
}

# trafficDistribution and the annotations are mutable: UPDATEs are mutated too.
test_update_is_mutated if {
	[v] := [v | some v in rule.violation with input as testing.review_update(plain, plain)]
	v.action == "mutate"
	count(rule.patch) == 1 with input as testing.review_update(plain, plain)
}
