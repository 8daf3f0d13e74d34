# METADATA
# title: NetworkPolicy ingress rules name their ports
# description: |
#   Warns, for NetworkPolicies in GenAI namespaces that apply to ingress, about every
#   ingress rule without ports (an omitted or empty list opens every port to the
#   rule's sources) and every ports entry without a port (it opens every port of its
#   protocol). Named ports (port: http) and ranges (endPort) are accepted; ranges need a
#   CNI that supports them. Nothing is changed.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#netpol-003
# custom:
#   id: NETPOL-003
#   severity: medium
#   kinds: [NetworkPolicy]
#   default_action: warn
#   why: |
#     An allow rule without ports lets its clients reach every port of the selected
#     pods: admin, metrics and debug endpoints of model servers and vector databases
#     included, not just the API they need (the chatbot example needs HTTP on 80 for
#     the RAG app and the model, 6333 for Qdrant). Listing the protocol and port keeps
#     each flow to the one service it is meant for.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: rag-app-ingress-policy, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         policyTypes: [Ingress]
#         ingress:
#         - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: chatbot-ui}}}]
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: rag-app-ingress-policy, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         policyTypes: [Ingress]
#         ingress:
#         - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: chatbot-ui}}}]
#           ports: [{protocol: TCP, port: 80}]
package kgate.rules.netpol.ingress_rules_specify_ports

import data.kgate.lib
import data.kgate.lib.netpol

# applies: a NetworkPolicy of a GenAI namespace that applies to ingress and has ingress
# rules (ingress rules of a policy whose policyTypes leave out Ingress are ignored).
applies if {
	lib.kind == "NetworkPolicy"
	lib.genai_namespace
	is_object(lib.obj.spec)
	"Ingress" in netpol.policy_types(lib.obj.spec)
	count(ingress) > 0
}

ingress := [r | some r in lib.get(lib.obj.spec, "ingress", [])]

name := lib.get(lib.obj.metadata, "name", "")

violation contains v if {
	applies
	some i, rule in ingress
	netpol.size(lib.get(rule, "ports", [])) == 0
	v := {
		"msg": sprintf("NetworkPolicy %q ingress rule %d names no ports, so %s may connect to every port of the selected pods", [name, i, sources(rule)]),
		"path": sprintf("/spec/ingress/%d", [i]),
		"fix": "add ports with the protocol and port each source needs, e.g. ports: [{protocol: TCP, port: 80}]",
	}
}

violation contains v if {
	applies
	some i, rule in ingress
	some j, p in lib.get(rule, "ports", [])
	lib.get(p, "port", null) == null
	v := {
		"msg": sprintf("NetworkPolicy %q ingress rule %d allows every %s port (ports entry %d has no port)", [name, i, lib.get(p, "protocol", "TCP"), j]),
		"path": sprintf("/spec/ingress/%d/ports/%d", [i, j]),
		"fix": "set port (a number or a named container port) on the entry, with endPort for a range",
	}
}

sources(rule) := "its sources" if netpol.size(lib.get(rule, "from", [])) > 0

else := "every source"
