package kgate.rules.ops.coredns_scaling_test

import data.kgate.lib.testing
import data.kgate.rules.ops.coredns_scaling as rule

coredns(replicas) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "coredns", "namespace": "kube-system"},
	"spec": {
		"replicas": replicas,
		"selector": {"matchLabels": {"k8s-app": "kube-dns"}},
		"template": {
			"metadata": {"labels": {"k8s-app": "kube-dns"}},
			"spec": {"containers": [{"name": "coredns", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1"}]},
		},
	},
}

node(i, unschedulable) := {"apiVersion": "v1", "kind": "Node", "metadata": {"name": sprintf("ip-10-0-%d-1.us-west-2.compute.internal", [i])}, "spec": {"unschedulable": unschedulable}}

nodes(n) := {sprintf("node-%d", [i]): node(i, false) | some i in numbers.range(1, n)}

node_local_dns := {"node-local-dns": {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-local-dns", "namespace": "kube-system"}}}

cluster(n) := {"cluster": {"Node": nodes(n)}}

with_node_local_dns(n) := {"cluster": {"Node": nodes(n)}, "namespace": {"kube-system": {"DaemonSet": node_local_dns}}}

findings(obj, inv) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inv]

test_single_replica_is_reported if {
	[v] := findings(coredns(1), {})
	v.path == "/spec/replicas"
	contains(v.msg, "1 replica(s)")
	contains(v.fix, "autoScaling")
}

test_default_replicas_is_one if {
	d := json.remove(coredns(1), ["spec/replicas"])
	[v] := findings(d, {})
	v.path == "/spec"
}

test_two_replicas_pass_without_nodes if {
	rule.applies with input as testing.review(coredns(2)) with data.inventory as {}
	count(findings(coredns(2), {})) == 0
}

test_replicas_follow_node_count if {
	[v] := findings(coredns(4), cluster(90))
	contains(v.msg, "4 replicas for 90 nodes")
	contains(v.msg, "(6 wanted)")
	contains(v.fix, "\"minReplicas\":6")
	count(findings(coredns(6), cluster(90))) == 0
}

test_nodes_per_replica_is_a_parameter if {
	inp := testing.review_with(coredns(4), {"nodesPerReplica": 32})
	count([v | some v in rule.violation with input as inp with data.inventory as cluster(90)]) == 0
}

test_unschedulable_nodes_are_not_counted if {
	inv := {"cluster": {"Node": object.union(nodes(32), {sprintf("cordoned-%d", [i]): node(100 + i, true) | some i in numbers.range(1, 40)})}}
	count(findings(coredns(2), inv)) == 0
}

test_large_cluster_without_node_local_dns if {
	vs := findings(coredns(13), cluster(200))
	[v] := vs
	v.path == "/metadata/name"
	contains(v.msg, "200 nodes and no NodeLocal DNSCache")
}

# Edge case: with NodeLocal DNSCache, NetworkPolicies must allow egress to the
# node-local IP (NETPOL-004); the fix says so.
test_node_local_dns_fix_mentions_network_policies if {
	[v] := findings(coredns(13), cluster(200))
	contains(v.fix, "NETPOL-004")
	contains(v.fix, "169.254.20.10")
}

test_large_cluster_with_node_local_dns_passes if {
	count(findings(coredns(13), with_node_local_dns(200))) == 0
}

test_both_findings_in_a_large_cluster if {
	count(findings(coredns(2), cluster(200))) == 2
	count(findings(coredns(2), with_node_local_dns(200))) == 1
}

test_threshold_is_a_parameter if {
	inp := testing.review_with(coredns(13), {"nodeLocalDnsThreshold": 500})
	count([v | some v in rule.violation with input as inp with data.inventory as cluster(200)]) == 0
}

test_other_deployments_are_out_of_scope if {
	other_ns := json.patch(coredns(1), [{"op": "replace", "path": "/metadata/namespace", "value": "genai"}])
	other_name := json.patch(coredns(1), [{"op": "replace", "path": "/metadata/name", "value": "rag-app"}])
	every d in [other_ns, other_name] {
		not rule.applies with input as testing.review(d) with data.inventory as cluster(200)
		count(findings(d, cluster(200))) == 0
	}
}
