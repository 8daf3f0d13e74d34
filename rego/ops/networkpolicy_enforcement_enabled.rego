# METADATA
# title: NetworkPolicies are enforced by the VPC CNI
# description: |
#   A NetworkPolicy only restricts traffic when the CNI enforces it; with the Amazon VPC
#   CNI that takes two switches, and until both are on every policy is accepted and
#   silently ignored. Reports, while NetworkPolicies exist in GenAI namespaces (the
#   inventory), the ConfigMap kube-system/amazon-vpc-cni without
#   enable-network-policy-controller "true" (the network policy controller) and the
#   DaemonSet kube-system/aws-node whose node agent (container aws-eks-nodeagent or
#   aws-network-policy-agent) is missing or lacks --enable-network-policy=true. With
#   requireStrictMode it also reports aws-node without NETWORK_POLICY_ENFORCING_MODE
#   strict: in the default standard mode new pods accept all traffic until their
#   policies are programmed. Nothing is reported when another enforcing CNI runs
#   (DaemonSets calico-node, cilium or antrea-agent). kube-system is exempt from
#   admission, so the rule looks at these objects deliberately and is audit-only; with
#   the managed add-on, enableNetworkPolicy in the add-on configuration sets both
#   switches. The agent conflicts with the CNI bandwidth plugin, which is configured
#   outside these objects.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#ops-004
# custom:
#   id: OPS-004
#   severity: high
#   kinds: [ConfigMap, DaemonSet]
#   default_action: audit
#   audit_only: true
#   referential: true
#   inventory: [NetworkPolicy, DaemonSet]
#   why: |
#     The default-deny and allow-list policies that isolate model servers, vector
#     databases and training jobs only work if the CNI enforces them. The VPC CNI
#     ships with enforcement off: policies are accepted, listed and reviewed, yet every
#     pod still accepts traffic from everywhere, a gap nobody notices until an
#     incident.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: default-deny-ingress, namespace: genai}
#       spec: {podSelector: {}, policyTypes: [Ingress]}
#       ---
#       apiVersion: v1
#       kind: ConfigMap
#       metadata: {name: amazon-vpc-cni, namespace: kube-system}
#       data: {}
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: default-deny-ingress, namespace: genai}
#       spec: {podSelector: {}, policyTypes: [Ingress]}
#       ---
#       apiVersion: v1
#       kind: ConfigMap
#       metadata: {name: amazon-vpc-cni, namespace: kube-system}
#       data: {enable-network-policy-controller: "true"}
#   params:
#     requireStrictMode: false
#   schema:
#     requireStrictMode: {type: boolean, description: "also require NETWORK_POLICY_ENFORCING_MODE strict on aws-node (new pods start default-deny instead of default-allow)"}
package kgate.rules.ops.networkpolicy_enforcement_enabled

import data.kgate.lib

controller_key := "enable-network-policy-controller"

# The VPC CNI objects, found by kind first so other ConfigMaps and DaemonSets cost one
# comparison.
cni_config_map if {
	lib.kind == "ConfigMap"
	lib.namespace == "kube-system"
	lib.obj.metadata.name == "amazon-vpc-cni"
}

aws_node if {
	lib.kind == "DaemonSet"
	lib.namespace == "kube-system"
	lib.obj.metadata.name == "aws-node"
}

applies if cni_config_map

applies if aws_node

# other_enforcer is true when another CNI that enforces NetworkPolicies runs.
other_enforcers := {"calico-node", "cilium", "antrea-agent"}

other_enforcer if {
	some ns in ["kube-system", "calico-system"]
	some name, _ in object.get(data.inventory, ["namespace", ns, "DaemonSet"], {})
	name in other_enforcers
}

# policies_in_use holds the GenAI namespaces that have NetworkPolicies.
policies_in_use contains ns if {
	some ns, kinds in object.get(data.inventory, "namespace", {})
	not ns in lib.params.exemptNamespaces
	count(object.get(kinds, "NetworkPolicy", {})) > 0
}

in_use := concat(", ", sort([ns | some ns in policies_in_use]))

# relevant is true when enforcement matters: GenAI namespaces have policies and no
# other CNI enforces them.
relevant if {
	count(policies_in_use) > 0
	not other_enforcer
}

# --- ConfigMap amazon-vpc-cni ---

controller_value := lower(object.get(lib.get(lib.obj, "data", {}), controller_key, ""))

violation contains v if {
	cni_config_map
	controller_value != "true"
	relevant
	v := {
		"msg": sprintf("the VPC CNI network policy controller is off (%s is not \"true\"), so the NetworkPolicies of namespaces %s are accepted but not enforced", [controller_key, in_use]),
		"path": controller_path,
		"fix": "set enableNetworkPolicy: \"true\" in the vpc-cni add-on configuration, or enable-network-policy-controller: \"true\" in this ConfigMap and --enable-network-policy=true on the node agent of the aws-node DaemonSet (self-managed)",
	}
}

controller_path := concat("", ["/data/", controller_key]) if object.get(lib.get(lib.obj, "data", {}), controller_key, null) != null

else := "/data" if lib.obj.data != null

else := "/metadata/name"

# --- DaemonSet aws-node ---

agent_names := {"aws-eks-nodeagent", "aws-network-policy-agent"}

# agent is the path of the network policy node agent container.
agent := min(paths) if {
	aws_node
	paths := {p | some p, c in lib.containers; c.name in agent_names}
	count(paths) > 0
}

agent_enabled if {
	some arg in lib.get(lib.containers[agent].container, "args", [])
	regex.match(`^--?enable-network-policy(=(?i:true))?$`, arg)
}

violation contains v if {
	aws_node
	not agent_enabled
	relevant
	v := {
		"msg": sprintf("the aws-node DaemonSet runs %s, so the NetworkPolicies of namespaces %s are not enforced on the nodes", [agent_words, in_use]),
		"path": agent_path,
		"fix": "set enableNetworkPolicy: \"true\" in the vpc-cni add-on configuration (self-managed: --enable-network-policy=true on the node agent container and enable-network-policy-controller: \"true\" in ConfigMap amazon-vpc-cni)",
	}
}

agent_words := "its network policy agent with --enable-network-policy=false" if agent

else := "no network policy agent container"

agent_path := concat("", [agent, "/args"]) if lib.containers[agent].container.args != null

else := agent if agent

else := "/spec/template/spec/containers"

# strict mode: NETWORK_POLICY_ENFORCING_MODE on the aws-node container.
cni := min(paths) if {
	aws_node
	paths := {p | some p, c in lib.containers; c.name == "aws-node"; not c.init}
	count(paths) > 0
}

# enforcing_mode is NETWORK_POLICY_ENFORCING_MODE of the aws-node container (the
# last entry wins, as in the kubelet), standard when unset.
modes := [lower(e.value) |
	some e in lib.get(lib.containers[cni].container, "env", [])
	e.name == "NETWORK_POLICY_ENFORCING_MODE"
	is_string(e.value)
]

enforcing_mode := modes[count(modes) - 1] if count(modes) > 0

else := "standard"

violation contains v if {
	aws_node
	lib.params.requireStrictMode
	cni
	enforcing_mode != "strict"
	not other_enforcer
	v := {
		"msg": sprintf("the VPC CNI enforces NetworkPolicies in %s mode: a new pod accepts all traffic until its policies are programmed", [enforcing_mode]),
		"path": strict_path,
		"fix": "set NETWORK_POLICY_ENFORCING_MODE=strict on the aws-node container (vpc-cni add-on configuration env), and make sure every pod, CoreDNS included, has the policies it needs: strict mode starts new pods default-deny",
	}
}

strict_path := concat("", [cni, "/env"]) if lib.containers[cni].container.env != null

else := cni
