# METADATA
# title: kgate NetworkPolicy helpers
# description: Shared definitions of the NetworkPolicy rules (catalog section 8).
package kgate.lib.netpol

import data.kgate.lib

# empty_selector is true for a label selector that selects everything ({}, or no
# matchLabels and no matchExpressions). An omitted podSelector selects every pod.
empty_selector(sel) if {
	count(lib.get(sel, "matchLabels", {})) == 0
	count(lib.get(sel, "matchExpressions", [])) == 0
}

# policy_types are the effective policy types: as written, or, when omitted or empty,
# Ingress plus Egress if the policy has egress rules (the API server's default).
policy_types(spec) := types if {
	types := lib.get(spec, "policyTypes", [])
	count(types) > 0
} else := ["Ingress", "Egress"] if {
	count(lib.get(spec, "egress", [])) > 0
} else := ["Ingress"]

# default_deny_ingress is true for a NetworkPolicy that selects every pod of its
# namespace, applies to ingress and allows no ingress traffic.
default_deny_ingress(np) if {
	spec := lib.get(np, "spec", {})
	empty_selector(lib.get(spec, "podSelector", {}))
	"Ingress" in policy_types(spec)
	count(lib.get(spec, "ingress", [])) == 0
}

# policies lists the cached NetworkPolicies of a namespace by name.
policies(ns) := object.get(data.inventory, ["namespace", ns, "NetworkPolicy"], {})

# protected is true when a namespace has a cached default-deny-ingress policy.
protected(ns) if {
	some np in policies(ns)
	default_deny_ingress(np)
}
