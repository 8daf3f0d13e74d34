package kgate.rules.netpol.no_allow_all_ingress_test

import data.kgate.lib.testing
import data.kgate.rules.netpol.no_allow_all_ingress as rule

policy(ingress) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "llama-ingress-policy", "namespace": "genai"},
	"spec": {
		"podSelector": {"matchLabels": {"app.kubernetes.io/name": "my-llama-finetuned"}},
		"policyTypes": ["Ingress"],
		"ingress": ingress,
	},
}

targeted := {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chatbot-ui"}}}], "ports": [{"protocol": "TCP", "port": 80}]}

test_allow_all_rule_is_denied if {
	every ingress in [[{}], [{"from": []}], [targeted, {"from": [], "ports": []}]] {
		[v] := [v | some v in rule.violation with input as testing.review(policy(ingress))]
		not v.action
		v.path == sprintf("/spec/ingress/%d", [count(ingress) - 1])
		contains(v.msg, "every source")
	}
}

test_targeted_rules_pass if {
	every ingress in [
		[targeted],
		# namespaceSelector AND podSelector in one element narrows
		[{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "ingress-nginx"}}}]}],
		# a labelled namespaceSelector
		[{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ui"}}}]}],
		# a narrow CIDR
		[{"from": [{"ipBlock": {"cidr": "10.0.0.0/16"}}], "ports": [{"port": 443}]}],
		# ports without sources are NETPOL-003's business
		[{"ports": [{"port": 8080}]}],
	] {
		rule.applies with input as testing.review(policy(ingress))
		count(rule.violation) == 0 with input as testing.review(policy(ingress))
	}
}

test_policies_without_ingress_rules_pass if {
	every np in [
		json.remove(policy([]), ["spec/ingress"]),
		{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-egress-deny-ingress", "namespace": "genai"}, "spec": {"podSelector": {}, "policyTypes": ["Egress", "Ingress"], "egress": [{}], "ingress": []}},
	] {
		rule.applies with input as testing.review(np)
		count(rule.violation) == 0 with input as testing.review(np)
	}
}

test_any_address_is_denied if {
	every cidr in ["0.0.0.0/0", "::/0"] {
		np := policy([targeted, {"from": [{"podSelector": {}}, {"ipBlock": {"cidr": cidr, "except": ["10.0.0.0/8"]}}]}])
		[v] := [v | some v in rule.violation with input as testing.review(np)]
		v.path == "/spec/ingress/1/from/1/ipBlock/cidr"
	}
}

test_all_namespaces_without_pod_selector_is_denied if {
	every peer in [{"namespaceSelector": {}}, {"namespaceSelector": {"matchLabels": {}}}, {"namespaceSelector": {}, "podSelector": {}}] {
		[v] := [v | some v in rule.violation with input as testing.review(policy([{"from": [peer]}]))]
		v.path == "/spec/ingress/0/from/0/namespaceSelector"
	}

	# two separate elements are an OR: the namespace element alone allows everything
	np := policy([{"from": [{"namespaceSelector": {}}, {"podSelector": {"matchLabels": {"app": "ui"}}}]}])
	[w] := [v | some v in rule.violation with input as testing.review(np)]
	w.path == "/spec/ingress/0/from/0/namespaceSelector"
}

test_several_findings_in_one_policy if {
	np := policy([{}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"namespaceSelector": {}}]}])
	paths := {v.path | some v in rule.violation with input as testing.review(np)}
	paths == {"/spec/ingress/0", "/spec/ingress/1/from/0/ipBlock/cidr", "/spec/ingress/1/from/1/namespaceSelector"}
}

test_out_of_scope if {
	exempt := json.patch(policy([{}]), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(exempt)
	count(rule.violation) == 0 with input as testing.review(exempt)

	ingress_ns := json.patch(policy([{}]), [{"op": "replace", "path": "/metadata/namespace", "value": "ingress-nginx"}])
	count(rule.violation) == 1 with input as testing.review(ingress_ns)
	not rule.applies with input as testing.review_with(ingress_ns, {"allowAllExceptions": ["ingress-nginx"]})
	count(rule.violation) == 0 with input as testing.review_with(ingress_ns, {"allowAllExceptions": ["ingress-nginx"]})

	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "genai"}, "spec": {}}
	not rule.applies with input as testing.review(svc)
}
