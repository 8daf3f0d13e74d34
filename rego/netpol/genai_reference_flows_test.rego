package kgate.rules.netpol.genai_reference_flows_test

import data.kgate.lib.testing
import data.kgate.rules.netpol.genai_reference_flows as rule

named(n) := {"matchLabels": {"app.kubernetes.io/name": n}}

from(n) := {"podSelector": named(n)}

tcp(port) := {"protocol": "TCP", "port": port}

policy(name, selector, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": name, "namespace": "genai"},
	"spec": object.union({"podSelector": selector, "policyTypes": ["Ingress"]}, spec),
}

ingress(rules) := {"ingress": rules}

# The chapter's three policies (the catalog's good example).
rag_policy := policy("rag-app-ingress-policy", named("rag-app"), ingress([{"from": [from("chatbot-ui")], "ports": [tcp(80)]}]))

llama_policy := policy("llama-ingress-policy", named("my-llama-finetuned"), ingress([{"from": [from("chatbot-ui")], "ports": [tcp(80)]}]))

qdrant_policy := policy("qdrant-ingress-policy", named("qdrant"), ingress([{"from": [from("rag-app")], "ports": [tcp(6333)]}]))

qdrant_with(rules) := policy("qdrant-ingress", named("qdrant"), ingress(rules))

findings(obj) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj) with data.inventory as {}
}

passes(obj) if {
	rule.applies with input as testing.review(obj) with data.inventory as {}
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as {}
}

not_in_scope(obj) if {
	not rule.applies with input as testing.review(obj) with data.inventory as {}
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as {}
}

# The catalog's bad example: chatbot-ui may not reach qdrant.
test_unexpected_source_is_denied if {
	[v] := findings(qdrant_with([{"from": [from("chatbot-ui")]}]))
	object.get(v, "action", "deny") == "deny"
	v.path == "/spec/ingress/0/from/0"
	contains(v.msg, `NetworkPolicy "qdrant-ingress" lets chatbot-ui reach qdrant`)
	contains(v.msg, "allowed flows to qdrant: from rag-app on TCP/6333")
}

test_reference_policies_pass if {
	every obj in [
		rag_policy, llama_policy, qdrant_policy,
		# protocol defaults to TCP
		qdrant_with([{"from": [from("rag-app")], "ports": [{"port": 6333}]}]),
		# the same namespace named explicitly
		qdrant_with([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "genai"}}, "podSelector": named("rag-app")}], "ports": [tcp(6333)]}]),
		# a default deny for qdrant alone
		qdrant_with([]),
		# one policy for both chatbot-ui targets
		policy("ui-backends", {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["rag-app", "my-llama-finetuned"]}]}, ingress([{"from": [from("chatbot-ui")], "ports": [tcp(80)]}])),
	] {
		passes(obj)
	}
}

test_unexpected_port_is_denied if {
	[v] := findings(qdrant_with([{"from": [from("rag-app")], "ports": [tcp(6333), tcp(6334)]}]))
	v.path == "/spec/ingress/0/ports/1"
	contains(v.msg, "lets rag-app reach qdrant on TCP/6334")
	contains(v.msg, "allowed: TCP/6333")
}

# Edge: Qdrant's gRPC port is not in the chapter's flows; add it when used.
test_grpc_port_when_configured if {
	obj := qdrant_with([{"from": [from("rag-app")], "ports": [tcp(6333), tcp(6334)]}])
	flows := {"allowedFlows": [
		{"to": "rag-app", "from": "chatbot-ui", "ports": ["TCP/80"]},
		{"to": "my-llama-finetuned", "from": "chatbot-ui", "ports": ["TCP/80"]},
		{"to": "qdrant", "from": "rag-app", "ports": ["TCP/6333", "TCP/6334"]},
	]}
	count(rule.violation) == 0 with input as testing.review_with(obj, flows) with data.inventory as {}
}

# Edge: a mesh changes the ports on the wire (e.g. Istio ambient HBONE on 15008).
test_mesh_port_when_configured if {
	obj := policy("rag-app-ingress-policy", named("rag-app"), ingress([{"from": [from("chatbot-ui")], "ports": [tcp(80), tcp(15008)]}]))
	[_] := findings(obj)
	flows := {"allowedFlows": [{"to": "rag-app", "from": "chatbot-ui", "ports": ["TCP/80", "TCP/15008"]}]}
	count(rule.violation) == 0 with input as testing.review_with(obj, flows) with data.inventory as {}
}

test_open_rules_are_denied if {
	# every source
	[a] := findings(qdrant_with([{"ports": [tcp(6333)]}]))
	a.path == "/spec/ingress/0"
	contains(a.msg, "lets every source reach qdrant")

	# every port
	[b] := findings(qdrant_with([{"from": [from("rag-app")]}]))
	b.path == "/spec/ingress/0"
	contains(b.msg, "every port of qdrant")

	# both: allow-all
	count(findings(qdrant_with([{}]))) == 1

	# a range
	[c] := findings(qdrant_with([{"from": [from("rag-app")], "ports": [{"protocol": "TCP", "port": 6000, "endPort": 7000}]}]))
	contains(c.msg, "TCP/6000-7000")
}

test_unnamed_sources_are_denied if {
	every peer in [
		{"ipBlock": {"cidr": "10.0.0.0/16"}},
		{"namespaceSelector": {}},
		{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}, "podSelector": named("rag-app")},
		{"podSelector": {}},
		{"podSelector": {"matchLabels": {"tier": "backend"}}},
		{"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["chatbot-ui"]}]}},
	] {
		[v] := findings(qdrant_with([{"from": [peer], "ports": [tcp(6333)]}]))
		v.path == "/spec/ingress/0/from/0"
	}

	# a name list with a source that is not allowed
	list := {"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["rag-app", "chatbot-ui"]}]}}
	[v] := findings(qdrant_with([{"from": [list], "ports": [tcp(6333)]}]))
	contains(v.msg, "lets chatbot-ui reach qdrant")
}

test_targets if {
	# extra labels on the target only narrow it: still qdrant
	narrowed := policy("qdrant-db", {"matchLabels": {"app.kubernetes.io/name": "qdrant", "tier": "db"}}, ingress([{"from": [from("chatbot-ui")], "ports": [tcp(6333)]}]))
	count(findings(narrowed)) == 1

	# a NotIn selector that leaves qdrant in
	notin := policy("not-ui", {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["chatbot-ui"]}]}, ingress([{"from": [from("chatbot-ui")], "ports": [tcp(80)]}]))
	{v.msg | some v in findings(notin)} == {
		`NetworkPolicy "not-ui" lets chatbot-ui reach qdrant (ingress rule 0, source 0), which is not an allowed flow; allowed flows to qdrant: from rag-app on TCP/6333`,
	}

	every obj in [
		# not naming a component: not judged here (NETPOL-002 judges allow-all)
		policy("allow-from-ingress-nginx", {}, ingress([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]}])),
		# Edge: chatbot-ui is not protected; its LB subnets are allowed by ipBlock
		policy("chatbot-ui-from-nlb", named("chatbot-ui"), ingress([{"from": [{"ipBlock": {"cidr": "10.0.0.0/20"}}], "ports": [tcp(8080)]}])),
		# egress-only
		policy("qdrant-egress", named("qdrant"), {"policyTypes": ["Egress"], "egress": [{}]}),
		json.patch(qdrant_with([{}]), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not_in_scope(obj)
	}
}

test_update_is_denied_too if {
	obj := qdrant_with([{"from": [from("chatbot-ui")], "ports": [tcp(6333)]}])
	[v] := [v | some v in rule.violation] with input as testing.review_update(obj, qdrant_policy) with data.inventory as {}
	object.get(v, "action", "deny") == "deny"
}

# --- (b) protected workloads ---

qdrant := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "qdrant", "namespace": "genai"},
	"spec": {
		"replicas": 1,
		"selector": named("qdrant"),
		"template": {
			"metadata": {"labels": {"app.kubernetes.io/name": "qdrant"}},
			"spec": {"containers": [{"name": "qdrant", "image": "qdrant/qdrant:v1.12.0"}]},
		},
	},
}

inv(policies) := {"namespace": {"genai": {"NetworkPolicy": {p.metadata.name: p | some p in policies}}}}

test_unprotected_component_warns_at_create if {
	[v] := [v | some v in rule.violation] with input as testing.review(qdrant) with data.inventory as {}
	v.action == "warn"
	v.path == "/spec/template/metadata/labels"
	contains(v.msg, `StatefulSet "qdrant" runs qdrant pods`)
	contains(v.fix, "from rag-app on TCP/6333")
}

test_unprotected_component_audited_otherwise if {
	audit := object.union(testing.review(qdrant), {"operation": "AUDIT"})
	[a] := [v | some v in rule.violation] with input as audit with data.inventory as {}
	a.action == "audit"
	[u] := [v | some v in rule.violation] with input as testing.review_update(qdrant, qdrant) with data.inventory as {}
	u.action == "audit"
}

test_component_with_ingress_policy_passes if {
	default_deny := policy("default-deny-ingress", {}, {})
	every policies in [[qdrant_policy], [default_deny]] {
		rule.applies with input as testing.review(qdrant) with data.inventory as inv(policies)
		count(rule.violation) == 0 with input as testing.review(qdrant) with data.inventory as inv(policies)
	}

	# a policy for other pods, or an egress-only one, does not isolate qdrant
	egress_only := policy("qdrant-egress", named("qdrant"), {"policyTypes": ["Egress"], "egress": [{}]})
	every policies in [[rag_policy], [egress_only]] {
		count(rule.violation) == 1 with input as testing.review(qdrant) with data.inventory as inv(policies)
	}
}

test_pods_and_scope if {
	pod := {
		"apiVersion": "v1",
		"kind": "Pod",
		"metadata": {"name": "rag-app-0", "namespace": "genai", "labels": {"app.kubernetes.io/name": "rag-app"}},
		"spec": {"containers": [{"name": "rag", "image": "rag:1.0"}]},
	}
	[v] := [v | some v in rule.violation] with input as testing.review(pod) with data.inventory as {}
	v.path == "/metadata/labels"

	ui := json.patch(qdrant, [{"op": "replace", "path": "/spec/template/metadata/labels", "value": {"app.kubernetes.io/name": "chatbot-ui"}}])
	not_in_scope(ui)
	not_in_scope(json.patch(qdrant, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]))
}
