package kgate.rules.network.nlb_ip_target_type_test

import data.kgate.lib.testing
import data.kgate.rules.network.nlb_ip_target_type as rule

target_key := "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"

target_path := "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-nlb-target-type"

service(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "my-llama-svc", "namespace": "genai", "annotations": annotations},
	"spec": object.union(
		{
			"type": "LoadBalancer",
			"selector": {"app.kubernetes.io/name": "my-llama-finetuned"},
			"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
		},
		spec,
	),
}

# The chapter's example: LBC through aws-load-balancer-type external, no target type.
external := service({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, {})

nlb_class := {"loadBalancerClass": "service.k8s.aws/nlb"}

test_external_without_target_type_gets_ip if {
	[v] := [v | some v in rule.violation with input as testing.review(external)]
	v.action == "mutate"
	v.path == "/metadata/annotations"
	contains(v.msg, `"my-llama-svc"`)
	contains(v.msg, "instance")
	v.fix == concat("", ["add annotation ", target_key, ": ip"])
	rule.patch == {{"op": "add", "path": target_path, "value": "ip"}} with input as testing.review(external)
}

test_lbc_class_with_instance_target_gets_ip if {
	svc := service({target_key: "instance"}, nlb_class)
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "mutate"
	v.path == target_path
	rule.patch == {{"op": "add", "path": target_path, "value": "ip"}} with input as testing.review(svc)
}

# LBC >= 2.5 sets the class of a LoadBalancer Service without class or type annotation.
test_webhook_defaulted_service_is_in_scope if {
	svc := json.patch(service({}, {}), [{"op": "remove", "path": "/metadata/annotations"}])
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.path == "/metadata"
	not rule.applies with input as testing.review_with(svc, {"lbcServiceMutatorWebhook": false})
}

test_patched_services_pass if {
	every svc in [
		external,
		service({target_key: "instance"}, nlb_class),
		json.patch(service({}, {}), [{"op": "remove", "path": "/metadata/annotations"}]),
	] {
		patched := testing.apply(svc, [op | some op in rule.patch with input as testing.review(svc)])
		patched.metadata.annotations[target_key] == "ip"
		rule.applies with input as testing.review(patched)
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

test_ip_targets_pass if {
	every svc in [
		service({target_key: "ip"}, nlb_class),
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "external", target_key: "ip"}, {}),
		# the deprecated nlb-ip type always means ip targets
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip"}, {}),
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip", target_key: "instance"}, {}),
	] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

test_services_lbc_does_not_manage_are_not_in_scope if {
	every svc in [
		# legacy cloud provider
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}, {}),
		# another load balancer implementation
		service({}, {"loadBalancerClass": "metallb.universe.tf/metallb"}),
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, {"loadBalancerClass": "io.cilium/bgp-control-plane"}),
		# no load balancer
		service({}, {"type": "ClusterIP"}),
		service({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}, {"type": "NodePort"}),
	] {
		not rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

test_exempt_namespace_not_in_scope if {
	svc := json.patch(external, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(svc)
}

# Overlay CNIs: Pod IPs are not VPC-routable, ip targets cannot work.
test_skipped_without_vpc_routable_pod_ips if {
	not rule.applies with input as testing.review_with(external, {"lbcCniSupportsIpTargets": false})
	count(rule.violation) == 0 with input as testing.review_with(external, {"lbcCniSupportsIpTargets": false})
}

# Auto Mode's class counts once configured.
test_configured_load_balancer_classes if {
	svc := service({}, {"loadBalancerClass": "eks.amazonaws.com/nlb"})
	not rule.applies with input as testing.review(svc)
	count(rule.violation) == 1 with input as testing.review_with(svc, {"lbcLoadBalancerClasses": ["service.k8s.aws/nlb", "eks.amazonaws.com/nlb"]})
}

# Changing the target type of an existing NLB replaces its target group: warn only.
test_update_of_existing_load_balancer_is_warned if {
	every pair in [
		[external, external],
		[service({target_key: "instance"}, nlb_class), service({target_key: "ip"}, nlb_class)],
		# LBC's webhook keeps the class when an UPDATE omits it
		[service({target_key: "instance"}, {}), service({target_key: "instance"}, nlb_class)],
	] {
		[v] := [v | some v in rule.violation with input as testing.review_update(pair[0], pair[1])]
		v.action == "warn"
		contains(v.fix, "maintenance window")
		count(rule.patch) == 0 with input as testing.review_update(pair[0], pair[1])
	}
}

# An UPDATE that turns a ClusterIP Service into an LBC load balancer creates the NLB.
test_update_creating_the_load_balancer_is_mutated if {
	old := service({}, {"type": "ClusterIP"})
	[v] := [v | some v in rule.violation with input as testing.review_update(external, old)]
	v.action == "mutate"
	count(rule.patch) == 1 with input as testing.review_update(external, old)
}

# LBC's webhook sets the class on CREATE only: a Service still without one is legacy.
test_update_without_class_or_type_is_not_in_scope if {
	svc := service({}, {})
	not rule.applies with input as testing.review_update(svc, svc)
}

test_disable_node_ports_for_ip if {
	params := {"disableNodePortsForIp": true}
	ops := {
		{"op": "add", "path": target_path, "value": "ip"},
		{"op": "add", "path": "/spec/allocateLoadBalancerNodePorts", "value": false},
	}
	rule.patch == ops with input as testing.review_with(external, params)
	patched := testing.apply(external, [op | some op in ops])
	count(rule.violation) == 0 with input as testing.review_with(patched, params)
	count(rule.patch) == 0 with input as testing.review_with(patched, params)
}

# LBC run with --default-target-type=ip: no annotation means ip.
test_cluster_default_target_type_ip if {
	params := {"lbcDefaultTargetType": "ip"}
	rule.applies with input as testing.review_with(external, params)
	count(rule.violation) == 0 with input as testing.review_with(external, params)
	count(rule.violation) == 1 with input as testing.review_with(service({target_key: "instance"}, nlb_class), params)
}
