package kgate.rules.network.lb_health_check_configured_test

import data.kgate.lib.testing
import data.kgate.rules.network.lb_health_check_configured as rule

hc := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-"

key(k) := concat("", [hc, k])

path_of(k) := concat("", ["/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-healthcheck-", k])

external := {
	"service.beta.kubernetes.io/aws-load-balancer-type": "external",
	"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
}

inference_labels := {"kgate.dev/role": "inference"}

service(labels, annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "my-llama-svc", "namespace": "genai", "labels": labels, "annotations": object.union(external, annotations)},
	"spec": object.union(
		{
			"type": "LoadBalancer",
			"selector": {"app.kubernetes.io/name": "my-llama-finetuned"},
			"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
		},
		spec,
	),
}

good_checks := {
	key("protocol"): "http",
	key("path"): "/healthz",
	key("interval"): "10",
	key("timeout"): "6",
	key("healthy-threshold"): "2",
	key("unhealthy-threshold"): "3",
}

good := service(inference_labels, good_checks, {})

# A Service that is neither labelled inference nor has an HTTP port.
plain_tcp := service({}, {}, {"ports": [{"name": "redis", "port": 6379}]})

findings(inp) := {[v.action, v.path] | some v in rule.violation with input as inp}

# The catalog's bad example: default TCP check on an inference Service, interval 1.
test_catalog_bad_example if {
	svc := service(inference_labels, {key("interval"): "1"}, {})
	findings(testing.review(svc)) == {["deny", path_of("interval")], ["warn", "/metadata/annotations"]}
	count(rule.patch) == 0 with input as testing.review(svc)
}

test_catalog_good_example_passes if {
	rule.applies with input as testing.review(good)
	count(rule.violation) == 0 with input as testing.review(good)
}

test_out_of_range_values_are_denied if {
	every pair in [
		["interval", "4"], ["interval", "301"], ["timeout", "1"], ["timeout", "121"],
		["healthy-threshold", "1"], ["healthy-threshold", "11"], ["unhealthy-threshold", "0"], ["unhealthy-threshold", "12"],
	] {
		svc := service(inference_labels, object.union(good_checks, {key(pair[0]): pair[1]}), {})
		findings(testing.review(svc)) == {["deny", path_of(pair[0])]}
	}
}

test_non_integers_are_denied if {
	every k in ["interval", "timeout", "healthy-threshold", "unhealthy-threshold"] {
		svc := service(inference_labels, object.union(good_checks, {key(k): "10s"}), {})
		[v] := [v | some v in rule.violation with input as testing.review(svc)]
		v.action == "deny"
		contains(v.msg, "not an integer")
	}
}

test_range_limits_pass if {
	every checks in [
		{key("interval"): "5", key("timeout"): "2", key("healthy-threshold"): "2", key("unhealthy-threshold"): "2"},
		{key("interval"): "300", key("timeout"): "120", key("healthy-threshold"): "10", key("unhealthy-threshold"): "10"},
	] {
		count(rule.violation) == 0 with input as testing.review(service(inference_labels, object.union(good_checks, checks), {}))
	}
}

# On UPDATE, an invalid value that is already stored is only warned; a new one is denied.
test_update_keeps_or_introduces_invalid_value if {
	broken := service(inference_labels, object.union(good_checks, {key("interval"): "1"}), {})
	findings(testing.review_update(broken, broken)) == {["warn", path_of("interval")]}
	findings(testing.review_update(broken, good)) == {["deny", path_of("interval")]}
}

test_invalid_protocol_is_denied if {
	svc := service(inference_labels, object.union(good_checks, {key("protocol"): "grpc"}), {})
	findings(testing.review(svc)) == {["deny", path_of("protocol")]}

	# the controller upper-cases the protocol
	count(rule.violation) == 0 with input as testing.review(service(inference_labels, object.union(good_checks, {key("protocol"): "HTTP"}), {}))
}

test_health_check_ports if {
	named := {"ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "health", "port": 8081, "targetPort": 8081}]}
	every port in ["traffic-port", "8081", "health"] {
		count(rule.violation) == 0 with input as testing.review(service(inference_labels, object.union(good_checks, {key("port"): port}), named))
	}
	every port in ["0", "65536", "metrics"] {
		findings(testing.review(service(inference_labels, object.union(good_checks, {key("port"): port}), named))) == {["deny", path_of("port")]}
	}

	# a named port with a named targetPort cannot be resolved for IP targets
	named_target := {"ports": [{"name": "health", "port": 8081, "targetPort": "health"}]}
	[v] := [v | some v in rule.violation with input as testing.review(service(inference_labels, object.union(good_checks, {key("port"): "health"}), named_target))]
	v.action == "deny"
	contains(v.msg, "named targetPort")

	# a port without targetPort targets the same number
	count(rule.violation) == 0 with input as testing.review(service(inference_labels, object.union(good_checks, {key("port"): "health"}), {"ports": [{"name": "health", "port": 8081}]}))
}

test_paths_and_success_codes if {
	findings(testing.review(service(inference_labels, object.union(good_checks, {key("path"): "healthz"}), {}))) == {["deny", path_of("path")]}
	every codes in ["200", "200-399", "200,202", "200-299,301"] {
		count(rule.violation) == 0 with input as testing.review(service(inference_labels, object.union(good_checks, {key("success-codes"): codes}), {}))
	}
	every codes in ["100", "200-600", "2xx", "200;202"] {
		findings(testing.review(service(inference_labels, object.union(good_checks, {key("success-codes"): codes}), {}))) == {["deny", path_of("success-codes")]}
	}
}

# The path and success codes are not used by a TCP check.
test_tcp_check_ignores_path if {
	svc := service({}, {key("protocol"): "tcp", key("path"): "healthz", key("success-codes"): "2xx"}, {"ports": [{"name": "redis", "port": 6379}]})
	count(rule.violation) == 0 with input as testing.review(svc)
}

test_http_check_without_path_is_warned if {
	svc := service(inference_labels, {key("protocol"): "http"}, {})
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "warn"
	v.path == path_of("protocol")
	contains(v.msg, `"/"`)
}

test_tcp_check_on_http_port_is_warned if {
	every ports in [
		[{"name": "http", "port": 80, "targetPort": 8080}],
		[{"name": "https-api", "port": 443, "targetPort": 8443}],
		[{"port": 80, "targetPort": 8080, "appProtocol": "http"}],
	] {
		svc := service({}, {}, {"ports": ports})
		findings(testing.review(svc)) == {["warn", "/metadata/annotations"]}
	}
	explicit := service({}, {key("protocol"): "tcp"}, {"ports": [{"name": "http", "port": 80}]})
	[v] := [v | some v in rule.violation with input as testing.review(explicit)]
	v.path == path_of("protocol")
	contains(v.msg, "over TCP")
}

test_plain_tcp_service_passes if {
	rule.applies with input as testing.review(plain_tcp)
	count(rule.violation) == 0 with input as testing.review(plain_tcp)
}

# Edge: with externalTrafficPolicy: Local, do not use TCP.
test_external_traffic_policy_local if {
	local := {"externalTrafficPolicy": "Local"}
	[v] := [v | some v in rule.violation with input as testing.review(service({}, {key("protocol"): "tcp"}, object.union(local, {"ports": [{"name": "redis", "port": 6379}]})))]
	v.action == "warn"
	contains(v.msg, "externalTrafficPolicy: Local")

	# instance targets with Local: the controller's default is HTTP on kube-proxy's /healthz
	instance := json.patch(service(inference_labels, {}, local), [{"op": "remove", "path": "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-nlb-target-type"}])
	count(rule.violation) == 0 with input as testing.review(instance)
	count(rule.violation) == 0 with input as testing.review(json.patch(instance, [{"op": "add", "path": "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-healthcheck-protocol", "value": "http"}]))

	# IP targets with Local keep the TCP default
	findings(testing.review(service(inference_labels, {}, local))) == {["warn", "/metadata/annotations"]}
}

# Edge: gRPC model servers need TCP or an HTTP health sidecar.
test_grpc_services_keep_tcp if {
	every ports in [
		[{"name": "grpc", "port": 8001}],
		[{"name": "grpc-infer", "port": 8001}, {"port": 8002, "appProtocol": "grpc"}],
	] {
		svc := service(inference_labels, {}, {"ports": ports})
		count(rule.violation) == 0 with input as testing.review(svc)
		count(rule.patch) == 0 with input as testing.review_with(svc, {"defaultHealthCheckPath": "/healthz"})
	}

	# one HTTP port among gRPC ones: the TCP check is warned
	mixed := service(inference_labels, {}, {"ports": [{"name": "grpc", "port": 8001}, {"name": "http", "port": 8000}]})
	count(rule.violation) == 1 with input as testing.review(mixed)
}

# Edge: with proxy protocol v2 an HTTP check needs a health port that speaks it.
test_proxy_protocol_keeps_tcp if {
	every annotations in [
		{"service.beta.kubernetes.io/aws-load-balancer-proxy-protocol": "*"},
		{"service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "deregistration_delay.timeout_seconds=30, proxy_protocol_v2.enabled=true"},
	] {
		svc := service(inference_labels, annotations, {})
		count(rule.violation) == 0 with input as testing.review(svc)
		count(rule.patch) == 0 with input as testing.review_with(svc, {"defaultHealthCheckPath": "/healthz"})
	}
}

test_min_unhealthy_threshold if {
	svc := service(inference_labels, object.union(good_checks, {key("unhealthy-threshold"): "2"}), {})
	count(rule.violation) == 0 with input as testing.review(svc)
	findings(testing.review_with(svc, {"minUnhealthyThreshold": 3})) == {["warn", path_of("unhealthy-threshold")]}
}

# Opt-in mutation for new inference Services.
test_default_health_check_path_mutation if {
	params := {"defaultHealthCheckPath": "/healthz"}
	svc := service(inference_labels, {}, {})
	[v] := [v | some v in rule.violation with input as testing.review_with(svc, params)]
	v.action == "mutate"
	ops := {
		{"op": "add", "path": path_of("protocol"), "value": "http"},
		{"op": "add", "path": path_of("path"), "value": "/healthz"},
	}
	rule.patch == ops with input as testing.review_with(svc, params)
	patched := testing.apply(svc, [op | some op in ops])
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)

	# an HTTP check without path gets the path only
	http := service(inference_labels, {key("protocol"): "http"}, {})
	rule.patch == {{"op": "add", "path": path_of("path"), "value": "/healthz"}} with input as testing.review_with(http, params)
	findings(testing.review_with(http, params)) == {["mutate", path_of("protocol")]}

	# an explicit tcp is the user's choice: warned, not changed
	tcp := service(inference_labels, {key("protocol"): "tcp"}, {})
	count(rule.patch) == 0 with input as testing.review_with(tcp, params)
	findings(testing.review_with(tcp, params)) == {["warn", path_of("protocol")]}

	# HTTP-port Services that are not labelled inference are only warned
	count(rule.patch) == 0 with input as testing.review_with(service({}, {}, {"ports": [{"name": "http", "port": 80}]}), params)
}

# On UPDATE a new protocol replaces the target groups: warn, never mutate.
test_update_is_warned if {
	params := {"defaultHealthCheckPath": "/healthz"}
	svc := service(inference_labels, {}, {})
	[v] := [v | some v in rule.violation with input as testing.review_update(svc, svc) with input.params as object.union(data.kgate.defaults, params)]
	v.action == "warn"
	contains(v.fix, "maintenance window")
	count(rule.patch) == 0 with input as testing.review_update(svc, svc) with input.params as object.union(data.kgate.defaults, params)
}

# Edge: ALB Ingresses use alb.ingress.kubernetes.io/healthcheck-* (NET-004), and
# Services the controller does not reconcile are out of scope.
test_out_of_scope if {
	ingress := {
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": {"name": "genai", "namespace": "genai", "labels": inference_labels},
		"spec": {"ingressClassName": "alb"},
	}
	not rule.applies with input as testing.review(ingress)
	every svc in [
		json.patch(service(inference_labels, {}, {}), [{"op": "replace", "path": "/metadata/annotations", "value": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}}]),
		service(inference_labels, {}, {"loadBalancerClass": "metallb.universe.tf/metallb"}),
		service(inference_labels, {}, {"type": "ClusterIP"}),
		json.patch(service(inference_labels, {key("interval"): "1"}, {}), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

# --- Pods and pod templates ---

deployment(labels, tpl_labels, containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "my-llama", "namespace": "genai", "labels": labels},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app.kubernetes.io/name": "my-llama-finetuned"}},
		"template": {
			"metadata": {"labels": object.union({"app.kubernetes.io/name": "my-llama-finetuned"}, tpl_labels)},
			"spec": {"containers": containers},
		},
	},
}

probe := {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}

server(extra) := object.union(
	{
		"name": "vllm",
		"image": "vllm/vllm-openai:v0.6.3",
		"ports": [{"containerPort": 8080}],
		"resources": {"limits": {"nvidia.com/gpu": 1}},
	},
	extra,
)

test_inference_container_without_readiness_probe if {
	every d in [deployment(inference_labels, {}, [server({})]), deployment({}, inference_labels, [server({})])] {
		[v] := [v | some v in rule.violation with input as testing.review(d)]
		v.action == "warn"
		v.path == "/spec/template/spec/containers/0"
		contains(v.msg, `container "vllm"`)
	}
}

test_inference_containers_with_probes_pass if {
	every c in [
		server({"readinessProbe": probe}),
		server({"readinessProbe": probe, "livenessProbe": probe, "startupProbe": object.union(probe, {"failureThreshold": 60})}),
	] {
		d := deployment({}, inference_labels, [c])
		rule.applies with input as testing.review(d)
		count(rule.violation) == 0 with input as testing.review(d)
	}
}

test_liveness_without_startup_probe_on_accelerators if {
	d := deployment({}, inference_labels, [server({"readinessProbe": probe, "livenessProbe": probe})])
	[v] := [v | some v in rule.violation with input as testing.review(d)]
	v.action == "warn"
	v.path == "/spec/template/spec/containers/0/livenessProbe"

	# a CPU model server loads quickly
	cpu := deployment({}, inference_labels, [object.remove(server({"readinessProbe": probe, "livenessProbe": probe}), ["resources"])])
	count(rule.violation) == 0 with input as testing.review(cpu)
}

# Only the containers that serve: with ports when some have them, never injected sidecars.
test_serving_containers if {
	sidecars := [
		server({"readinessProbe": probe}),
		{"name": "log-shipper", "image": "fluent/fluent-bit:3.1"},
		{"name": "istio-proxy", "image": "istio/proxyv2:1.23.0", "ports": [{"containerPort": 15090}]},
	]
	count(rule.violation) == 0 with input as testing.review(deployment({}, inference_labels, sidecars))

	# without any ports, every main container counts
	no_ports := [object.remove(server({}), ["ports"]), {"name": "log-shipper", "image": "fluent/fluent-bit:3.1"}]
	count(rule.violation) == 2 with input as testing.review(deployment({}, inference_labels, no_ports))
}

test_bare_pod if {
	pod := {
		"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "llama-0", "namespace": "genai", "labels": inference_labels},
		"spec": {"containers": [server({})]},
	}
	findings(testing.review(pod)) == {["warn", "/spec/containers/0"]}
}

test_other_workloads_not_in_scope if {
	every d in [
		deployment({}, {"kgate.dev/role": "rag"}, [server({})]),
		json.patch(deployment({}, inference_labels, [server({})]), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(d)
		count(rule.violation) == 0 with input as testing.review(d)
	}

	# a custom inferenceSelector
	d := deployment({}, {"app.kubernetes.io/component": "model-server"}, [server({})])
	sel := {"matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In", "values": ["model-server"]}]}
	count(rule.violation) == 0 with input as testing.review(d)
	count(rule.violation) == 1 with input as testing.review(d) with input.params.inferenceSelector as sel
}
