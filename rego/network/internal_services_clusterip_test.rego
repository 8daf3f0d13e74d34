package kgate.rules.network.internal_services_clusterip_test

import data.kgate.lib.testing
import data.kgate.rules.network.internal_services_clusterip as rule

service(name, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": name, "namespace": "genai"},
	"spec": object.union(
		{
			"selector": {"app.kubernetes.io/name": name},
			"ports": [{"name": "http", "port": 6333, "targetPort": 6333, "protocol": "TCP"}],
		},
		spec,
	),
}

lb := {"type": "LoadBalancer"}

# The catalog's bad example.
qdrant_lb := service("qdrant", lb)

test_internal_component_behind_load_balancer_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(qdrant_lb)]
	v.action == "deny"
	v.path == "/spec/type"
	contains(v.msg, `"qdrant"`)
	contains(v.msg, "own load balancer")
	contains(v.fix, "ClusterIP")
	contains(v.fix, "qdrant.genai.svc")
}

test_every_default_internal_component_is_denied if {
	every name in ["qdrant", "rag-app", "my-llama-finetuned"] {
		every spec in [lb, {"type": "NodePort"}, {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb"}] {
			[v] := [v | some v in rule.violation with input as testing.review(service(name, spec))]
			v.action == "deny"
		}
	}
}

# The selector decides, whatever the Service is called; the app label counts too.
test_selector_names_the_component if {
	svc := json.patch(service("vectors-public", lb), [{"op": "replace", "path": "/spec/selector", "value": {"app": "qdrant", "tier": "db"}}])
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "deny"
	contains(v.msg, "qdrant")
}

test_internal_node_port_is_denied if {
	svc := service("rag-app", {"type": "NodePort"})
	[v] := [v | some v in rule.violation with input as testing.review(svc)]
	v.action == "deny"
	contains(v.msg, "a port on every node")
}

# Edge case: LoadBalancer Services also allocate NodePorts unless told not to.
test_message_names_node_ports_of_load_balancers if {
	[v] := [v | some v in rule.violation with input as testing.review(qdrant_lb)]
	contains(v.msg, "NodePort on every node")
	svc := service("qdrant", {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false})
	[w] := [w | some w in rule.violation with input as testing.review(svc)]
	not contains(w.msg, "NodePort")
}

test_cluster_ip_passes if {
	every svc in [
		service("qdrant", {"type": "ClusterIP", "trafficDistribution": "PreferSameZone"}),
		service("rag-app", {}),
		service("qdrant", {"clusterIP": "None"}),
	] {
		rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

# The user-facing entry point may have a load balancer.
test_public_entry_point_passes if {
	svc := service("chatbot-ui", {"type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb"})
	rule.applies with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review(svc)
}

# A selector that names a public entry point is not internal-only.
test_public_entry_point_wins if {
	svc := json.patch(qdrant_lb, [{"op": "add", "path": "/spec/selector/app", "value": "chatbot-ui"}])
	count(rule.violation) == 0 with input as testing.review(svc)
}

test_other_components_behind_load_balancers_pass if {
	svc := service("grafana", lb)
	rule.applies with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review(svc)
}

# Edge case: the chapter 3 demo exposed the model through an NLB directly; a demo
# cluster lists it as an entry point (or drops it from internalOnlyNames).
test_demo_exposing_the_model_is_configurable if {
	svc := service("my-llama-finetuned", lb)
	count(rule.violation) == 1 with input as testing.review(svc)
	count(rule.violation) == 0 with input as testing.review_with(svc, {"publicEntryPoints": ["chatbot-ui", "my-llama-finetuned"]})
	count(rule.violation) == 0 with input as testing.review_with(svc, {"internalOnlyNames": ["qdrant"]})
}

test_configured_label_keys if {
	svc := json.patch(service("x", lb), [{"op": "replace", "path": "/spec/selector", "value": {"component": "qdrant"}}])
	count(rule.violation) == 0 with input as testing.review(svc)
	count(rule.violation) == 1 with input as testing.review_with(svc, {"internalOnlyLabelKeys": ["component"]})
}

test_other_node_ports_are_warned if {
	every svc in [service("grafana", {"type": "NodePort"}), service("chatbot-ui", {"type": "NodePort"})] {
		[v] := [v | some v in rule.violation with input as testing.review(svc)]
		v.action == "warn"
		v.path == "/spec/type"
		contains(v.msg, "NodePort")
	}
}

# An UPDATE of a Service that already had a load balancer is warned: switching to
# ClusterIP deletes the load balancer, which clients may still use.
test_update_of_exposed_service_is_warned if {
	old := service("qdrant", lb)
	new := json.patch(old, [{"op": "add", "path": "/metadata/labels", "value": {"team": "rag"}}])
	[v] := [v | some v in rule.violation with input as testing.review_update(new, old)]
	v.action == "warn"
	contains(v.fix, "deletes it")
}

# An UPDATE that exposes the component is denied like a CREATE.
test_update_that_exposes_is_denied if {
	old := service("qdrant", {"type": "ClusterIP"})
	[v] := [v | some v in rule.violation with input as testing.review_update(qdrant_lb, old)]
	v.action == "deny"
}

test_out_of_scope if {
	every svc in [
		service("qdrant", {"type": "ExternalName", "externalName": "qdrant.example.com"}),
		# another load balancer implementation
		service("qdrant", {"type": "LoadBalancer", "loadBalancerClass": "metallb.universe.tf/metallb"}),
		json.patch(qdrant_lb, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(svc)
		count(rule.violation) == 0 with input as testing.review(svc)
	}
}

test_configured_class_is_in_scope if {
	svc := service("qdrant", {"type": "LoadBalancer", "loadBalancerClass": "eks.amazonaws.com/nlb"})
	not rule.applies with input as testing.review(svc)
	count(rule.violation) == 1 with input as testing.review_with(svc, {"lbcLoadBalancerClasses": ["service.k8s.aws/nlb", "eks.amazonaws.com/nlb"]})
}
