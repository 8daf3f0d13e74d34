# METADATA
# title: kube-proxy runs in a mode that scales with the cluster's Services
# description: |
#   Reports the kube-proxy configuration (ConfigMap kube-system/kube-proxy-config, key
#   config, as EKS ships it; kubeadm's kube-system/kube-proxy, key config.conf, too)
#   when kube-proxy still runs in iptables mode (the default on Linux) in a cluster
#   with more than serviceThreshold Services, or in ipvs mode on Kubernetes 1.35 or
#   later, where ipvs is deprecated (KEP-5495). The Services are counted in the
#   inventory; when it holds none (an offline check of the ConfigMap alone) the scale
#   is unknown and iptables mode is reported anyway, as a reminder to check it. The
#   recommended mode is preferMode (auto: nftables on 1.33 and later, else ipvs).
#   kube-system is exempt from admission, so this rule looks at the ConfigMap
#   deliberately and is audit-only: changing the mode needs the kernel modules on the
#   nodes and a kube-proxy restart, and on EKS is done through the kube-proxy add-on
#   configuration, which overwrites edits of the ConfigMap. Clusters whose kube-proxy
#   was replaced (e.g. Cilium's eBPF kube-proxy replacement: DaemonSets of kube-system
#   are known but none is named kube-proxy) are skipped.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#ops-001
# custom:
#   id: OPS-001
#   severity: low
#   kinds: [ConfigMap]
#   default_action: audit
#   audit_only: true
#   referential: true
#   inventory: [Service, DaemonSet]
#   why: |
#     In iptables mode kube-proxy rewrites long sequential rule chains on every node
#     whenever a Service or endpoint changes, so with thousands of Services (the EKS
#     guide's figure is 1,000) rule syncs take seconds and burn node CPU that GPU
#     workloads pay for. nftables (GA in Kubernetes 1.33) and ipvs use hashed lookups;
#     ipvs is deprecated from 1.35 and no longer fixed upstream, so nftables is the
#     mode to move to.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: ConfigMap
#       metadata: {name: kube-proxy-config, namespace: kube-system}
#       data:
#         config: |
#           apiVersion: kubeproxy.config.k8s.io/v1alpha1
#           kind: KubeProxyConfiguration
#           mode: "iptables"
#     good: |
#       apiVersion: v1
#       kind: ConfigMap
#       metadata: {name: kube-proxy-config, namespace: kube-system}
#       data:
#         config: |
#           apiVersion: kubeproxy.config.k8s.io/v1alpha1
#           kind: KubeProxyConfiguration
#           mode: "nftables"
#   params:
#     serviceThreshold: 1000
#     preferMode: auto
#   schema:
#     serviceThreshold: {type: integer, minimum: 0, description: "Services from which kube-proxy's iptables mode is reported"}
#     preferMode: {enum: [auto, nftables, ipvs], description: "kube-proxy mode to recommend (auto: nftables on Kubernetes 1.33 and later, else ipvs)"}
package kgate.rules.ops.kube_proxy_mode_for_scale

import data.kgate.lib

# config_keys names the kube-proxy ConfigMaps of kube-system and the data key that
# holds their KubeProxyConfiguration.
config_keys := {"kube-proxy-config": "config", "kube-proxy": "config.conf"}

config_key := key if {
	lib.kind == "ConfigMap"
	lib.namespace == "kube-system"
	key := config_keys[lib.obj.metadata.name]
}

raw := lib.obj.data[config_key]

config := c if {
	is_string(raw)
	yaml.is_valid(raw)
	c := yaml.unmarshal(raw)
	is_object(c)
}

applies if {
	config
	not kube_proxy_replaced
}

# mode is the configured proxy mode; empty means iptables on Linux.
mode := m if {
	m := lower(lib.get(config, "mode", ""))
	m != ""
} else := "iptables"

# kube_proxy_replaced is true when the inventory knows DaemonSets of kube-system but
# none named kube-proxy (e.g. Cilium's kube-proxy replacement): the setting is moot.
kube_proxy_replaced if {
	daemonsets := object.get(data.inventory, ["namespace", "kube-system", "DaemonSet"], {})
	count(daemonsets) > 0
	not daemonsets["kube-proxy"]
}

# services is the number of Services in the inventory (0 when it holds none, e.g. an
# offline check of the ConfigMap alone: every cluster has the default/kubernetes
# Service).
services := sum([count(object.get(kinds, "Service", {})) | some kinds in object.get(data.inventory, "namespace", {})])

prefer := lib.params.preferMode if lib.params.preferMode != "auto"

else := "nftables" if lib.params.kubernetesMinor >= 33

else := "ipvs"

path := concat("", ["/data/", lib.escape(config_key)])

violation contains v if {
	applies
	mode == "iptables"
	services > lib.params.serviceThreshold
	v := {
		"msg": sprintf("kube-proxy runs in iptables mode with %d Services (more than %d): every Service or endpoint change rewrites long iptables chains on every node", [services, lib.params.serviceThreshold]),
		"path": path,
		"fix": fix,
	}
}

violation contains v if {
	applies
	mode == "iptables"
	services == 0
	v := {
		"msg": sprintf("kube-proxy runs in iptables mode; kgate saw no Services to count, and from %d Services every Service or endpoint change rewrites long iptables chains on every node", [lib.params.serviceThreshold]),
		"path": path,
		"fix": fix,
	}
}

violation contains v if {
	applies
	mode == "ipvs"
	lib.params.kubernetesMinor >= 35
	v := {
		"msg": sprintf("kube-proxy runs in ipvs mode, which Kubernetes deprecated in 1.35 (KEP-5495) and no longer fixes; this cluster runs 1.%d", [lib.params.kubernetesMinor]),
		"path": path,
		"fix": "set mode: nftables through the kube-proxy add-on configuration (the add-on overwrites edits of this ConfigMap) and restart kube-proxy",
	}
}

fix := "set mode: nftables through the kube-proxy add-on configuration (the add-on overwrites edits of this ConfigMap), then restart kube-proxy" if prefer == "nftables"

else := "set mode: ipvs with ipvs: {scheduler: rr} through the kube-proxy add-on configuration (the add-on overwrites edits of this ConfigMap); load the ip_vs, ip_vs_rr and nf_conntrack kernel modules on the nodes, then restart kube-proxy"
