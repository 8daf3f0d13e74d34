# METADATA
# title: GenAI namespaces deny ingress by default
# description: |
#   Kubernetes lets every pod talk to every other pod until a NetworkPolicy selects it.
#   A GenAI namespace holds model servers, vector databases and training jobs whose GPU
#   time and data are expensive to expose: any compromised or misconfigured pod of the
#   cluster can then query a model or exfiltrate embeddings, and allow policies for a
#   few apps leave all the others open. Each GenAI namespace needs a default-deny
#   ingress NetworkPolicy (podSelector {}, policyTypes [Ingress], no ingress rules) with
#   explicit allow policies on top. kgate cannot create it (a webhook only changes the
#   object under review), so it warns when a workload is created in a namespace without
#   one, reports Namespaces without one, and rejects deleting that policy or updating it
#   so that it no longer denies, unless another default-deny policy remains.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#netpol-001
# custom:
#   id: NETPOL-001
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet, Namespace, NetworkPolicy]
#   default_action: warn
#   why: |
#     Until a NetworkPolicy selects a pod, every pod of the cluster can reach it. In a GenAI
#     namespace that exposes model servers, vector databases and training workers to any
#     compromised or misconfigured pod: GPU time can be used without being metered and
#     embeddings can leave the cluster. A default-deny ingress policy makes every allowed flow
#     an explicit decision.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: vectordb, namespace: genai}
#       spec:
#         selector: {matchLabels: {app: vectordb}}
#         template:
#           metadata: {labels: {app: vectordb}}
#           spec:
#             containers:
#             - name: qdrant
#               image: qdrant/qdrant:v1.12.0
#               resources: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 2Gi}}
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: NetworkPolicy
#       metadata: {name: default-deny-ingress, namespace: genai}
#       spec:
#         podSelector: {}
#         policyTypes: [Ingress]
#       ---
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: vectordb, namespace: genai}
#       spec:
#         selector: {matchLabels: {app: vectordb}}
#         template:
#           metadata: {labels: {app: vectordb}}
#           spec:
#             containers:
#             - name: qdrant
#               image: qdrant/qdrant:v1.12.0
#               resources: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 2Gi}}
#   referential: true
#   inventory: [NetworkPolicy]
#   params:
#     defaultDenyName: default-deny-ingress
#     protectDelete: true
#   schema:
#     defaultDenyName: {type: string, description: "name of the default-deny ingress policy"}
#     protectDelete: {type: boolean, description: "deny deleting the default-deny policy"}
package kgate.rules.netpol.namespace_default_deny_ingress

import data.kgate.lib
import data.kgate.lib.netpol
import data.kgate.lib.pods

applies if workload

applies if namespace_object

applies if guarded_change

# workload: a pod-bearing object in a GenAI namespace.
workload if {
	lib.pod_bearing
	lib.genai_namespace
}

# namespace_object: a Namespace that is itself a GenAI namespace.
namespace_object if {
	lib.kind == "Namespace"
	ns := lib.obj.metadata.name
	not ns in lib.params.exemptNamespaces
}

# guarded_change: DELETE or UPDATE of a default-deny-ingress policy of a GenAI namespace.
guarded_change if {
	lib.kind == "NetworkPolicy"
	lib.genai_namespace
	input.operation in {"DELETE", "UPDATE"}
	netpol.default_deny_ingress(input.oldObject)
}

violation contains v if {
	workload
	not netpol.protected(lib.namespace)
	v := {
		"msg": sprintf("namespace %q has no default-deny ingress NetworkPolicy, so the pods of %s accept traffic from any pod or address", [lib.namespace, pods.object_ref]),
		"path": namespace_path,
		"fix": fix(lib.namespace),
		"action": "warn",
	}
}

violation contains v if {
	namespace_object
	ns := lib.obj.metadata.name
	not netpol.protected(ns)
	v := {
		"msg": sprintf("namespace %q has no default-deny ingress NetworkPolicy", [ns]),
		"path": "/metadata/name",
		"fix": fix(ns),
		"action": "audit",
	}
}

violation contains v if {
	guarded_change
	input.operation == "DELETE"
	lib.params.protectDelete
	not other_default_deny
	v := {
		"msg": sprintf("deleting NetworkPolicy %q removes the default ingress deny of namespace %q", [input.oldObject.metadata.name, lib.namespace]),
		"path": "/metadata/name",
		"fix": "keep the policy; to open a flow, add an allow policy for the pods that need it",
		"action": "deny",
	}
}

violation contains v if {
	guarded_change
	input.operation == "UPDATE"
	not netpol.default_deny_ingress(lib.obj)
	not other_default_deny
	v := {
		"msg": sprintf("this update makes NetworkPolicy %q stop denying ingress to every pod of namespace %q", [lib.obj.metadata.name, lib.namespace]),
		"path": update_path,
		"fix": "keep podSelector {}, Ingress in policyTypes and no ingress rules; put allow rules into a separate policy",
		"action": "deny",
	}
}

# other_default_deny is true when the namespace keeps another default-deny policy.
other_default_deny if {
	some name, np in netpol.policies(lib.namespace)
	name != input.oldObject.metadata.name
	netpol.default_deny_ingress(np)
}

namespace_path := "/metadata/namespace" if lib.obj.metadata.namespace

else := "/metadata"

update_path := "/spec/ingress" if {
	count(lib.get(lib.obj.spec, "ingress", [])) > 0
} else := "/spec/podSelector" if {
	not netpol.empty_selector(lib.get(lib.obj.spec, "podSelector", {}))
} else := "/spec/policyTypes"

fix(ns) := sprintf(
	"add this NetworkPolicy, then allow the flows each app needs in separate policies: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: %s, namespace: %s}, spec: {podSelector: {}, policyTypes: [Ingress]}}",
	[lib.params.defaultDenyName, ns],
)
