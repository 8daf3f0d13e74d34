package kgate.rules.netpol.egress_allows_dns_test

import data.kgate.lib.testing
import data.kgate.rules.netpol.egress_allows_dns as rule

rag := {"matchLabels": {"app.kubernetes.io/name": "rag-app"}}

to_qdrant := {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "qdrant"}}}], "ports": [{"protocol": "TCP", "port": 6333}]}

kube_dns := {
	"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
	"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}

dns_ports := [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]

dns_rule := {"to": [kube_dns], "ports": dns_ports}

policy(name, selector, spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": name, "namespace": "genai"},
	"spec": object.union({"podSelector": selector}, spec),
}

egress(rules) := {"policyTypes": ["Egress"], "egress": rules}

# The catalog's bad example.
rag_egress := policy("rag-app-egress", rag, egress([to_qdrant]))

# The catalog's good companion policy.
allow_dns := policy("allow-dns-egress", {}, egress([dns_rule]))

inv(policies) := {"namespace": {"genai": {"NetworkPolicy": {p.metadata.name: p | some p in policies}}}}

findings(obj, policies) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj) with data.inventory as inv(policies)
}

passes(obj, policies) if {
	rule.applies with input as testing.review(obj) with data.inventory as inv(policies)
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as inv(policies)
}

test_egress_without_dns_warns if {
	[v] := findings(rag_egress, [])
	object.get(v, "action", "warn") == "warn"
	v.path == "/spec/egress"
	contains(v.msg, `NetworkPolicy "rag-app-egress" restricts egress of the pods it selects`)
	contains(v.msg, "DNS over UDP and TCP port 53 to {k8s-app: kube-dns} pods in kube-system")
	contains(v.fix, "name: allow-dns-egress, namespace: genai")
}

test_namespace_wide_dns_policy_covers_others if {
	# the catalog's good example: a separate allow-dns-egress policy
	passes(rag_egress, [allow_dns])

	# the allow policy itself
	passes(allow_dns, [])

	# the object under review is in the inventory too (kgate check); only other
	# policies count
	[_] := findings(rag_egress, [rag_egress])
}

test_dns_in_the_same_policy_passes if {
	every rules in [
		[to_qdrant, dns_rule],
		# any namespace, DNS pods
		[to_qdrant, {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": dns_ports}],
		# all pods of kube-system
		[to_qdrant, {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}], "ports": dns_ports}],
		# port 53 of every destination
		[to_qdrant, {"ports": dns_ports}],
		# named CoreDNS ports
		[to_qdrant, {"to": [kube_dns], "ports": [{"protocol": "UDP", "port": "dns"}, {"protocol": "TCP", "port": "dns-tcp"}]}],
		# every port of the DNS pods
		[to_qdrant, {"to": [kube_dns]}],
		# a range containing 53
		[to_qdrant, {"to": [kube_dns], "ports": [{"protocol": "UDP", "port": 1, "endPort": 1024}, {"protocol": "TCP", "port": 53}]}],
		# everything
		[{}],
		[to_qdrant, {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": dns_ports}],
	] {
		passes(policy("rag-app-egress", rag, egress(rules)), [])
	}
}

test_partial_or_wrong_dns_rules_warn if {
	# UDP only: answers over TCP (large responses) fail
	[u] := findings(policy("rag-app-egress", rag, egress([to_qdrant, {"to": [kube_dns], "ports": [{"protocol": "UDP", "port": 53}]}])), [])
	contains(u.msg, "DNS over TCP port 53")

	every rules in [
		# DNS pods of the policy's own namespace (there are none)
		[{"to": [{"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": dns_ports}],
		# another namespace
		[{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}], "ports": dns_ports}],
		# other pods of kube-system
		[{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "metrics-server"}}}], "ports": dns_ports}],
		# the DNS pods on another port
		[{"to": [kube_dns], "ports": [{"protocol": "TCP", "port": 9153}]}],
		# an unrelated CIDR
		[{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}], "ports": dns_ports}],
		# no egress rule at all: deny all egress
		[],
	] {
		count(findings(policy("rag-app-egress", rag, egress(rules)), [])) == 1
	}
}

test_other_policy_must_cover_the_same_pods if {
	qdrant_dns := policy("qdrant-dns", {"matchLabels": {"app.kubernetes.io/name": "qdrant"}}, egress([dns_rule]))
	count(findings(rag_egress, [qdrant_dns])) == 1

	# a wider selector covers
	tier := policy("backend-dns", {"matchLabels": {"tier": "backend"}}, egress([dns_rule]))
	narrow := policy("rag-app-egress", {"matchLabels": {"app.kubernetes.io/name": "rag-app", "tier": "backend"}}, egress([to_qdrant]))
	passes(narrow, [tier])
	count(findings(rag_egress, [tier])) == 1

	expr := policy("genai-dns", {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["rag-app", "chatbot-ui"]}]}, egress([dns_rule]))
	passes(rag_egress, [expr])

	# a policy that does not restrict egress allows nothing on egress
	ingress_only := policy("allow-dns-ingress-only", {}, {"policyTypes": ["Ingress"], "egress": [dns_rule]})
	count(findings(rag_egress, [ingress_only])) == 1
}

# Edge: with NodeLocal DNSCache pods query the node-local address.
test_node_local_dns if {
	local := policy("rag-app-egress", rag, egress([to_qdrant, {"to": [{"ipBlock": {"cidr": "169.254.20.10/32"}}], "ports": dns_ports}]))
	passes(local, [])
	count(rule.violation) == 1 with input as testing.review_with(local, {"nodeLocalDnsIp": ""}) with data.inventory as {}
	excepted := policy("rag-app-egress", rag, egress([{"to": [{"ipBlock": {"cidr": "169.254.0.0/16", "except": ["169.254.20.0/24"]}}], "ports": dns_ports}]))
	count(findings(excepted, [])) == 1
}

test_dns_params if {
	custom := policy("rag-app-egress", rag, egress([{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}}, "podSelector": {"matchLabels": {"app": "coredns"}}}], "ports": dns_ports}]))
	params := {"dnsNamespace": "dns", "dnsPodLabels": {"app": "coredns"}}
	count(rule.violation) == 0 with input as testing.review_with(custom, params) with data.inventory as {}
	count(findings(custom, [])) == 1
}

test_cached_namespace_labels_count if {
	by_label := policy("rag-app-egress", rag, egress([{"to": [{"namespaceSelector": {"matchLabels": {"name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": dns_ports}]))
	count(findings(by_label, [])) == 1
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "labels": {"name": "kube-system"}}}
	count(rule.violation) == 0 with input as testing.review(by_label) with data.inventory as {"cluster": {"Namespace": {"kube-system": ns}}}
}

test_scope if {
	# implied Egress: egress rules without policyTypes
	implied := policy("rag-app-egress", rag, {"egress": [to_qdrant]})
	count(findings(implied, [])) == 1

	every obj in [
		# ingress-only policies do not restrict egress
		policy("rag-app-ingress", rag, {"policyTypes": ["Ingress"], "ingress": [{}]}),
		policy("rag-app-ingress", rag, {"ingress": [{}]}),
		json.patch(rag_egress, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(obj) with data.inventory as {}
		count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as {}
	}
}

test_update_uses_the_new_object if {
	# the inventory holds the old version under the same name
	fixed := policy("rag-app-egress", rag, egress([to_qdrant, dns_rule]))
	count(rule.violation) == 0 with input as testing.review_update(fixed, rag_egress) with data.inventory as inv([rag_egress])
	count(rule.violation) == 1 with input as testing.review_update(rag_egress, fixed) with data.inventory as inv([fixed])
}
