package kgate.rules.ops.kube_proxy_mode_for_scale_test

import data.kgate.lib.testing
import data.kgate.rules.ops.kube_proxy_mode_for_scale as rule

config_map(mode) := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": "kube-proxy-config", "namespace": "kube-system"},
	"data": {"config": sprintf("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig\nmode: %q\niptables:\n  masqueradeAll: false\n", [mode])},
}

# services is an inventory with n Services spread over two namespaces, plus the
# kube-proxy DaemonSet.
services(n) := {"namespace": {
	"genai": {"Service": {sprintf("svc-%d", [i]): {"kind": "Service"} | some i in numbers.range(1, n - 1)}},
	"default": {"Service": {"kubernetes": {"kind": "Service"}}},
	"kube-system": {"DaemonSet": {"kube-proxy": {"kind": "DaemonSet"}}},
}}

findings(obj, inv) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inv]

test_iptables_above_threshold_is_reported if {
	[v] := findings(config_map("iptables"), services(1500))
	v.path == "/data/config"
	contains(v.msg, "1500 Services")
	contains(v.fix, "mode: nftables")
	contains(v.fix, "add-on configuration")
}

test_iptables_below_threshold_passes if {
	rule.applies with input as testing.review(config_map("iptables")) with data.inventory as services(40)
	count(findings(config_map("iptables"), services(40))) == 0
	count(findings(config_map("iptables"), services(1000))) == 0
}

test_threshold_is_a_parameter if {
	inp := testing.review_with(config_map("iptables"), {"serviceThreshold": 30})
	count([v | some v in rule.violation with input as inp with data.inventory as services(40)]) == 1
}

# Without Services in the inventory (an offline check of the ConfigMap alone) the
# scale is unknown and iptables is reported as a reminder.
test_iptables_with_unknown_scale_is_reported if {
	[v] := findings(config_map("iptables"), {})
	contains(v.msg, "saw no Services")
}

test_empty_mode_is_iptables if {
	cm := json.patch(config_map("iptables"), [{"op": "replace", "path": "/data/config", "value": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"\"\n"}])
	count(findings(cm, services(1500))) == 1
	no_mode := json.patch(cm, [{"op": "replace", "path": "/data/config", "value": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"}])
	count(findings(no_mode, services(1500))) == 1
}

test_nftables_passes if {
	rule.applies with input as testing.review(config_map("nftables")) with data.inventory as services(5000)
	count(findings(config_map("nftables"), services(5000))) == 0
}

test_ipvs_passes_before_1_35 if {
	count(findings(config_map("ipvs"), services(5000))) == 0
}

# Edge case: ipvs is deprecated from 1.35 (KEP-5495), its bugs are no longer fixed.
test_ipvs_on_1_35_is_reported if {
	inp := testing.review_with(config_map("ipvs"), {"kubernetesMinor": 35})
	[v] := [v | some v in rule.violation with input as inp with data.inventory as services(5000)]
	contains(v.msg, "deprecated in 1.35")
	contains(v.fix, "nftables")
}

test_prefer_mode_follows_the_version if {
	inp := testing.review_with(config_map("iptables"), {"kubernetesMinor": 32})
	[v] := [v | some v in rule.violation with input as inp with data.inventory as services(1500)]
	contains(v.fix, "mode: ipvs")
	contains(v.fix, "ip_vs")
	inp2 := testing.review_with(config_map("iptables"), {"kubernetesMinor": 32, "preferMode": "nftables"})
	[v2] := [v | some v in rule.violation with input as inp2 with data.inventory as services(1500)]
	contains(v2.fix, "mode: nftables")
}

# Edge case: with Cilium's kube-proxy replacement there is no kube-proxy to tune.
test_replaced_kube_proxy_is_skipped if {
	inv := {"namespace": {"kube-system": {"DaemonSet": {"cilium": {"kind": "DaemonSet"}, "aws-node": {"kind": "DaemonSet"}}}}}
	not rule.applies with input as testing.review(config_map("iptables")) with data.inventory as inv
	count(findings(config_map("iptables"), inv)) == 0
}

test_kubeadm_config_map if {
	cm := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n"}}
	[v] := findings(cm, services(1500))
	v.path == "/data/config.conf"
}

test_other_config_maps_are_out_of_scope if {
	eks_kubeconfig := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "data": {"kubeconfig": "kind: Config\n"}}
	other_namespace := json.patch(config_map("iptables"), [{"op": "replace", "path": "/metadata/namespace", "value": "genai"}])
	broken := json.patch(config_map("iptables"), [{"op": "replace", "path": "/data/config", "value": "mode: [iptables"}])
	every cm in [eks_kubeconfig, other_namespace, broken] {
		not rule.applies with input as testing.review(cm) with data.inventory as services(1500)
		count(findings(cm, services(1500))) == 0
	}
}
