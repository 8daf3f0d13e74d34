# METADATA
# title: Services prefer endpoints in the client's zone
# description: |
#   By default kube-proxy spreads a Service's traffic over all its endpoints, so with
#   three AZs about two thirds of in-cluster calls (UI to RAG app to vector DB to model
#   server) cross an AZ boundary, billed at $0.01/GB in each direction and adding
#   latency. Topology-aware routing keeps traffic in the client's zone. In GenAI
#   namespaces, Services that kube-proxy load-balances (with a selector, not headless,
#   not ExternalName, not internalTrafficPolicy: Local) get the setting the cluster's
#   Kubernetes minor supports: spec.trafficDistribution PreferSameZone (>= 1.34),
#   PreferClose (1.31-1.33) or the annotation service.kubernetes.io/topology-mode: Auto
#   (1.27-1.30). The deprecated service.kubernetes.io/topology-aware-hints annotation is
#   renamed to topology-mode with the same value in GenAI namespaces and warned
#   elsewhere. An explicit topology-mode: Disabled is respected (respectDisabled);
#   Services labelled kgate.dev/role with a value in skipRoles are skipped.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#topo-001
# custom:
#   id: TOPO-001
#   severity: medium
#   kinds: [Service]
#   default_action: mutate
#   why: |
#     Without it, kube-proxy sends about two thirds of in-cluster calls to endpoints in
#     another Availability Zone when a Service spans three zones. Each cross-zone GB is billed
#     $0.01 in each direction and adds latency to every hop of a GenAI request (UI, RAG app,
#     vector database, model server). Keeping traffic in the caller's zone removes that charge.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata: {name: rag-api, namespace: genai}
#       spec:
#         selector: {app: rag-api}
#         ports: [{port: 80, targetPort: 8080}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata: {name: rag-api, namespace: genai}
#       spec:
#         selector: {app: rag-api}
#         ports: [{port: 80, targetPort: 8080}]
#         trafficDistribution: PreferSameZone
#   params:
#     respectDisabled: true
#     skipRoles: []
#   schema:
#     respectDisabled: {type: boolean, description: "accept Services that opt out explicitly"}
#     skipRoles: {type: array, items: {type: string}, description: "workload roles whose Services are not mutated"}
package kgate.rules.topology.service_topology_aware_routing

import data.kgate.lib

mode_key := "service.kubernetes.io/topology-mode"

hints_key := "service.kubernetes.io/topology-aware-hints"

role_label := "kgate.dev/role"

minor := lib.params.kubernetesMinor

name := lib.obj.metadata.name

spec := object.get(lib.obj, "spec", {})

annotations := lib.annotations

# eligible: a Service whose endpoints kube-proxy load-balances, which topology hints
# and trafficDistribution act on.
eligible if {
	lib.kind == "Service"
	count(object.get(spec, "selector", {})) > 0
	object.get(spec, "type", "ClusterIP") != "ExternalName"
	object.get(spec, "clusterIP", "") != "None"
	object.get(spec, "internalTrafficPolicy", "Cluster") != "Local"
	not skipped_role
}

skipped_role if lib.labels[role_label] in lib.params.skipRoles

# The deprecated annotation; before 1.27 it is the only one and not deprecated.
deprecated := annotations[hints_key] if {
	lib.kind == "Service"
	minor >= 27
}

# mode_value is the annotation value the EndpointSlice controller uses: the deprecated
# key wins over topology-mode.
mode_value := annotations[hints_key]

mode_value := annotations[mode_key] if {
	not annotations[hints_key]
	minor >= 27
}

routed if {
	minor >= 30
	is_string(spec.trafficDistribution)
	spec.trafficDistribution != ""
}

routed if mode_value in {"Auto", "auto"}

routed if {
	lib.params.respectDisabled
	lower(mode_value) == "disabled"
}

missing_routing if {
	eligible
	lib.genai_namespace
	not routed
}

applies if {
	eligible
	lib.genai_namespace
}

applies if deprecated

# What the cluster's minor version supports.
traffic_distribution := "PreferSameZone" if minor >= 34

else := "PreferClose"

use_field if minor >= 31

annotation_key := mode_key if minor >= 27

else := hints_key

action := "mutate" if lib.genai_namespace

else := "warn"

violation contains v if {
	missing_routing
	v := {
		"msg": sprintf("Service %q has no topology-aware routing: its traffic is spread over endpoints in every AZ (cross-AZ transfer is billed both ways)", [name]),
		"path": missing_path,
		"fix": missing_fix,
		"action": action,
	}
}

violation contains v if {
	deprecated
	v := {
		"msg": sprintf("Service %q uses the deprecated annotation %s", [name, hints_key]),
		"path": lib.annotation_path(hints_key),
		"fix": sprintf("replace it with %s: %s", [mode_key, mode_patch_value]),
		"action": action,
	}
}

missing_path := "/spec" if {
	use_field
} else := lib.annotation_path(annotation_key) if {
	annotations[annotation_key]
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

missing_fix := sprintf("set spec.trafficDistribution: %s", [traffic_distribution]) if use_field

else := sprintf("add annotation %s: Auto", [annotation_key])

# The value topology-mode gets when the deprecated annotation is renamed: its own value,
# or Auto when the annotation is also what enables routing (1.27-1.30).
mode_patch_value := "Auto" if {
	missing_routing
	not use_field
} else := deprecated

patch contains op if {
	deprecated
	lib.genai_namespace
	some op in [
		{"op": "remove", "path": lib.annotation_path(hints_key)},
		{"op": "add", "path": lib.annotation_path(mode_key), "value": mode_patch_value},
	]
}

patch contains {"op": "add", "path": "/spec/trafficDistribution", "value": traffic_distribution} if {
	missing_routing
	use_field
}

patch contains {"op": "add", "path": lib.annotation_path(annotation_key), "value": "Auto"} if {
	missing_routing
	not use_field
	not deprecated
}
