package kgate.rules.network.consolidate_load_balancers_test

import data.kgate.lib.testing
import data.kgate.rules.network.consolidate_load_balancers as rule

group_key := "alb.ingress.kubernetes.io/group.name"

scheme_key := "alb.ingress.kubernetes.io/scheme"

service(name, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": name, "namespace": "genai"},
	"spec": object.union(
		{
			"type": "LoadBalancer",
			"loadBalancerClass": "service.k8s.aws/nlb",
			"selector": {"app.kubernetes.io/name": name},
			"ports": [{"port": 80, "targetPort": 8080}],
		},
		spec,
	),
}

ingress(name, annotations, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": name, "namespace": "genai", "annotations": annotations},
	"spec": object.union(
		{
			"ingressClassName": "alb",
			"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}],
		},
		spec,
	),
}

alb_class := {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "alb"}, "spec": {"controller": "ingress.k8s.aws/alb"}}

nginx_class := {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}

# inventory holds the namespace's Services and Ingresses, by name.
inventory(services, ingresses) := {
	"namespace": {"genai": {
		"Service": {s.metadata.name: s | some s in services},
		"Ingress": {i.metadata.name: i | some i in ingresses},
	}},
	"cluster": {"IngressClass": {"alb": alb_class, "nginx": nginx_class}},
}

chatbot := service("chatbot-ui-lb", {})

rag := service("rag-app-lb", {})

llama := service("my-llama-lb", {"ports": [{"name": "http", "port": 8000, "targetPort": 8000}]})

three := inventory([chatbot, rag, llama], [])

test_third_http_load_balancer_is_reported if {
	[v] := [v | some v in rule.violation with input as testing.review(llama) with data.inventory as three]
	v.action == "audit"
	v.path == "/spec/type"
	contains(v.msg, `"genai"`)
	contains(v.msg, "3 HTTP load balancers")
	contains(v.msg, "chatbot-ui-lb, my-llama-lb, rag-app-lb")
	contains(v.fix, "group.name")
	contains(v.fix, "trust")
}

# Every Service over the limit is reported, the one under review included when it is
# not in the inventory yet (admission of a CREATE).
test_every_http_load_balancer_is_reported if {
	every svc in [chatbot, rag, llama] {
		count(rule.violation) == 1 with input as testing.review(svc) with data.inventory as three
	}
	count(rule.violation) == 1 with input as testing.review(llama) with data.inventory as inventory([chatbot, rag], [])
}

# The message lists the Service under review whether or not the inventory holds it yet.
test_message_lists_the_reviewed_service_before_it_is_stored if {
	[v] := [v | some v in rule.violation with input as testing.review(llama) with data.inventory as inventory([chatbot, rag], [])]
	contains(v.msg, "3 HTTP load balancers")
	contains(v.msg, "is one of 3 LoadBalancer Services serving HTTP (chatbot-ui-lb, my-llama-lb, rag-app-lb)")
	[w] := [w | some w in rule.violation with input as testing.review(llama) with data.inventory as three]
	w.msg == v.msg
}

test_up_to_the_limit_passes if {
	every svc in [chatbot, rag] {
		rule.applies with input as testing.review(svc) with data.inventory as inventory([chatbot, rag], [])
		count(rule.violation) == 0 with input as testing.review(svc) with data.inventory as inventory([chatbot, rag], [])
	}
	count(rule.violation) == 0 with input as testing.review(llama) with data.inventory as three with input.params.maxLbsPerNamespace as 3
}

# An UPDATE replaces the stored version: a Service switched to ClusterIP no longer counts.
test_update_replaces_the_stored_version if {
	clusterip := json.patch(llama, [
		{"op": "replace", "path": "/spec/type", "value": "ClusterIP"},
		{"op": "remove", "path": "/spec/loadBalancerClass"},
	])
	count(rule.violation) == 0 with input as testing.review_update(chatbot, chatbot) with data.inventory as inventory([chatbot, rag, clusterip], [])
	not rule.applies with input as testing.review_update(clusterip, llama) with data.inventory as three
}

# Edge case: gRPC or TCP model endpoints may need an NLB anyway; they do not count.
test_grpc_and_tcp_services_do_not_count if {
	grpc := service("triton-grpc", {"ports": [{"name": "grpc", "port": 8001, "targetPort": 8001}]})
	h2 := service("vllm-h2", {"ports": [{"port": 9000, "appProtocol": "grpc"}]})
	tcp := service("qdrant-tcp", {"ports": [{"port": 6334}]})
	udp := service("dns", {"ports": [{"port": 80, "protocol": "UDP"}]})
	inv := inventory([chatbot, rag, grpc, h2, tcp, udp], [])
	every svc in [grpc, h2, tcp, udp] {
		rule.applies with input as testing.review(svc) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(svc) with data.inventory as inv
	}
	count(rule.violation) == 0 with input as testing.review(chatbot) with data.inventory as inv
}

test_http_is_recognised_by_app_protocol_name_or_number if {
	every ports in [
		[{"port": 7860, "appProtocol": "HTTP"}],
		[{"port": 7860, "appProtocol": "kubernetes.io/h2c"}],
		[{"name": "https-web", "port": 7860}],
		[{"name": "web", "port": 8443}],
		[{"port": 6333}, {"port": 443}],
	] {
		svc := service("ui", {"ports": ports})
		count(rule.violation) == 1 with input as testing.review(svc) with data.inventory as inventory([chatbot, rag, svc], [])
	}
}

test_other_load_balancers_do_not_count if {
	metallb := service("metallb", {"loadBalancerClass": "metallb.universe.tf/metallb"})
	other_ns := json.patch(service("other-ns", {}), [{"op": "replace", "path": "/metadata/namespace", "value": "rag"}])
	inv := {
		"namespace": {
			"genai": {"Service": {"chatbot-ui-lb": chatbot, "rag-app-lb": rag, "metallb": metallb}},
			"rag": {"Service": {"other-ns": other_ns}},
		},
		"cluster": {},
	}
	count(rule.violation) == 0 with input as testing.review(chatbot) with data.inventory as inv
	not rule.applies with input as testing.review(metallb) with data.inventory as inv
}

# Services without class count: LBC's webhook or the legacy cloud provider gives them an
# AWS load balancer.
test_classless_load_balancers_count if {
	legacy := json.patch(service("legacy", {}), [{"op": "remove", "path": "/spec/loadBalancerClass"}])
	count(rule.violation) == 1 with input as testing.review(legacy) with data.inventory as inventory([chatbot, rag, legacy], [])
}

# ALBs count towards the namespace's HTTP load balancers.
test_albs_count_towards_the_limit if {
	inv := inventory([chatbot, rag], [ingress("shop", {}, {})])
	[v] := [v | some v in rule.violation with input as testing.review(chatbot) with data.inventory as inv]
	contains(v.msg, "1 ALB(s)")
}

test_exempt_namespace_and_other_kinds_not_in_scope if {
	sys := json.patch(llama, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(sys) with data.inventory as three
	not rule.applies with input as testing.review(service("x", {"type": "ClusterIP"})) with data.inventory as three
}

# Ingresses.

test_ingress_with_own_alb_next_to_another_is_reported if {
	a := ingress("chatbot-ui", {}, {})
	b := ingress("rag-app", {}, {})
	inv := inventory([], [a, b])
	[v] := [v | some v in rule.violation with input as testing.review(a) with data.inventory as inv]
	v.action == "audit"
	v.path == "/metadata/annotations"
	contains(v.msg, "rag-app")
	contains(v.fix, concat("", [group_key, ": genai "]))
	contains(v.fix, "trust boundary")
	contains(v.fix, "Exclusive")
}

# The fix names the group the namespace's other Ingresses already use.
test_ingress_next_to_a_group_is_told_to_join_it if {
	a := ingress("chatbot-ui", {}, {})
	b := ingress("rag-app", {group_key: "genai-public", scheme_key: "internet-facing"}, {})
	c := ingress("docs", {scheme_key: "internet-facing"}, {})
	inv := inventory([], [a, b, c])
	[v] := [v | some v in rule.violation with input as testing.review(c) with data.inventory as inv]
	contains(v.fix, concat("", [group_key, ": genai-public "]))

	# a: the only internal Ingress, cannot share an ALB with internet-facing ones
	rule.applies with input as testing.review(a) with data.inventory as inv
	count(rule.violation) == 0 with input as testing.review(a) with data.inventory as inv
}

# Edge case: a group is a trust boundary; explicit groups (even two) are left alone.
test_grouped_ingresses_pass if {
	a := ingress("chatbot-ui", {group_key: "genai-public"}, {})
	b := ingress("rag-app", {group_key: "genai-public"}, {})
	c := ingress("admin", {group_key: "genai-admin"}, {})
	inv := inventory([], [a, b, c])
	every ing in [a, b, c] {
		rule.applies with input as testing.review(ing) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(ing) with data.inventory as inv
	}
}

test_single_ingress_passes if {
	a := ingress("chatbot-ui", {}, {})
	rule.applies with input as testing.review(a) with data.inventory as inventory([], [a])
	count(rule.violation) == 0 with input as testing.review(a) with data.inventory as inventory([], [a])
}

# IngressClassParams spec.group.name groups every Ingress of the class.
test_class_params_group if {
	grouped_class := {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "alb-shared"}, "spec": {
		"controller": "ingress.k8s.aws/alb",
		"parameters": {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": "shared"},
	}}
	params := {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": "shared"}, "spec": {"group": {"name": "shared"}}}
	a := ingress("chatbot-ui", {}, {"ingressClassName": "alb-shared"})
	b := ingress("rag-app", {}, {"ingressClassName": "alb-shared"})
	inv := object.union(inventory([], [a, b]), {"cluster": {
		"IngressClass": {"alb": alb_class, "alb-shared": grouped_class},
		"IngressClassParams": {"shared": params},
	}})
	count(rule.violation) == 0 with input as testing.review(a) with data.inventory as inv
}

test_other_ingress_controllers_do_not_count if {
	a := ingress("chatbot-ui", {}, {})
	nginx := ingress("grafana", {}, {"ingressClassName": "nginx"})
	legacy_nginx := ingress("legacy", {"kubernetes.io/ingress.class": "nginx"}, {"ingressClassName": null})
	inv := inventory([], [a, nginx, legacy_nginx])
	count(rule.violation) == 0 with input as testing.review(a) with data.inventory as inv
	not rule.applies with input as testing.review(nginx) with data.inventory as inv
	not rule.applies with input as testing.review(legacy_nginx) with data.inventory as inv
}

# The deprecated annotation kubernetes.io/ingress.class: alb is LBC's too.
test_legacy_alb_annotation_counts if {
	a := ingress("chatbot-ui", {}, {})
	legacy := ingress("legacy", {"kubernetes.io/ingress.class": "alb"}, {"ingressClassName": null})
	[v] := [v | some v in rule.violation with input as testing.review(legacy) with data.inventory as inventory([], [a, legacy])]
	contains(v.msg, "chatbot-ui")
}

# Audit-only: the finding is an audit on UPDATE too.
test_update_is_audited if {
	a := ingress("chatbot-ui", {}, {})
	b := ingress("rag-app", {}, {})
	[v] := [v | some v in rule.violation with input as testing.review_update(a, a) with data.inventory as inventory([], [a, b])]
	v.action == "audit"
}
