package kgate.rules.network.alb_ip_target_type_test

import data.kgate.lib.testing
import data.kgate.rules.network.alb_ip_target_type as rule

target_key := "alb.ingress.kubernetes.io/target-type"

target_path := "/metadata/annotations/alb.ingress.kubernetes.io~1target-type"

ingress(annotations, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "genai", "namespace": "genai", "annotations": annotations},
	"spec": object.union(
		{
			"ingressClassName": "alb",
			"rules": [{"http": {"paths": [
				{"path": "/chat", "pathType": "Prefix", "backend": {"service": {"name": "chatbot-ui", "port": {"number": 80}}}},
				{"path": "/rag", "pathType": "Prefix", "backend": {"service": {"name": "rag-app", "port": {"number": 80}}}},
			]}}],
		},
		spec,
	),
}

plain := ingress({"alb.ingress.kubernetes.io/scheme": "internal"}, {})

ingress_class(name, controller, extra) := object.union(
	{
		"apiVersion": "networking.k8s.io/v1",
		"kind": "IngressClass",
		"metadata": {"name": name},
		"spec": {"controller": controller},
	},
	extra,
)

alb_class := ingress_class("alb", "ingress.k8s.aws/alb", {})

inv := {"cluster": {"IngressClass": {"alb": alb_class, "nginx": ingress_class("nginx", "k8s.io/ingress-nginx", {})}}}

backend_service(name, annotations) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": name, "namespace": "genai", "annotations": annotations},
	"spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
}

with_params(target_type) := {"cluster": {
	"IngressClass": {"alb": ingress_class("alb", "ingress.k8s.aws/alb", {"spec": {"parameters": {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": "genai"}}})},
	"IngressClassParams": {"genai": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": "genai"}, "spec": {"targetType": target_type}}},
}}

with_services(annotations) := object.union(inv, {"namespace": {"genai": {"Service": {
	"chatbot-ui": backend_service("chatbot-ui", annotations),
	"rag-app": backend_service("rag-app", annotations),
}}}})

test_instance_default_gets_ip if {
	[v] := [v | some v in rule.violation with input as testing.review(plain) with data.inventory as inv]
	v.action == "mutate"
	v.path == "/metadata/annotations"
	contains(v.msg, `"genai"`)
	v.fix == concat("", ["add annotation ", target_key, ": ip"])
	rule.patch == {{"op": "add", "path": target_path, "value": "ip"}} with input as testing.review(plain) with data.inventory as inv
}

test_explicit_instance_gets_ip if {
	ing := ingress({target_key: "instance"}, {})
	[v] := [v | some v in rule.violation with input as testing.review(ing) with data.inventory as inv]
	v.path == target_path
	rule.patch == {{"op": "add", "path": target_path, "value": "ip"}} with input as testing.review(ing) with data.inventory as inv
}

test_patched_ingresses_pass if {
	every ing in [plain, ingress({target_key: "instance"}, {}), json.patch(plain, [{"op": "remove", "path": "/metadata/annotations"}])] {
		patched := testing.apply(ing, [op | some op in rule.patch with input as testing.review(ing) with data.inventory as inv])
		patched.metadata.annotations[target_key] == "ip"
		rule.applies with input as testing.review(patched) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(patched) with data.inventory as inv
		count(rule.patch) == 0 with input as testing.review(patched) with data.inventory as inv
	}
}

test_ip_target_passes if {
	ing := ingress({target_key: "ip"}, {})
	rule.applies with input as testing.review(ing) with data.inventory as inv
	count(rule.violation) == 0 with input as testing.review(ing) with data.inventory as inv
}

test_other_controllers_not_in_scope if {
	every ing in [
		ingress({}, {"ingressClassName": "nginx"}),
		json.patch(ingress({"kubernetes.io/ingress.class": "nginx"}, {}), [{"op": "remove", "path": "/spec/ingressClassName"}]),
		# no class and no default class
		json.patch(plain, [{"op": "remove", "path": "/spec/ingressClassName"}]),
	] {
		not rule.applies with input as testing.review(ing) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(ing) with data.inventory as inv
	}
}

# A class that is not in the inventory is taken as LBC's (edge: admission cannot tell).
test_unknown_class_is_taken_as_lbc if {
	ing := ingress({}, {"ingressClassName": "alb-internal"})
	count(rule.violation) == 1 with input as testing.review(ing) with data.inventory as inv
	count(rule.violation) == 1 with input as testing.review(plain) with data.inventory as {}
}

test_deprecated_class_annotation if {
	ing := json.patch(ingress({"kubernetes.io/ingress.class": "alb"}, {}), [{"op": "remove", "path": "/spec/ingressClassName"}])
	[v] := [v | some v in rule.violation with input as testing.review(ing) with data.inventory as inv]
	v.action == "mutate"
}

# The DefaultIngressClass admission plugin gives class-less Ingresses the default class.
test_default_class if {
	ing := json.patch(plain, [{"op": "remove", "path": "/spec/ingressClassName"}])
	default_alb := ingress_class("alb", "ingress.k8s.aws/alb", {"metadata": {"annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}})
	default_nginx := ingress_class("nginx", "k8s.io/ingress-nginx", {"metadata": {"annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}})
	count(rule.violation) == 1 with input as testing.review(ing) with data.inventory as {"cluster": {"IngressClass": {"alb": default_alb}}}
	not rule.applies with input as testing.review(ing) with data.inventory as {"cluster": {"IngressClass": {"alb": alb_class, "nginx": default_nginx}}}
}

test_exempt_namespace_not_in_scope if {
	ing := json.patch(plain, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(ing) with data.inventory as inv
}

# IngressClassParams spec.targetType overrides every annotation.
test_ingress_class_params if {
	count(rule.violation) == 0 with input as testing.review(plain) with data.inventory as with_params("ip")
	[v] := [v | some v in rule.violation with input as testing.review(ingress({target_key: "ip"}, {})) with data.inventory as with_params("instance")]
	v.action == "warn"
	v.path == "/spec/ingressClassName"
	contains(v.fix, "IngressClassParams genai")
	count(rule.patch) == 0 with input as testing.review(plain) with data.inventory as with_params("instance")
}

# A backend Service's own annotation wins over the Ingress's.
test_backend_service_annotations if {
	count(rule.violation) == 0 with input as testing.review(plain) with data.inventory as with_services({target_key: "ip"})
	vs := [v | some v in rule.violation with input as testing.review(ingress({target_key: "ip"}, {})) with data.inventory as with_services({target_key: "instance"})]
	count(vs) == 2
	every v in vs {
		v.action == "warn"
		startswith(v.path, "/spec/rules/0/http/paths/")
		contains(v.fix, "on Service")
	}
	count(rule.patch) == 0 with input as testing.review(ingress({target_key: "ip"}, {})) with data.inventory as with_services({target_key: "instance"})
}

test_update_is_warned if {
	[v] := [v | some v in rule.violation with input as testing.review_update(plain, plain) with data.inventory as inv]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review_update(plain, plain) with data.inventory as inv
}

# LBC run with --default-target-type=ip: no annotation means ip.
test_cluster_default_target_type_ip if {
	params := {"lbcDefaultTargetType": "ip"}
	count(rule.violation) == 0 with input as testing.review_with(plain, params) with data.inventory as inv
	count(rule.violation) == 1 with input as testing.review_with(ingress({target_key: "instance"}, {}), params) with data.inventory as inv
}

test_default_backend if {
	ing := json.patch(plain, [
		{"op": "remove", "path": "/spec/rules"},
		{"op": "add", "path": "/spec/defaultBackend", "value": {"service": {"name": "chatbot-ui", "port": {"number": 80}}}},
	])
	count(rule.violation) == 1 with input as testing.review(ing) with data.inventory as inv
	count(rule.violation) == 0 with input as testing.review(ing) with data.inventory as with_services({target_key: "ip"})
	both := ingress({target_key: "ip"}, {"defaultBackend": {"service": {"name": "chatbot-ui", "port": {"number": 80}}}})
	vs := rule.violation with input as testing.review(both) with data.inventory as with_services({target_key: "instance"})
	[v] := [v | some v in vs; v.path == "/spec/defaultBackend"]
	v.action == "warn"
	count(vs) == 3
}
