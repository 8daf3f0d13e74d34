package kgate.rules.network.lb_scheme_internal_by_default_test

import data.kgate.lib.testing
import data.kgate.rules.network.lb_scheme_internal_by_default as rule

scheme_key := "service.beta.kubernetes.io/aws-load-balancer-scheme"

scheme_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-scheme"

internal_key := "service.beta.kubernetes.io/aws-load-balancer-internal"

internal_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-internal"

alb_key := "alb.ingress.kubernetes.io/scheme"

alb_path := "/metadata/annotations/alb.ingress.kubernetes.io~1scheme"

allow_key := "kgate.dev/allow-scheme-change"

service(ns, annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "my-llama-public", "namespace": ns, "annotations": object.union({"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}, annotations)},
	"spec": object.union(
		{
			"type": "LoadBalancer",
			"loadBalancerClass": "service.k8s.aws/nlb",
			"selector": {"app.kubernetes.io/name": "my-llama-finetuned"},
			"ports": [{"port": 80, "targetPort": 8080}],
		},
		spec,
	),
}

public_svc := service("genai", {scheme_key: "internet-facing"}, {})

internal_svc := service("genai", {scheme_key: "internal"}, {})

default_svc := service("genai", {}, {})

findings(inp) := {[v.action, v.path] | some v in rule.violation with input as inp}

test_internet_facing_nlb_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(public_svc)]
	v.action == "deny"
	v.path == scheme_path
	contains(v.msg, `namespace "genai"`)
	contains(v.fix, "loadBalancerSourceRanges")
}

test_internal_nlbs_pass if {
	every svc in [internal_svc, default_svc, service("genai", {internal_key: "true"}, {}), service("genai", {"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, {"loadBalancerClass": null})] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

test_public_namespaces_may_be_internet_facing if {
	svc := service("ingress-nginx", {scheme_key: "internet-facing"}, {})
	rule.applies with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review_with(public_svc, {"publicNamespaces": ["genai"]})
}

# The deprecated aws-load-balancer-internal; aws-load-balancer-scheme wins on ties.
test_deprecated_internal_annotation if {
	findings(testing.review(service("genai", {internal_key: "false"}, {}))) == {["deny", internal_path]}
	count(rule.violation) == 0 with input as testing.review(service("genai", {internal_key: "false", scheme_key: "internal"}, {}))
	findings(testing.review(service("genai", {internal_key: "true", scheme_key: "internet-facing"}, {}))) == {["deny", scheme_path]}
}

test_invalid_values_are_denied if {
	findings(testing.review(service("genai", {scheme_key: "public"}, {}))) == {["deny", scheme_path]}
	findings(testing.review(service("genai", {internal_key: "yes"}, {}))) == {["deny", internal_path]}

	# already stored: warned on UPDATE
	bad := service("genai", {scheme_key: "Internal"}, {})
	findings(testing.review_update(bad, bad)) == {["warn", scheme_path]}
}

# New class-less Services get LBC's class (its webhook or NET-002), so LBC's default applies.
test_new_classless_service_is_judged_as_lbc if {
	svc := json.patch(default_svc, [{"op": "remove", "path": "/spec/loadBalancerClass"}])
	count(rule.violation) == 0 with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review_with(svc, {"lbcServiceMutatorWebhook": false})
}

# Edge: the legacy cloud provider creates internet-facing load balancers unless
# annotated aws-load-balancer-internal, and ignores aws-load-balancer-scheme.
test_legacy_cloud_provider_defaults_to_internet_facing if {
	no_lbc := {"lbcInstalled": false, "lbcServiceMutatorWebhook": false}
	legacy := json.patch(service("genai", {scheme_key: "internal"}, {}), [{"op": "remove", "path": "/spec/loadBalancerClass"}])
	[v] := [v | some v in rule.violation with input as testing.review_with(legacy, no_lbc)]
	v.action == "deny"
	contains(v.msg, "legacy cloud provider")
	contains(v.fix, internal_key)
	every value in ["true", "0.0.0.0/0"] {
		ok := json.patch(legacy, [{"op": "add", "path": internal_path, "value": value}])
		count(rule.violation) == 0 with input as testing.review_with(ok, no_lbc)
	}

	# an existing class-less Service is the legacy provider's: warned when already public
	[w] := [v | some v in rule.violation with input as testing.review_update(legacy, legacy)]
	w.action == "warn"

	# ... and denied when an UPDATE makes it public
	internal := json.patch(legacy, [{"op": "add", "path": internal_path, "value": "true"}])
	findings(testing.review_update(legacy, internal)) == {["deny", "/metadata/annotations"]}
}

# Edge: the allowlist, not source ranges, decides; the fix points at source ranges.
test_source_ranges_do_not_replace_the_allowlist if {
	svc := service("genai", {scheme_key: "internet-facing"}, {"loadBalancerSourceRanges": ["203.0.113.0/24"]})
	findings(testing.review(svc)) == {["deny", scheme_path]}
}

test_other_classes_and_types_not_in_scope if {
	every svc in [
		service("genai", {scheme_key: "internet-facing"}, {"loadBalancerClass": "metallb.universe.tf/metallb"}),
		service("genai", {scheme_key: "internet-facing"}, {"type": "ClusterIP", "loadBalancerClass": null}),
		service("kube-system", {scheme_key: "internet-facing"}, {}),
	] {
		not rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

# On UPDATE an absent annotation keeps the NLB's scheme; keeping a public NLB is warned.
test_update_keeping_internet_facing_is_warned if {
	findings(testing.review_update(public_svc, public_svc)) == {["warn", scheme_path]}
	findings(testing.review_update(default_svc, public_svc)) == {["warn", "/metadata/annotations"]}
}

test_scheme_change_is_denied if {
	# internal -> internet-facing: public and replaced
	vs := [v | some v in rule.violation with input as testing.review_update(public_svc, internal_svc)]
	count(vs) == 2
	every v in vs {
		v.action == "deny"
	}

	# internet-facing -> internal: replaced (new DNS name)
	[v] := [v | some v in rule.violation with input as testing.review_update(internal_svc, public_svc)]
	v.action == "deny"
	contains(v.msg, "from internet-facing to internal")
	contains(v.fix, allow_key)

	# the old default (internal) to an explicit internal is no change
	count(rule.violation) == 0 with input as testing.review_update(internal_svc, default_svc)
}

test_allowed_scheme_change if {
	allowed := service("genai", {scheme_key: "internal", allow_key: "true"}, {})
	count(rule.violation) == 0 with input as testing.review_update(allowed, public_svc)
	custom := service("genai", {scheme_key: "internal", "example.com/replace-lb": "true"}, {})
	count(rule.violation) == 0 with input as testing.review_update(custom, public_svc) with input.params.allowSchemeChangeAnnotation as "example.com/replace-lb"

	# the annotation does not allow a public load balancer outside publicNamespaces
	public_allowed := service("genai", {scheme_key: "internet-facing", allow_key: "true"}, {})
	findings(testing.review_update(public_allowed, internal_svc)) == {["deny", scheme_path]}
}

# An UPDATE that makes a Service a load balancer creates it: no scheme change.
test_update_creating_the_load_balancer if {
	old := service("genai", {}, {"type": "ClusterIP", "loadBalancerClass": null})
	count(rule.violation) == 0 with input as testing.review_update(internal_svc, old)
	findings(testing.review_update(public_svc, old)) == {["deny", scheme_path]}
}

# --- Ingresses ---

ingress(ns, annotations, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "genai", "namespace": ns, "annotations": annotations},
	"spec": object.union(
		{
			"ingressClassName": "alb",
			"rules": [{"http": {"paths": [{"path": "/chat", "pathType": "Prefix", "backend": {"service": {"name": "chatbot-ui", "port": {"number": 80}}}}]}}],
		},
		spec,
	),
}

ingress_class(name, controller, extra) := object.union(
	{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": name}, "spec": {"controller": controller}},
	extra,
)

inv := {"cluster": {"IngressClass": {
	"alb": ingress_class("alb", "ingress.k8s.aws/alb", {}),
	"nginx": ingress_class("nginx", "k8s.io/ingress-nginx", {}),
}}}

with_params(scheme) := {"cluster": {
	"IngressClass": {"alb": ingress_class("alb", "ingress.k8s.aws/alb", {"spec": {"parameters": {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": "genai"}}})},
	"IngressClassParams": {"genai": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": "genai"}, "spec": {"scheme": scheme}}},
}}

test_internet_facing_alb_is_denied if {
	ing := ingress("genai", {alb_key: "internet-facing"}, {})
	[v] := [v | some v in rule.violation with input as testing.review(ing) with data.inventory as inv]
	v.action == "deny"
	v.path == alb_path
	contains(v.msg, "ALB")
	every ok in [ingress("genai", {}, {}), ingress("genai", {alb_key: "internal"}, {})] {
		rule.applies with input as testing.review(ok) with data.inventory as inv
		count(rule.violation) == 0 with input as testing.review(ok) with data.inventory as inv
	}
	count(rule.violation) == 0 with input as testing.review(ingress("ingress-nginx", {alb_key: "internet-facing"}, {})) with data.inventory as inv
}

# IngressClassParams spec.scheme overrides the annotation.
test_ingress_class_params_scheme if {
	count(rule.violation) == 0 with input as testing.review(ingress("genai", {alb_key: "internet-facing"}, {})) with data.inventory as with_params("internal")
	[v] := [v | some v in rule.violation with input as testing.review(ingress("genai", {alb_key: "internal"}, {})) with data.inventory as with_params("internet-facing")]
	v.path == "/spec/ingressClassName"
	contains(v.fix, "IngressClassParams genai")
}

test_ingress_scheme_change if {
	old := ingress("genai", {}, {})
	[v] := [v | some v in rule.violation with input as testing.review_update(ingress("genai", {alb_key: "internet-facing"}, {}), old) with data.inventory as inv; contains(v.msg, "changes")]
	v.action == "deny"
	public := ingress("genai", {alb_key: "internet-facing"}, {})
	findings(testing.review_update(public, public)) == {["warn", alb_path]} with data.inventory as inv

	# removing the annotation of an ALB makes it internal: a replacement
	[w] := [v | some v in rule.violation with input as testing.review_update(old, public) with data.inventory as inv]
	contains(w.msg, "from internet-facing to internal")
	count(rule.violation) == 0 with input as testing.review_update(ingress("genai", {allow_key: "true"}, {}), public) with data.inventory as inv
	findings(testing.review(ingress("genai", {alb_key: "public"}, {}))) == {["deny", alb_path]} with data.inventory as inv
}

test_other_ingress_controllers_not_in_scope if {
	ing := ingress("genai", {alb_key: "internet-facing"}, {"ingressClassName": "nginx"})
	not rule.applies with input as testing.review(ing) with data.inventory as inv
	count(rule.violation) == 0 with input as testing.review(ing) with data.inventory as inv
}
