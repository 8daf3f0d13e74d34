# METADATA
# title: In-cluster components are exposed as ClusterIP, not LoadBalancer or NodePort
# description: |
#   Components that only other Pods call, such as the vector database (qdrant), the RAG
#   API and the fine-tuned model server behind it, need a ClusterIP Service: a
#   LoadBalancer Service gives them their own AWS load balancer (billed per hour and per
#   LCU, reachable from the whole VPC or the internet) and, unless
#   allocateLoadBalancerNodePorts is false, a port on every node; a NodePort Service
#   opens a port on every node. A Service whose selector names a component listed in
#   internalOnlyNames (by the label keys internalOnlyLabelKeys, app.kubernetes.io/name
#   and app) is rejected when it is of type LoadBalancer or NodePort, unless the
#   selector also names one of publicEntryPoints (the UI users reach). An UPDATE of a
#   Service that was already exposed that way is only warned, since switching it to
#   ClusterIP deletes a load balancer its clients may still use. Any other NodePort
#   Service in a GenAI namespace is warned. LoadBalancer Services of a class other than
#   the AWS Load Balancer Controller's (MetalLB, Cilium, ...) and ExternalName Services
#   are out of scope.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-007
# custom:
#   id: NET-007
#   severity: high
#   kinds: [Service]
#   default_action: deny
#   why: |
#     A vector database or model server that only in-cluster Pods call gains nothing
#     from a load balancer: it adds an NLB or CLB billed around the clock, exposes the
#     embeddings or the model to every client that can reach the load balancer (the
#     whole VPC, or the internet when the scheme is internet-facing), and opens a
#     NodePort on every node. A ClusterIP Service gives Pods a stable name
#     (qdrant.genai.svc) and keeps the traffic inside the cluster, where NetworkPolicies
#     decide who may call it. Only the entry point users reach (the chatbot UI) needs
#     to be exposed, preferably through one shared Ingress.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata: {name: qdrant, namespace: genai}
#       spec:
#         type: LoadBalancer
#         selector: {app.kubernetes.io/name: qdrant}
#         ports: [{name: http, port: 6333, targetPort: 6333, protocol: TCP}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata: {name: qdrant, namespace: genai}
#       spec:
#         type: ClusterIP
#         selector: {app.kubernetes.io/name: qdrant}
#         ports: [{name: http, port: 6333, targetPort: 6333, protocol: TCP}]
#         trafficDistribution: PreferSameZone
#   params:
#     internalOnlyNames: [qdrant, rag-app, my-llama-finetuned]
#     publicEntryPoints: [chatbot-ui]
#     internalOnlyLabelKeys: [app.kubernetes.io/name, app]
#   schema:
#     internalOnlyNames: {type: array, items: {type: string}, description: "components (values of internalOnlyLabelKeys in a Service selector) that only in-cluster clients call and that must not get a LoadBalancer or NodePort Service"}
#     publicEntryPoints: {type: array, items: {type: string}, description: "components that users reach from outside the cluster; a selector naming one is never taken as internal-only"}
#     internalOnlyLabelKeys: {type: array, items: {type: string}, description: "selector label keys whose values name the component (for internalOnlyNames and publicEntryPoints)"}
package kgate.rules.network.internal_services_clusterip

import data.kgate.lib
import data.kgate.lib.network

exposed_types := {"LoadBalancer", "NodePort"}

name := lib.obj.metadata.name

type := object.get(lib.obj, ["spec", "type"], "ClusterIP")

selector := lib.get(lib.obj.spec, "selector", {})

applies if {
	lib.kind == "Service"
	input.operation in {"CREATE", "UPDATE", "AUDIT"}
	not lib.exempt_namespace
	type != "ExternalName"
	not foreign_load_balancer
}

# A LoadBalancer Service of another implementation (MetalLB, Cilium, ...).
foreign_load_balancer if {
	type == "LoadBalancer"
	network.service_class
	not network.service_class in lib.params.lbcLoadBalancerClasses
}

# internal_components are the internal-only components the selector names.
internal_components := {v |
	some key in lib.params.internalOnlyLabelKeys
	v := selector[key]
	v in lib.params.internalOnlyNames
}

public_entry_point if {
	some key in lib.params.internalOnlyLabelKeys
	selector[key] in lib.params.publicEntryPoints
}

internal_only if {
	count(internal_components) > 0
	not public_entry_point
}

# already_exposed: an UPDATE of a Service that already exposed an internal-only
# component; switching it to ClusterIP deletes its load balancer, a human decision.
already_exposed if {
	lib.updating
	input.oldObject.spec.type in exposed_types
	some key in lib.params.internalOnlyLabelKeys
	lib.get(input.oldObject.spec, "selector", {})[key] in internal_components
}

components := concat(", ", sort(internal_components))

exposure := "its own load balancer and a NodePort on every node" if {
	type == "LoadBalancer"
	object.get(lib.obj, ["spec", "allocateLoadBalancerNodePorts"], true) != false
} else := "its own load balancer" if {
	type == "LoadBalancer"
} else := "a port on every node"

violation contains v if {
	applies
	type in exposed_types
	internal_only
	v := {
		"msg": sprintf("Service %q of type %s gives %s, which only in-cluster clients call, %s", [name, type, components, exposure]),
		"path": "/spec/type",
		"fix": fix,
		"action": action,
	}
}

violation contains v if {
	applies
	type == "NodePort"
	not internal_only
	v := {
		"msg": sprintf("Service %q is of type NodePort: it opens its ports on every node of the cluster", [name]),
		"path": "/spec/type",
		"fix": "use type ClusterIP for in-cluster clients, and a LoadBalancer Service with ip targets or an Ingress for clients outside the cluster",
		"action": "warn",
	}
}

fix := sprintf("set spec.type: ClusterIP (Pods reach it as %s.%s.svc); if clients outside the cluster must reach it, list it in publicEntryPoints", [name, lib.namespace]) if {
	not already_exposed
} else := sprintf("switch spec.type to ClusterIP once no client outside the cluster uses the load balancer (the change deletes it; Pods reach the Service as %s.%s.svc)", [name, lib.namespace])

action := "warn" if already_exposed

else := "deny"
