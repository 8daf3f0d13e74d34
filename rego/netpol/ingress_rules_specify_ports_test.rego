package kgate.rules.netpol.ingress_rules_specify_ports_test

import data.kgate.lib.testing
import data.kgate.rules.netpol.ingress_rules_specify_ports as rule

from_ui := [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chatbot-ui"}}}]

policy(ns, types, ingress) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "rag-app-ingress-policy", "namespace": ns},
	"spec": object.union(
		{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rag-app"}}, "ingress": ingress},
		types,
	),
}

ingress_type := {"policyTypes": ["Ingress"]}

findings(obj) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj)
}

passes(obj) if {
	rule.applies with input as testing.review(obj)
	count(rule.violation) == 0 with input as testing.review(obj)
}

# The catalog's bad example.
test_rule_without_ports_warns if {
	[v] := findings(policy("genai", ingress_type, [{"from": from_ui}]))
	object.get(v, "action", "warn") == "warn"
	v.path == "/spec/ingress/0"
	contains(v.msg, `NetworkPolicy "rag-app-ingress-policy" ingress rule 0 names no ports`)
	contains(v.fix, "protocol: TCP, port: 80")
}

test_rules_with_ports_pass if {
	every ingress in [
		# the catalog's good example
		[{"from": from_ui, "ports": [{"protocol": "TCP", "port": 80}]}],
		# edge: named ports are valid
		[{"from": from_ui, "ports": [{"port": "http"}]}],
		# edge: ranges are valid (the CNI must support endPort)
		[{"from": from_ui, "ports": [{"protocol": "TCP", "port": 8000, "endPort": 8010}]}],
	] {
		passes(policy("genai", ingress_type, ingress))
	}

	# omitted policyTypes default to Ingress
	passes(policy("genai", {}, [{"from": from_ui, "ports": [{"port": 6333}]}]))
}

test_each_rule_is_reported if {
	obj := policy("genai", ingress_type, [
		{"from": from_ui, "ports": [{"protocol": "TCP", "port": 80}]},
		{"from": from_ui, "ports": []},
		{},
	])
	vs := findings(obj)
	{v.path | some v in vs} == {"/spec/ingress/1", "/spec/ingress/2"}
	some v in vs
	v.path == "/spec/ingress/2"
	contains(v.msg, "every source")
}

test_port_entry_without_port_warns if {
	[v] := findings(policy("genai", ingress_type, [{"from": from_ui, "ports": [{"protocol": "UDP"}]}]))
	v.path == "/spec/ingress/0/ports/0"
	contains(v.msg, "allows every UDP port")
}

test_scope if {
	every obj in [
		# exempt namespace
		policy("kube-system", ingress_type, [{"from": from_ui}]),
		# egress-only: its ingress rules do not apply
		policy("genai", {"policyTypes": ["Egress"]}, [{"from": from_ui}]),
		# default deny: no ingress rule to check
		policy("genai", ingress_type, []),
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_update_warns_too if {
	old := policy("genai", ingress_type, [{"from": from_ui, "ports": [{"protocol": "TCP", "port": 80}]}])
	obj := policy("genai", ingress_type, [{"from": from_ui}])
	count(rule.violation) == 1 with input as testing.review_update(obj, old)
}
