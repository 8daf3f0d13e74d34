# METADATA
# title: kgate NetworkPolicy helpers
# description: Shared definitions of the NetworkPolicy rules (catalog section 8).
package kgate.lib.netpol

import data.kgate.lib

# Performance: protected scans the cached NetworkPolicies of a namespace on every
# admission of a workload, so default_deny_ingress reads each policy with builtins
# (object.get with a path) instead of chains of function calls.

# size is count(x), 0 for null (YAML `key:` with no value) as for an absent key.
size(x) := 0 if x == null

else := count(x)

# empty_selector is true for a label selector that selects everything ({}, or no
# matchLabels and no matchExpressions). An omitted podSelector selects every pod.
empty_selector(sel) if not is_object(sel)

empty_selector(sel) if {
	size(object.get(sel, "matchLabels", null)) == 0
	size(object.get(sel, "matchExpressions", null)) == 0
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
# namespace, applies to ingress and allows no ingress traffic. A null or missing
# field counts as empty, as in policy_types and empty_selector (and so does a policy
# that is not an object at all).
default_deny_ingress(np) if not is_object(np)

default_deny_ingress(np) if {
	size(object.get(np, ["spec", "podSelector", "matchLabels"], null)) == 0
	size(object.get(np, ["spec", "podSelector", "matchExpressions"], null)) == 0
	size(object.get(np, ["spec", "ingress"], null)) == 0
	ingress_type(object.get(np, ["spec", "policyTypes"], null))
}

# ingress_type is true when policyTypes (types) include Ingress; omitted or empty
# policyTypes always do (see policy_types).
ingress_type(types) if {
	size(types) > 0
	"Ingress" in types
}

ingress_type(types) if not nonempty(types)

nonempty(x) if size(x) > 0

# policies lists the cached NetworkPolicies of a namespace by name.
policies(ns) := object.get(data.inventory, ["namespace", ns, "NetworkPolicy"], {})

# protected is true when a namespace has a cached default-deny-ingress policy.
protected(ns) if {
	some np in policies(ns)
	default_deny_ingress(np)
}
