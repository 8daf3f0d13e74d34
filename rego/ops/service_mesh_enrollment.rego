# METADATA
# title: Sensitive GenAI namespaces are enrolled in the service mesh (opt-in)
# description: |
#   A service mesh (Istio sidecars, Istio ambient, Linkerd) adds mTLS between pods,
#   retries and L7 routing on top of NetworkPolicies. The rule is off by default: with
#   requireMesh every GenAI Namespace must be enrolled, and a single Namespace opts in
#   with the label kgate.dev/require-mesh: "true" (and out of a cluster-wide
#   requireMesh with "false"), for namespaces that handle sensitive prompts. While it
#   is off it reports nothing and no Namespace is in its scope. Enrolled means the
#   label istio-injection: enabled or istio.io/rev (Istio sidecars, unless
#   istio-injection is disabled), the label istio.io/dataplane-mode: ambient (Istio
#   ambient) or the annotation linkerd.io/inject: enabled (Linkerd); meshFlavor
#   restricts which counts. Audit-only: enrolling restarts workloads into a new data
#   path and adds per-pod sidecars (list them in ignoredContainers for COMPUTE-001) or
#   needs ztunnel (ambient), and mesh ports must stay open in NetworkPolicies
#   (NETPOL-005), so kgate does not label Namespaces itself.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#ops-005
# custom:
#   id: OPS-005
#   severity: low
#   kinds: [Namespace]
#   default_action: audit
#   audit_only: true
#   why: |
#     Prompts, retrieved documents and model answers cross the network between the UI,
#     the RAG service, the vector database and the model server in plain text unless
#     something encrypts them. A mesh gives every pod an identity and mutual TLS
#     without code changes, and lets policies say which service may call which, which
#     NetworkPolicies (IP and port based) cannot.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true", kgate.dev/require-mesh: "true"}
#     good: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true", kgate.dev/require-mesh: "true", istio.io/dataplane-mode: ambient}
#   params:
#     requireMesh: false
#     meshFlavor: any
#   schema:
#     requireMesh: {type: boolean, description: "require every GenAI Namespace to be enrolled in the service mesh (off: only Namespaces labelled kgate.dev/require-mesh=true are checked)"}
#     meshFlavor: {enum: [any, istio-sidecar, istio-ambient, linkerd], description: "the mesh enrollment that counts (any: Istio sidecars, Istio ambient or Linkerd)"}
package kgate.rules.ops.service_mesh_enrollment

import data.kgate.lib

opt_in_label := "kgate.dev/require-mesh"

# A GenAI Namespace (not exempt) in the rule's scope: every one with requireMesh, and
# those that opt in themselves. A Namespace's own name is its namespace.
applies if {
	lib.kind == "Namespace"
	not lib.obj.metadata.name in lib.params.exemptNamespaces
	required
}

required if lower(lib.labels[opt_in_label]) == "true"

required if {
	lib.params.requireMesh == true
	not opted_out
}

opted_out if lower(lib.labels[opt_in_label]) == "false"

# enrolled holds the mesh flavors the Namespace is enrolled in.
enrolled contains "istio-sidecar" if lib.labels["istio-injection"] == "enabled"

enrolled contains "istio-sidecar" if {
	lib.labels["istio.io/rev"]
	not lib.labels["istio-injection"] == "disabled"
}

enrolled contains "istio-ambient" if lib.labels["istio.io/dataplane-mode"] == "ambient"

enrolled contains "linkerd" if lib.annotations["linkerd.io/inject"] == "enabled"

flavor := lib.params.meshFlavor

enrolled_as_wanted if {
	flavor == "any"
	count(enrolled) > 0
}

enrolled_as_wanted if enrolled[flavor]

violation contains v if {
	applies
	not enrolled_as_wanted
	v := {
		"msg": msg,
		"path": path,
		"fix": fix,
	}
}

msg := sprintf("namespace %q must be in the service mesh (%s) but is not enrolled: its pods talk without mutual TLS or service identity", [lib.obj.metadata.name, reason]) if count(enrolled) == 0

else := sprintf("namespace %q is enrolled as %s, but meshFlavor requires %s", [lib.obj.metadata.name, concat(", ", sort([f | some f in enrolled])), flavor])

reason := sprintf("label %s", [opt_in_label]) if lower(lib.labels[opt_in_label]) == "true"

else := "requireMesh"

path := "/metadata/labels" if lib.obj.metadata.labels != null

else := "/metadata"

enrollment := {
	"istio-sidecar": "label the namespace istio-injection=enabled (or istio.io/rev=<revision>)",
	"istio-ambient": "label the namespace istio.io/dataplane-mode=ambient (ztunnel must run on the nodes)",
	"linkerd": "annotate the namespace linkerd.io/inject=enabled",
}

fix := sprintf("%s, then restart its workloads (injection happens when pods are created); sidecars add CPU and memory per pod (list them in ignoredContainers), and NetworkPolicies must allow the mesh ports (NETPOL-005)", [enrollment[flavor]]) if flavor != "any"

else := "label the namespace istio.io/dataplane-mode=ambient (Istio ambient, needs ztunnel) or istio-injection=enabled (Istio sidecars), or annotate it linkerd.io/inject=enabled (Linkerd), then restart its workloads (injection happens when pods are created); sidecars add CPU and memory per pod (list them in ignoredContainers), and NetworkPolicies must allow the mesh ports (NETPOL-005)"
