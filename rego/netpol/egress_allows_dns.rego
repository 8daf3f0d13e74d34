# METADATA
# title: Egress-restricting NetworkPolicies keep DNS open
# description: |
#   Warns about a NetworkPolicy of a GenAI namespace that restricts egress (Egress in
#   its effective policyTypes, written or implied by egress rules) when neither it nor
#   another cached policy of the namespace that selects at least the same pods (and also
#   restricts egress) allows DNS over both UDP and TCP port 53: to the cluster DNS pods
#   (dnsPodLabels in namespace dnsNamespace, matched through namespaceSelector and
#   podSelector; the namespace's kubernetes.io/metadata.name label and, when cached, its
#   other labels count), to every destination, or by ipBlock to the NodeLocal DNSCache
#   address nodeLocalDnsIp. Another policy covers this one when its podSelector's
#   constraints are among this one's. Adding an allow rule to the user's policy would
#   widen it silently, so nothing is changed; the fix suggests a namespace-wide
#   allow-dns-egress policy.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#netpol-004
# custom:
#   id: NETPOL-004
#   severity: medium
#   kinds: [NetworkPolicy]
#   default_action: warn
#   referential: true
#   inventory: [NetworkPolicy, Namespace]
#   why: |
#     Once a NetworkPolicy restricts a pod's egress, everything not explicitly allowed
#     is dropped, including the DNS queries to CoreDNS in kube-system. The pod can then
#     resolve no Service name (qdrant, rag-app, the model endpoint) or external API, and
#     the application fails with timeouts that look like network outages. DNS uses UDP
#     port 53 and falls back to TCP for large answers, so both must stay open.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: rag-app-egress, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         policyTypes: [Egress]
#         egress:
#         - to: [{podSelector: {matchLabels: {app.kubernetes.io/name: qdrant}}}]
#           ports: [{protocol: TCP, port: 6333}]
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: allow-dns-egress, namespace: genai}
#       spec:
#         podSelector: {}
#         policyTypes: [Egress]
#         egress:
#         - to:
#           - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
#             podSelector: {matchLabels: {k8s-app: kube-dns}}
#           ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
#       ---
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: rag-app-egress, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         policyTypes: [Egress]
#         egress:
#         - to: [{podSelector: {matchLabels: {app.kubernetes.io/name: qdrant}}}]
#           ports: [{protocol: TCP, port: 6333}]
#   params:
#     dnsNamespace: kube-system
#     dnsPodLabels: {k8s-app: kube-dns}
#     nodeLocalDnsIp: 169.254.20.10
#   schema:
#     dnsNamespace: {type: string, description: "namespace of the cluster DNS pods (CoreDNS)"}
#     dnsPodLabels: {type: object, additionalProperties: {type: string}, description: "labels of the cluster DNS pods (CoreDNS on EKS: k8s-app: kube-dns)"}
#     nodeLocalDnsIp: {type: string, description: "address pods query with NodeLocal DNSCache; an ipBlock containing it allows DNS (empty: none)"}
package kgate.rules.netpol.egress_allows_dns

import data.kgate.lib
import data.kgate.lib.netpol
import data.kgate.lib.netpol_peers as peers

applies if {
	lib.kind == "NetworkPolicy"
	lib.genai_namespace
	is_object(lib.obj.spec)
	restricts_egress(lib.obj.spec)
}

restricts_egress(spec) if "Egress" in netpol.policy_types(spec)

name := lib.get(lib.obj.metadata, "name", "")

selector := lib.get(lib.obj.spec, "podSelector", {})

protocols := ["UDP", "TCP"]

# open holds the protocols on which DNS is allowed to the pods of this policy: by the
# policy itself or by another restricting policy of the namespace that selects them.
open contains proto if {
	applies
	some proto in protocols
	allows_dns(lib.obj.spec, proto)
}

open contains proto if {
	applies
	some other, np in netpol.policies(lib.namespace)
	other != name
	spec := np.spec
	restricts_egress(spec)
	peers.covers(lib.get(spec, "podSelector", {}), selector)
	some proto in protocols
	allows_dns(spec, proto)
}

blocked := [proto | some proto in protocols; not open[proto]]

violation contains v if {
	applies
	count(blocked) > 0
	v := {
		"msg": sprintf("NetworkPolicy %q restricts egress of %s, but no policy of namespace %q that selects them allows DNS over %s port 53 to %s: name lookups fail", [name, pods_text, lib.namespace, concat(" and ", blocked), dns_text]),
		"path": finding_path,
		"fix": sprintf("add a namespace-wide policy: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: allow-dns-egress, namespace: %s}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}, podSelector: {matchLabels: %s}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]}}", [lib.namespace, lib.params.dnsNamespace, labels_text]),
	}
}

pods_text := "every pod of the namespace" if netpol.empty_selector(selector)

else := "the pods it selects"

dns_text := sprintf("%s pods in %s", [labels_text, lib.params.dnsNamespace])

labels_text := sprintf("{%s}", [concat(", ", [sprintf("%s: %s", [k, v]) | some k, v in lib.params.dnsPodLabels])])

finding_path := "/spec/egress" if count(lib.get(lib.obj.spec, "egress", [])) > 0

else := "/spec/policyTypes" if lib.obj.spec.policyTypes

else := "/spec"

# --- does a policy spec allow DNS over proto? ---

allows_dns(spec, proto) if {
	some rule in lib.get(spec, "egress", [])
	port_open(lib.get(rule, "ports", []), proto)
	reaches_dns(lib.get(rule, "to", []))
}

# An omitted or empty ports list allows every port.
port_open(ports, _) if count(ports) == 0

port_open(ports, proto) if {
	some p in ports
	lib.get(p, "protocol", "TCP") == proto
	port_matches(p, proto)
}

# A ports entry without port allows every port of its protocol.
port_matches(p, _) if lib.get(p, "port", null) == null

port_matches(p, _) if p.port == 53

port_matches(p, _) if {
	is_number(p.port)
	p.port <= 53
	53 <= lib.get(p, "endPort", 0)
}

# Named ports of the CoreDNS container on EKS: dns (UDP 53), dns-tcp (TCP 53).
port_matches(p, "UDP") if p.port == "dns"

port_matches(p, "TCP") if p.port == "dns-tcp"

# An omitted or empty to list allows every destination.
reaches_dns(to) if count(to) == 0

reaches_dns(to) if {
	some peer in to
	peer_reaches_dns(peer)
}

peer_reaches_dns(peer) if {
	"namespaceSelector" in object.keys(peer)
	peers.matches(peer.namespaceSelector, dns_namespace_labels)
	peers.matches(object.get(peer, "podSelector", null), lib.params.dnsPodLabels)
}

# A podSelector alone selects pods of the policy's own namespace.
peer_reaches_dns(peer) if {
	not "namespaceSelector" in object.keys(peer)
	"podSelector" in object.keys(peer)
	lib.namespace == lib.params.dnsNamespace
	peers.matches(peer.podSelector, lib.params.dnsPodLabels)
}

peer_reaches_dns(peer) if {
	cidr := peer.ipBlock.cidr
	endswith(cidr, "/0")
}

peer_reaches_dns(peer) if {
	ip := lib.params.nodeLocalDnsIp
	ip != ""
	cidr := peer.ipBlock.cidr
	net.cidr_contains(cidr, ip)
	not excepted(peer.ipBlock, ip)
}

excepted(block, ip) if {
	some e in lib.get(block, "except", [])
	net.cidr_contains(e, ip)
}

# The labels of the DNS namespace: its automatic name label, and its other labels when
# the Namespace is cached.
dns_namespace_labels := object.union(
	lib.get(object.get(data.inventory, ["cluster", "Namespace", lib.params.dnsNamespace, "metadata"], {}), "labels", {}),
	{"kubernetes.io/metadata.name": lib.params.dnsNamespace},
)
