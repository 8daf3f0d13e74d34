# METADATA
# title: NetworkPolicies do not allow all ingress
# description: |
#   An allow-all ingress rule undoes the namespace's default deny for the pods it
#   selects: model servers, vector databases and training workers become reachable from
#   every pod of the cluster or from any address, which exposes costly GPU endpoints and
#   their data and invites unmetered use. In a GenAI namespace, a NetworkPolicy is
#   rejected when an ingress rule is empty ({}: all sources, all ports), when a source is
#   ipBlock 0.0.0.0/0 or ::/0, or when a source selects all namespaces
#   (namespaceSelector {}) without narrowing the pods. Namespaces listed in
#   allowAllExceptions (e.g. an ingress controller's) are not checked.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#netpol-002
# custom:
#   id: NETPOL-002
#   severity: high
#   kinds: [NetworkPolicy]
#   default_action: deny
#   why: |
#     One allow-all ingress rule undoes the namespace's default deny for the pods it selects:
#     model servers and vector databases become reachable from every pod of the cluster or from
#     any address. That exposes costly GPU endpoints to unmetered use and their data to
#     exfiltration. Allow only the sources that need the service.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: allow-model, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app: model-server}}
#         policyTypes: [Ingress]
#         ingress:
#         - {}
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: allow-model, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app: model-server}}
#         policyTypes: [Ingress]
#         ingress:
#         - from:
#           - podSelector: {matchLabels: {app: rag-api}}
#           ports: [{port: 8000, protocol: TCP}]
#   params:
#     allowAllExceptions: []
#   schema:
#     allowAllExceptions: {type: array, items: {type: string}, description: "namespaces whose NetworkPolicies may admit all ingress (e.g. an ingress controller)"}
package kgate.rules.netpol.no_allow_all_ingress

import data.kgate.lib
import data.kgate.lib.netpol

applies if {
	lib.kind == "NetworkPolicy"
	lib.genai_namespace
	not lib.namespace in lib.params.allowAllExceptions
	lib.obj.spec
}

ingress := lib.get(lib.obj.spec, "ingress", [])

name := lib.get(lib.obj.metadata, "name", "")

violation contains v if {
	applies
	some i, rule in ingress
	count(lib.get(rule, "from", [])) == 0
	count(lib.get(rule, "ports", [])) == 0
	v := {
		"msg": sprintf("NetworkPolicy %q ingress rule %d allows every source on every port", [name, i]),
		"path": sprintf("/spec/ingress/%d", [i]),
		"fix": "list the allowed sources in from (podSelector / namespaceSelector of the clients) and the ports they use",
	}
}

violation contains v if {
	applies
	some i, rule in ingress
	some j, peer in lib.get(rule, "from", [])
	cidr := peer.ipBlock.cidr
	cidr in {"0.0.0.0/0", "::/0"}
	v := {
		"msg": sprintf("NetworkPolicy %q ingress rule %d allows every address (ipBlock %s)", [name, i, cidr]),
		"path": sprintf("/spec/ingress/%d/from/%d/ipBlock/cidr", [i, j]),
		"fix": "allow only the CIDRs that need access, e.g. the VPC or load-balancer subnets",
	}
}

violation contains v if {
	applies
	some i, rule in ingress
	some j, peer in lib.get(rule, "from", [])
	ns_sel := peer.namespaceSelector
	netpol.empty_selector(ns_sel)
	all_pods(peer)
	v := {
		"msg": sprintf("NetworkPolicy %q ingress rule %d allows every pod of every namespace (namespaceSelector {})", [name, i]),
		"path": sprintf("/spec/ingress/%d/from/%d/namespaceSelector", [i, j]),
		"fix": "select the client namespaces by label (e.g. kubernetes.io/metadata.name) and add a podSelector for the client pods in the same from entry",
	}
}

# all_pods: the peer has no podSelector, or one that selects every pod.
all_pods(peer) if not peer.podSelector

all_pods(peer) if netpol.empty_selector(peer.podSelector)
