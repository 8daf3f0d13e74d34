# METADATA
# title: GenAI namespaces are enabled for Goldilocks recommendations
# description: |
#   Goldilocks creates a VerticalPodAutoscaler in recommendation mode (updateMode Off)
#   for every workload of a namespace labelled goldilocks.fairwinds.com/enabled: "true",
#   and shows the CPU and memory requests the observed usage calls for. The rule adds that
#   label to every Namespace outside exemptNamespaces, on CREATE and on UPDATE (namespace
#   labels are mutable and the label changes nothing but the recommendations). A
#   Namespace labelled "false" (or any other value Go's strconv.ParseBool reads as false)
#   has opted out and is left alone (respectExplicitFalse); any other value is one
#   Goldilocks ignores, so it is replaced by "true". The rule never sets
#   goldilocks.fairwinds.com/vpa-update-mode, so Goldilocks' VPAs only recommend and
#   never evict pods. With alsoSetExcludeContainers set, top-level workloads in those
#   namespaces also get the workload label goldilocks.fairwinds.com/exclude-containers
#   (e.g. istio-proxy) unless they set it, so injected sidecars do not clutter the
#   recommendations. The label is inert until the VPA recommender and the Goldilocks
#   controller are installed; VPA recommends CPU and memory only, never accelerators.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-003
# custom:
#   id: COMPUTE-003
#   severity: low
#   kinds: [Namespace, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: mutate
#   why: |
#     Most GenAI clusters pay for CPU and memory that pods request but never use:
#     requests are guessed once and never revisited. Goldilocks turns the VPA recommender's
#     observed usage into per-container request recommendations, but only for namespaces
#     that carry its label, so labelling every GenAI namespace makes right-sizing data
#     (COMPUTE-004) available from the first day at no risk: its VPAs only recommend.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true"}
#     good: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels:
#           kgate.dev/genai: "true"
#           goldilocks.fairwinds.com/enabled: "true"
#   params:
#     respectExplicitFalse: true
#     alsoSetExcludeContainers: ""
#   schema:
#     respectExplicitFalse: {type: boolean, description: "leave Namespaces labelled goldilocks.fairwinds.com/enabled \"false\" alone (they opted out)"}
#     alsoSetExcludeContainers: {type: string, pattern: "^[a-z0-9.,-]*$", description: "comma-separated container names (e.g. istio-proxy,linkerd-proxy) to set as label goldilocks.fairwinds.com/exclude-containers on top-level workloads that lack it; empty: do not label workloads"}
package kgate.rules.compute.goldilocks_namespace_enabled

import data.kgate.lib

enabled_label := "goldilocks.fairwinds.com/enabled"

exclude_label := "goldilocks.fairwinds.com/exclude-containers"

applies if namespace_object

applies if workload_object

# namespace_object: a Namespace outside exemptNamespaces (the GenAI profile).
namespace_object if {
	lib.kind == "Namespace"
	not lib.obj.metadata.name in lib.params.exemptNamespaces
}

# Goldilocks parses the label with Go's strconv.ParseBool; any other value is logged
# as unsupported and read as false.
true_values := {"1", "t", "T", "TRUE", "true", "True"}

false_values := {"0", "f", "F", "FALSE", "false", "False"}

value := lib.labels[enabled_label]

enabled if value in true_values

opted_out if {
	lib.params.respectExplicitFalse
	value in false_values
}

label_path(key) := concat("", ["/metadata/labels/", lib.escape(key)])

violation contains v if {
	namespace_object
	not enabled
	not opted_out
	v := {
		"msg": sprintf("Namespace %q %s, so Goldilocks makes no request recommendations for its workloads", [lib.obj.metadata.name, namespace_problem]),
		"path": namespace_path,
		"fix": namespace_fix,
		"action": "mutate",
	}
}

namespace_problem := sprintf("has no label %s: \"true\"", [enabled_label]) if {
	not enabled_label in object.keys(lib.labels)
} else := sprintf("sets label %s to %v, which Goldilocks reads as false", [enabled_label, json.marshal(value)])

namespace_path := label_path(enabled_label) if {
	enabled_label in object.keys(lib.labels)
} else := "/metadata/labels" if {
	lib.obj.metadata.labels
} else := "/metadata"

namespace_fix := sprintf("set label %s: \"true\" (to opt the namespace out, set it to \"false\")", [enabled_label]) if {
	lib.params.respectExplicitFalse
} else := sprintf("set label %s: \"true\"", [enabled_label])

patch contains op if {
	namespace_object
	not enabled
	not opted_out
	op := {"op": "add", "path": label_path(enabled_label), "value": "true"}
}

# --- workloads (alsoSetExcludeContainers) ---

# workload_object: a top-level workload controller in a GenAI namespace; Goldilocks
# creates VPAs for top-level controllers only and reads their exclude-containers label.
workload_object if {
	lib.params.alsoSetExcludeContainers != ""
	lib.kind != "Pod"
	lib.pod_bearing
	lib.genai_namespace
	not lib.owned_by_controller
}

violation contains v if {
	workload_object
	not exclude_label in object.keys(lib.labels)
	v := {
		"msg": sprintf("%s %q has no label %s, so Goldilocks also recommends requests for injected sidecars (%s)", [lib.kind, lib.obj.metadata.name, exclude_label, lib.params.alsoSetExcludeContainers]),
		"path": workload_path,
		"fix": sprintf("set label %s: %q", [exclude_label, lib.params.alsoSetExcludeContainers]),
		"action": "mutate",
	}
}

workload_path := "/metadata/labels" if lib.obj.metadata.labels

else := "/metadata"

patch contains op if {
	workload_object
	not exclude_label in object.keys(lib.labels)
	op := {"op": "add", "path": label_path(exclude_label), "value": lib.params.alsoSetExcludeContainers}
}
