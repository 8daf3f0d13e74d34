package kgate.rules.network.lb_controller_ownership_test

import data.kgate.lib.testing
import data.kgate.rules.network.lb_controller_ownership as rule

type_key := "service.beta.kubernetes.io/aws-load-balancer-type"

type_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-type"

service(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "rag-public", "namespace": "genai", "annotations": annotations},
	"spec": object.union(
		{
			"type": "LoadBalancer",
			"selector": {"app.kubernetes.io/name": "rag-app"},
			"ports": [{"port": 443, "targetPort": 8443, "protocol": "TCP"}],
		},
		spec,
	),
}

nlb_class := {"loadBalancerClass": "service.k8s.aws/nlb"}

plain := service({}, {})

no_webhook := {"lbcServiceMutatorWebhook": false}

class_op := {"op": "add", "path": "/spec/loadBalancerClass", "value": "service.k8s.aws/nlb"}

actions(inp) := [v.action | some v in rule.violation with input as inp]

# (a) LBC's webhook is off: a new class-less Service would go to the legacy provider.
test_legacy_service_gets_class_without_lbc_webhook if {
	every svc in [plain, service({type_key: "nlb"}, {}), service({type_key: "clb"}, {})] {
		[v] := [v | some v in rule.violation with input as testing.review_with(svc, no_webhook)]
		v.action == "mutate"
		v.path == "/spec/loadBalancerClass"
		contains(v.msg, `"rag-public"`)
		contains(v.fix, "service.k8s.aws/nlb")
		rule.patch == {class_op} with input as testing.review_with(svc, no_webhook)
	}
	[v] := [v | some v in rule.violation with input as testing.review_with(service({type_key: "nlb"}, {}), no_webhook)]
	contains(v.msg, "instance-mode NLB")
}

test_patched_service_passes if {
	every svc in [plain, service({type_key: "nlb"}, {})] {
		patched := testing.apply(svc, [op | some op in rule.patch with input as testing.review_with(svc, no_webhook)])
		patched.spec.loadBalancerClass == "service.k8s.aws/nlb"
		rule.applies with input as testing.review_with(patched, no_webhook)
		count(rule.violation) == 0 with input as testing.review_with(patched, no_webhook)
		count(rule.patch) == 0 with input as testing.review_with(patched, no_webhook)
	}
}

# LBC >= 2.5: its webhook gives every new class-less LoadBalancer Service its class.
test_lbc_webhook_sets_the_class if {
	every svc in [plain, service({type_key: "nlb"}, {})] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
		count(rule.patch) == 0 with input as testing.review(svc)
	}
}

test_lbc_services_pass if {
	every svc in [
		service({}, nlb_class),
		service({type_key: "external"}, {}),
		service({type_key: "external", "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"}, nlb_class),
	] {
		every params in [{}, no_webhook] {
			rule.applies with input as testing.review_with(svc, params)
			count(rule.violation) == 0 with input as testing.review_with(svc, params)
		}
	}
}

# Without LBC there is nothing to hand the Service to: warn, do not patch.
test_without_lbc_warns if {
	params := {"lbcServiceMutatorWebhook": false, "lbcInstalled": false}
	["warn"] == actions(testing.review_with(plain, params))
	count(rule.patch) == 0 with input as testing.review_with(plain, params)

	# an empty class list behaves the same
	["warn"] == actions(testing.review_with(plain, {"lbcServiceMutatorWebhook": false, "lbcLoadBalancerClasses": []}))
}

# Edge: a class set by LBC's webhook (before or after ours) or by the user is final.
test_existing_class_is_final if {
	svc := service({}, {"loadBalancerClass": "service.k8s.aws/nlb"})
	count(rule.patch) == 0 with input as testing.review_with(svc, no_webhook)
	count(rule.violation) == 0 with input as testing.review_update(svc, svc)
}

# Edge: EKS Auto Mode's default class counts once configured; other classes are out of scope.
test_auto_mode_and_other_classes if {
	auto := service({}, {"loadBalancerClass": "eks.amazonaws.com/nlb"})
	not rule.applies with input as testing.review_with(auto, no_webhook)
	params := {"lbcServiceMutatorWebhook": false, "lbcLoadBalancerClasses": ["eks.amazonaws.com/nlb", "service.k8s.aws/nlb"]}
	rule.applies with input as testing.review_with(auto, params)
	count(rule.violation) == 0 with input as testing.review_with(auto, params)
	rule.patch == {{"op": "add", "path": "/spec/loadBalancerClass", "value": "eks.amazonaws.com/nlb"}} with input as testing.review_with(plain, params)
	every svc in [service({}, {"loadBalancerClass": "metallb.universe.tf/metallb"}), service({}, {"type": "ClusterIP"}), service({type_key: "external"}, {"type": "NodePort"})] {
		not rule.applies with input as testing.review_with(svc, no_webhook)
		count(rule.violation) == 0 with input as testing.review_with(svc, no_webhook)
	}
}

test_exempt_namespace_not_in_scope if {
	svc := json.patch(plain, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review_with(svc, no_webhook)
}

# LBC's webhook acts on CREATE only: an UPDATE that turns a ClusterIP Service into a
# LoadBalancer gets no class from it, so we set it (still allowed at this point).
test_update_to_load_balancer_gets_class if {
	old := service({}, {"type": "ClusterIP"})
	["mutate"] == actions(testing.review_update(plain, old))
	rule.patch == {class_op} with input as testing.review_update(plain, old)
}

# An existing legacy load balancer cannot get a class any more: warn only.
test_existing_legacy_service_is_warned if {
	[v] := [v | some v in rule.violation with input as testing.review_update(plain, plain)]
	v.action == "warn"
	contains(v.fix, "delete the Service and create it again")
	count(rule.patch) == 0 with input as testing.review_update(plain, plain)
}

# LBC's webhook keeps the stored class when an UPDATE omits it.
test_update_omitting_class_is_not_legacy if {
	count(rule.violation) == 0 with input as testing.review_update(plain, service({}, nlb_class))
}

# (b) adding, changing or removing aws-load-balancer-type on an existing Service.
test_type_annotation_change_is_denied if {
	every pair in [
		# the catalog's example: nlb at creation, external now
		[service({type_key: "external"}, {}), service({type_key: "nlb"}, {})],
		# added
		[service({type_key: "external"}, nlb_class), service({}, nlb_class)],
		# removed
		[service({}, nlb_class), service({type_key: "external"}, nlb_class)],
	] {
		vs := [v | some v in rule.violation with input as testing.review_update(pair[0], pair[1]); v.action == "deny"]
		count(vs) == 1
		contains(vs[0].msg, type_key)
		contains(vs[0].fix, "delete the Service and create it again")
	}
	[v] := [v | some v in rule.violation with input as testing.review_update(service({type_key: "external"}, {}), service({type_key: "nlb"}, {})); v.action == "deny"]
	v.path == type_path
	[w] := [v | some v in rule.violation with input as testing.review_update(service({}, nlb_class), service({type_key: "external"}, nlb_class)); v.action == "deny"]
	w.path == "/metadata/annotations"
}

test_unchanged_type_annotation_passes if {
	svc := service({type_key: "external"}, {})
	count(rule.violation) == 0 with input as testing.review_update(svc, svc)
	changed := service({type_key: "external", "team": "rag"}, {})
	count(rule.violation) == 0 with input as testing.review_update(changed, svc)
}

# Setting the annotation while the Service becomes a LoadBalancer is a creation.
test_type_annotation_with_new_load_balancer_passes if {
	count(rule.violation) == 0 with input as testing.review_update(service({type_key: "external"}, {}), service({}, {"type": "ClusterIP"}))
}

# (c) the deprecated nlb-ip type: warned on CREATE, audited on UPDATE.
test_nlb_ip_is_deprecated if {
	svc := service({type_key: "nlb-ip"}, {})
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "warn"
	v.path == type_path
	contains(v.fix, "external")
	count(rule.patch) == 0 with input as testing.review(svc)
	["audit"] == actions(testing.review_update(svc, svc))
}

# Edge: changing type away from LoadBalancer makes the controller delete the NLB.
test_type_change_away_from_load_balancer_is_warned if {
	old := service({type_key: "external"}, {})
	svc := service({type_key: "external"}, {"type": "ClusterIP"})
	rule.applies with input as testing.review_update(svc, old)
	[v] := [v | some v in rule.violation with input as testing.review_update(svc, old)]
	v.action == "warn"
	v.path == "/spec/type"
	contains(v.msg, "ClusterIP")
	not rule.applies with input as testing.review(svc)
}
