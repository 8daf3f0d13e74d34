package kgate.rules.ops.vpc_cni_ip_capacity_test

import data.kgate.lib.testing
import data.kgate.rules.ops.vpc_cni_ip_capacity as rule

aws_node(env) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "aws-node", "namespace": "kube-system"},
	"spec": {
		"selector": {"matchLabels": {"k8s-app": "aws-node"}},
		"template": {
			"metadata": {"labels": {"k8s-app": "aws-node"}},
			"spec": {
				"initContainers": [{"name": "aws-vpc-cni-init", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.19.0"}],
				"containers": [
					{"name": "aws-node", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0", "env": env},
					{"name": "aws-network-policy-agent", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5", "args": ["--enable-network-policy=false"]},
				],
			},
		},
	},
}

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

test_no_mitigation_is_reported if {
	[v] := findings(aws_node([{"name": "WARM_ENI_TARGET", "value": "1"}]))
	v.path == "/spec/template/spec/containers/0/env"
	contains(v.msg, "none of custom networking, prefix delegation or IPv6")
	contains(v.fix, "ENABLE_PREFIX_DELEGATION=true")
}

test_no_env_points_at_the_container if {
	d := json.remove(aws_node([]), ["spec/template/spec/containers/0/env"])
	[v] := findings(d)
	v.path == "/spec/template/spec/containers/0"
}

test_mitigations_pass if {
	every env in [
		[{"name": "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "value": "true"}, {"name": "ENI_CONFIG_LABEL_DEF", "value": "topology.kubernetes.io/zone"}],
		[{"name": "ENABLE_PREFIX_DELEGATION", "value": "true"}, {"name": "WARM_PREFIX_TARGET", "value": "1"}],
		[{"name": "ENABLE_IPv6", "value": "true"}, {"name": "ENABLE_PREFIX_DELEGATION", "value": "true"}],
		[{"name": "ENABLE_PREFIX_DELEGATION", "value": "True"}],
		[{"name": "ENABLE_PREFIX_DELEGATION", "valueFrom": {"configMapKeyRef": {"name": "cni-settings", "key": "prefix-delegation"}}}],
	] {
		rule.applies with input as testing.review(aws_node(env))
		count(findings(aws_node(env))) == 0
	}
}

test_disabled_mitigations_are_reported if {
	count(findings(aws_node([{"name": "ENABLE_PREFIX_DELEGATION", "value": "false"}, {"name": "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "value": "false"}, {"name": "ENABLE_IPv6", "value": "false"}]))) == 1
}

test_known_free_ratio_above_minimum_passes if {
	inp := testing.review_with(aws_node([]), {"vpcSubnetFreeIpRatio": 0.6})
	count([v | some v in rule.violation with input as inp]) == 0
}

test_known_free_ratio_below_minimum_is_reported if {
	inp := testing.review_with(aws_node([]), {"vpcSubnetFreeIpRatio": 0.05})
	[v] := [v | some v in rule.violation with input as inp]
	contains(v.msg, "only 5% of the pod subnets' IPs are free (minimum 20%)")
	inp2 := testing.review_with(aws_node([]), {"vpcSubnetFreeIpRatio": 0.3, "minFreeIpRatio": 0.4})
	count([v | some v in rule.violation with input as inp2]) == 1
}

# Edge case: the managed add-on configuration overrides env edits; the fix says where
# to set them.
test_fix_points_at_the_add_on_configuration if {
	[v] := findings(aws_node([]))
	contains(v.fix, "add-on configuration")
	contains(v.fix, "efa-only")
}

# Edge case: other (overlay) CNIs have no aws-node container; nothing to check.
test_other_daemonsets_are_out_of_scope if {
	cilium := {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}}, "template": {"metadata": {"labels": {"k8s-app": "cilium"}}, "spec": {"containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.16.3"}]}}}}
	other_ns := json.patch(aws_node([]), [{"op": "replace", "path": "/metadata/namespace", "value": "genai"}])
	every d in [cilium, other_ns] {
		not rule.applies with input as testing.review(d)
		count(findings(d)) == 0
	}
}
