# METADATA
# title: GenAI components accept only their reference flows
# description: |
#   Enforces the chatbot reference architecture: which component may reach which
#   protected component, on which ports (allowedFlows; by default chatbot-ui to rag-app
#   and my-llama-finetuned on TCP/80, rag-app to qdrant on TCP/6333). Components are
#   named by the pod label referenceFlowLabel (app.kubernetes.io/name).
#   (a) A NetworkPolicy of a GenAI namespace whose podSelector names a protected
#   component (matchLabels or an expression on the label) and that allows ingress from
#   a source or on a port not in allowedFlows for it is rejected: a rule without from or
#   ports, a source that is not a same-namespace podSelector naming allowed components
#   (ipBlock, other namespaces, unnamed pods), or a port not listed as "PROTOCOL/port".
#   Policies that select pods without naming a component are not judged here.
#   (b) A workload of a GenAI namespace whose pods carry a protected name and that no
#   cached ingress NetworkPolicy of the namespace selects is warned at CREATE and
#   reported (audit) otherwise.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#netpol-005
# custom:
#   id: NETPOL-005
#   severity: high
#   kinds: [NetworkPolicy, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   referential: true
#   inventory: [NetworkPolicy]
#   why: |
#     In the chatbot architecture only the UI talks to the RAG app and the fine-tuned
#     model (HTTP on port 80), and only the RAG app talks to the Qdrant vector database
#     (port 6333). Any other path lets a compromised or misconfigured pod query the
#     model on your GPUs or read and overwrite the embeddings that hold your documents.
#     Pinning each protected component to its reference flows keeps that segmentation
#     from eroding one convenient policy at a time.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: qdrant-ingress, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: qdrant}}
#         policyTypes: [Ingress]
#         ingress:
#         - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: chatbot-ui}}}]
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: qdrant-ingress-policy, namespace: genai}
#       spec:
#         podSelector: {matchLabels: {app.kubernetes.io/name: qdrant}}
#         policyTypes: [Ingress]
#         ingress:
#         - from: [{podSelector: {matchLabels: {app.kubernetes.io/name: rag-app}}}]
#           ports: [{protocol: TCP, port: 6333}]
#   params:
#     allowedFlows:
#     - {to: rag-app, from: chatbot-ui, ports: ["TCP/80"]}
#     - {to: my-llama-finetuned, from: chatbot-ui, ports: ["TCP/80"]}
#     - {to: qdrant, from: rag-app, ports: ["TCP/6333"]}
#     protectedNames: [rag-app, my-llama-finetuned, qdrant]
#     referenceFlowLabel: app.kubernetes.io/name
#   schema:
#     allowedFlows: {type: array, items: {type: object, required: [to, from, ports], additionalProperties: false, properties: {to: {type: string}, from: {type: string}, ports: {type: array, items: {type: string, pattern: "^(TCP|UDP|SCTP)/[0-9A-Za-z-]+(-[0-9]+)?$"}}}}, description: "ingress flows allowed to protected components: source and destination names (referenceFlowLabel values) and ports as PROTOCOL/port or PROTOCOL/port-endPort"}
#     protectedNames: {type: array, items: {type: string}, description: "components (referenceFlowLabel values) whose ingress is limited to allowedFlows"}
#     referenceFlowLabel: {type: string, description: "pod label that names a component"}
package kgate.rules.netpol.genai_reference_flows

import data.kgate.lib
import data.kgate.lib.netpol
import data.kgate.lib.netpol_peers as peers

label := lib.params.referenceFlowLabel

protected := {n | some n in lib.params.protectedNames}

applies if count(targets) > 0

applies if count(workload_templates) > 0

name := lib.get(lib.obj.metadata, "name", "")

# --- (a) NetworkPolicies of protected components ---

# targets are the protected components a NetworkPolicy of a GenAI namespace selects by
# name and restricts on ingress.
targets contains n if {
	lib.kind == "NetworkPolicy"
	lib.genai_namespace
	is_object(lib.obj.spec)
	"Ingress" in netpol.policy_types(lib.obj.spec)
	sel := lib.get(lib.obj.spec, "podSelector", {})
	names_component(sel)
	some n in protected
	name_passes(sel, n)
}

# names_component: the selector constrains the component label.
names_component(sel) if is_string(sel.matchLabels[label])

names_component(sel) if {
	some e in sel.matchExpressions
	e.key == label
}

# name_passes: a pod named n passes the selector's constraints on the component label
# (its other constraints only narrow which of n's pods are selected).
name_passes(sel, n) if {
	lib.get(lib.get(sel, "matchLabels", {}), label, n) == n
	every e in [e | some e in lib.get(sel, "matchExpressions", []); e.key == label] {
		peers.expression_matches(e, {label: n})
	}
}

ingress := [r | some r in lib.get(lib.obj.spec, "ingress", [])]

flows_to(to) := [f | some f in lib.params.allowedFlows; f.to == to]

allowed_sources(to) := {f.from | some f in flows_to(to)}

allowed_ports(to, from) := {p | some f in flows_to(to); f.from == from; some p in f.ports}

allowed_text(to) := concat("; ", sort([sprintf("from %s on %s", [f.from, concat(", ", f.ports)]) | some f in flows_to(to)])) if {
	count(flows_to(to)) > 0
} else := "none"

policy_ref := sprintf("NetworkPolicy %q", [name])

violation contains v if {
	some to in targets
	some i, rule in ingress
	netpol.size(lib.get(rule, "from", [])) == 0
	v := {
		"msg": sprintf("%s lets every source reach %s (ingress rule %d has no from); allowed flows to %s: %s", [policy_ref, to, i, to, allowed_text(to)]),
		"path": sprintf("/spec/ingress/%d", [i]),
		"fix": fix(to),
	}
}

violation contains v if {
	some to in targets
	some i, rule in ingress
	some j, peer in lib.get(rule, "from", [])
	not peer_names(peer)
	v := {
		"msg": sprintf("%s lets %s reach %s (ingress rule %d, source %d); allowed flows to %s: %s", [policy_ref, peer_text(peer), to, i, j, to, allowed_text(to)]),
		"path": sprintf("/spec/ingress/%d/from/%d", [i, j]),
		"fix": fix(to),
	}
}

violation contains v if {
	some to in targets
	some i, rule in ingress
	some j, peer in lib.get(rule, "from", [])
	some from in peer_names(peer)
	not from in allowed_sources(to)
	v := {
		"msg": sprintf("%s lets %s reach %s (ingress rule %d, source %d), which is not an allowed flow; allowed flows to %s: %s", [policy_ref, from, to, i, j, to, allowed_text(to)]),
		"path": sprintf("/spec/ingress/%d/from/%d", [i, j]),
		"fix": fix(to),
	}
}

# rule_sources are the allowed component names a rule's sources name.
rule_sources(rule, to) := {from |
	some peer in lib.get(rule, "from", [])
	some from in peer_names(peer)
	from in allowed_sources(to)
}

violation contains v if {
	some to in targets
	some i, rule in ingress
	netpol.size(lib.get(rule, "ports", [])) == 0
	some from in rule_sources(rule, to)
	v := {
		"msg": sprintf("%s lets %s reach every port of %s (ingress rule %d has no ports); allowed: %s", [policy_ref, from, to, i, concat(", ", sort(allowed_ports(to, from)))]),
		"path": sprintf("/spec/ingress/%d", [i]),
		"fix": fix(to),
	}
}

violation contains v if {
	some to in targets
	some i, rule in ingress
	some k, p in lib.get(rule, "ports", [])
	port := port_text(p)
	some from in rule_sources(rule, to)
	not port in allowed_ports(to, from)
	v := {
		"msg": sprintf("%s lets %s reach %s on %s (ingress rule %d, port %d), which is not an allowed flow; allowed: %s", [policy_ref, from, to, port, i, k, concat(", ", sort(allowed_ports(to, from)))]),
		"path": sprintf("/spec/ingress/%d/ports/%d", [i, k]),
		"fix": fix(to),
	}
}

# peer_names is the set of component names a source selects: a podSelector of the
# policy's own namespace naming components by matchLabels or an In expression.
# Undefined for any other source (ipBlock, other namespaces, pods without a name
# constraint, NotIn/Exists on the name), which can be anyone.
peer_names(peer) := names if {
	not peer.ipBlock
	same_namespace(peer)
	sel := peer.podSelector
	is_object(sel)
	exprs := [e | some e in lib.get(sel, "matchExpressions", []); e.key == label]
	every e in exprs {
		e.operator == "In"
	}
	sets := array.concat(
		[{sel.matchLabels[label]} | is_string(lib.get(sel, "matchLabels", {})[label])],
		[{x | some x in e.values} | some e in exprs],
	)
	count(sets) > 0
	names := intersection({s | some s in sets})
}

same_namespace(peer) if not "namespaceSelector" in object.keys(peer)

# A namespaceSelector that names exactly the policy's namespace.
same_namespace(peer) if {
	peer.namespaceSelector == {"matchLabels": {"kubernetes.io/metadata.name": lib.namespace}}
}

peer_text(peer) := sprintf("ipBlock %s", [peer.ipBlock.cidr]) if {
	peer.ipBlock
} else := "pods of other namespaces" if {
	not same_namespace(peer)
} else := sprintf("pods that are not named by %s", [label])

port_text(p) := sprintf("%s/%v-%v", [lib.get(p, "protocol", "TCP"), lib.get(p, "port", "*"), p.endPort]) if {
	p.endPort
} else := sprintf("%s/%v", [lib.get(p, "protocol", "TCP"), lib.get(p, "port", "*")])

fix(to) := sprintf("limit ingress to %s to its reference flows (%s), naming each source by a podSelector on %s and listing its ports; or add the flow to allowedFlows", [to, allowed_text(to), label])

# --- (b) protected workloads without an ingress policy ---

workload_templates contains tp if {
	lib.pod_bearing
	lib.genai_namespace
	some tp, t in lib.pod_templates
	lib.get(lib.get(t.meta, "labels", {}), label, "") in protected
}

pod_labels(tp) := lib.get(lib.pod_templates[tp].meta, "labels", {})

# isolated: a cached NetworkPolicy of the namespace that applies to ingress selects the
# pods.
isolated(tp) if {
	some np in netpol.policies(lib.namespace)
	spec := np.spec
	"Ingress" in netpol.policy_types(spec)
	peers.matches(lib.get(spec, "podSelector", {}), pod_labels(tp))
}

violation contains v if {
	some tp in workload_templates
	not isolated(tp)
	component := pod_labels(tp)[label]
	v := {
		"msg": sprintf("%s runs %s pods, a protected component, but no NetworkPolicy of namespace %q selects them for ingress: any pod can reach them", [workload_ref, component, lib.namespace]),
		"path": concat("", [tp_meta(tp), "/labels"]),
		"fix": sprintf("add an ingress NetworkPolicy with podSelector {matchLabels: {%s: %s}} that allows only its reference flows (%s)", [label, component, allowed_text(component)]),
		"action": workload_action,
	}
}

workload_ref := sprintf("%s %q", [lib.kind, name])

# tp_meta is the path of the metadata of template tp (/metadata for a Pod).
tp_meta(tp) := "/metadata" if tp == "/spec"

else := concat("", [trim_suffix(tp, "/spec"), "/metadata"])

workload_action := "warn" if input.operation == "CREATE"

else := "audit"
