package kgate.rules.ops.networkpolicy_enforcement_enabled_test

import data.kgate.lib.testing
import data.kgate.rules.ops.networkpolicy_enforcement_enabled as rule

config_map(data_) := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": "amazon-vpc-cni", "namespace": "kube-system"},
	"data": data_,
}

enabled_config_map := config_map({"enable-network-policy-controller": "true", "enable-windows-ipam": "false"})

aws_node(agent_args, env) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "aws-node", "namespace": "kube-system"},
	"spec": {
		"selector": {"matchLabels": {"k8s-app": "aws-node"}},
		"template": {
			"metadata": {"labels": {"k8s-app": "aws-node"}},
			"spec": {"containers": [
				{"name": "aws-node", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0", "env": env},
				{"name": "aws-eks-nodeagent", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5", "args": agent_args},
			]},
		},
	},
}

agent_off := ["--enable-ipv6=false", "--enable-network-policy=false", "--enable-cloudwatch-logs=false"]

agent_on := ["--enable-ipv6=false", "--enable-network-policy=true", "--enable-cloudwatch-logs=false"]

deny_all := {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny-ingress", "namespace": "genai"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}

# policies is an inventory with NetworkPolicies in GenAI namespaces.
policies := {"namespace": {
	"genai": {"NetworkPolicy": {"default-deny-ingress": deny_all}},
	"rag": {"NetworkPolicy": {"allow-rag": deny_all}},
}}

findings(obj, inv) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inv]

test_controller_off_with_policies_is_reported if {
	[v] := findings(config_map({}), policies)
	v.path == "/data"
	contains(v.msg, "namespaces genai, rag are accepted but not enforced")
	contains(v.fix, "enableNetworkPolicy")
}

test_controller_false_is_reported_at_the_key if {
	[v] := findings(config_map({"enable-network-policy-controller": "false"}), policies)
	v.path == "/data/enable-network-policy-controller"
}

test_config_map_without_data if {
	[v] := findings(json.remove(config_map({}), ["data"]), policies)
	v.path == "/metadata/name"
}

test_controller_on_passes if {
	rule.applies with input as testing.review(enabled_config_map) with data.inventory as policies
	count(findings(enabled_config_map, policies)) == 0
	count(findings(config_map({"enable-network-policy-controller": "True"}), policies)) == 0
}

# Nothing to enforce: no NetworkPolicies, or only in exempt namespaces.
test_no_genai_policies_passes if {
	system_only := {"namespace": {"kube-system": {"NetworkPolicy": {"allow-dns": deny_all}}}}
	every inv in [{}, system_only] {
		rule.applies with input as testing.review(config_map({})) with data.inventory as inv
		count(findings(config_map({}), inv)) == 0
	}
}

# Edge case: other CNIs (Calico, Cilium) enforce NetworkPolicies natively.
test_other_enforcing_cni_passes if {
	calico := object.union(policies, {"namespace": {"calico-system": {"DaemonSet": {"calico-node": {"kind": "DaemonSet"}}}}})
	cilium := object.union(policies, {"namespace": {"kube-system": {"DaemonSet": {"cilium": {"kind": "DaemonSet"}, "aws-node": {"kind": "DaemonSet"}}}}})
	every inv in [calico, cilium] {
		count(findings(config_map({}), inv)) == 0
		count(findings(aws_node(agent_off, []), inv)) == 0
	}
}

test_agent_off_is_reported if {
	[v] := findings(aws_node(agent_off, []), policies)
	v.path == "/spec/template/spec/containers/1/args"
	contains(v.msg, "--enable-network-policy=false")
}

test_agent_missing_is_reported if {
	d := json.remove(aws_node(agent_off, []), ["spec/template/spec/containers/1"])
	[v] := findings(d, policies)
	v.path == "/spec/template/spec/containers"
	contains(v.msg, "no network policy agent container")
}

test_agent_on_passes if {
	every args in [agent_on, ["--enable-network-policy"], ["--enable-network-policy=True"]] {
		rule.applies with input as testing.review(aws_node(args, [])) with data.inventory as policies
		count(findings(aws_node(args, []), policies)) == 0
	}
}

test_open_source_agent_name if {
	d := json.patch(aws_node(agent_off, []), [{"op": "replace", "path": "/spec/template/spec/containers/1/name", "value": "aws-network-policy-agent"}])
	count(findings(d, policies)) == 1
}

test_standard_mode_passes_by_default if {
	count(findings(aws_node(agent_on, []), policies)) == 0
}

test_strict_mode_required if {
	inp := testing.review_with(aws_node(agent_on, [{"name": "NETWORK_POLICY_ENFORCING_MODE", "value": "standard"}]), {"requireStrictMode": true})
	[v] := [v | some v in rule.violation with input as inp with data.inventory as policies]
	v.path == "/spec/template/spec/containers/0/env"
	contains(v.msg, "standard mode")
	strict := testing.review_with(aws_node(agent_on, [{"name": "NETWORK_POLICY_ENFORCING_MODE", "value": "strict"}]), {"requireStrictMode": true})
	count([v | some v in rule.violation with input as strict with data.inventory as policies]) == 0
}

test_strict_mode_default_is_standard if {
	inp := testing.review_with(json.remove(aws_node(agent_on, []), ["spec/template/spec/containers/0/env"]), {"requireStrictMode": true})
	[v] := [v | some v in rule.violation with input as inp with data.inventory as {}]
	v.path == "/spec/template/spec/containers/0"
}

test_other_objects_are_out_of_scope if {
	other_cm := json.patch(config_map({}), [{"op": "replace", "path": "/metadata/name", "value": "coredns"}])
	other_ns := json.patch(aws_node(agent_off, []), [{"op": "replace", "path": "/metadata/namespace", "value": "genai"}])
	every obj in [other_cm, other_ns] {
		not rule.applies with input as testing.review(obj) with data.inventory as policies
		count(findings(obj, policies)) == 0
	}
}
