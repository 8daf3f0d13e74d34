# METADATA
# title: Requests stay within the VPA recommendation
# description: |
#   Compares the CPU and memory requests of a workload's containers with the
#   recommendation of the VerticalPodAutoscaler that targets it (spec.targetRef kind and
#   name, e.g. the goldilocks-<name> VPAs Goldilocks creates), read from the inventory.
#   A request above upperBound × (1 + slack) is over-provisioned: capacity paid for and
#   never used; a request below lowerBound is under-provisioned: throttling, OOM kills
#   and evictions. Only VPAs in updateMode Off (recommend only) are compared, once they
#   have observed the workload for minObservationDays (from the VPA's
#   creationTimestamp) and do not report LowConfidence, so bursty batch jobs with few
#   samples are not judged. Containers that request accelerators are skipped
#   (ignoreGpuContainers): VPA has no accelerator data, and those pods are sized by their
#   GPUs. A VPA in any other mode rewrites pod requests itself; the rule then reports a
#   HorizontalPodAutoscaler of the same workload that scales on CPU or memory, because
#   both then act on the same requests (VPA in updateMode Off next to an HPA is fine).
#   Audit only: the findings need observed usage, and kgate never changes requests at
#   admission (workload owners own sizing).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-004
# custom:
#   id: COMPUTE-004
#   severity: medium
#   kinds: [Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: audit
#   audit_only: true
#   referential: true
#   inventory: [VerticalPodAutoscaler, HorizontalPodAutoscaler]
#   why: |
#     Requests decide what Karpenter buys: a container that requests 8 CPUs and uses
#     0.4 keeps most of a node idle but billed, and GenAI pods often sit next to GPUs that
#     cost far more per hour than the CPU they strand. The VPA recommender measures actual
#     usage; comparing it with the requests finds over-provisioned containers to shrink
#     (and under-provisioned ones that get throttled or OOM-killed) without guessing.
#   examples:
#     bad: |
#       apiVersion: autoscaling.k8s.io/v1
#       kind: VerticalPodAutoscaler
#       metadata: {name: goldilocks-rag-app, namespace: genai}
#       spec:
#         targetRef: {apiVersion: apps/v1, kind: Deployment, name: rag-app}
#         updatePolicy: {updateMode: "Off"}
#       status:
#         recommendation:
#           containerRecommendations:
#           - containerName: rag
#             target: {cpu: 400m, memory: 900Mi}
#             lowerBound: {cpu: 250m, memory: 700Mi}
#             upperBound: {cpu: 900m, memory: 1500Mi}
#       ---
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: rag-app, namespace: genai}
#       spec:
#         selector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         template:
#           metadata: {labels: {app.kubernetes.io/name: rag-app}}
#           spec:
#             containers:
#             - name: rag
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/rag-app:3.0.1
#               resources: {requests: {cpu: "8", memory: 16Gi}, limits: {memory: 16Gi}}
#     good: |
#       apiVersion: autoscaling.k8s.io/v1
#       kind: VerticalPodAutoscaler
#       metadata: {name: goldilocks-rag-app, namespace: genai}
#       spec:
#         targetRef: {apiVersion: apps/v1, kind: Deployment, name: rag-app}
#         updatePolicy: {updateMode: "Off"}
#       status:
#         recommendation:
#           containerRecommendations:
#           - containerName: rag
#             target: {cpu: 400m, memory: 900Mi}
#             lowerBound: {cpu: 250m, memory: 700Mi}
#             upperBound: {cpu: 900m, memory: 1500Mi}
#       ---
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: rag-app, namespace: genai}
#       spec:
#         selector: {matchLabels: {app.kubernetes.io/name: rag-app}}
#         template:
#           metadata: {labels: {app.kubernetes.io/name: rag-app}}
#           spec:
#             containers:
#             - name: rag
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/rag-app:3.0.1
#               resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 1536Mi}}
#   params:
#     slack: 0.3
#     minObservationDays: 7
#     ignoreGpuContainers: true
#   schema:
#     slack: {type: number, minimum: 0, description: "tolerated excess over the VPA upperBound before a request counts as over-provisioned (0.3 = 30%)"}
#     minObservationDays: {type: number, minimum: 0, description: "days a VPA must have observed the workload (since its creationTimestamp) before its recommendation is compared"}
#     ignoreGpuContainers: {type: boolean, description: "skip containers that request accelerators (VPA has no accelerator data)"}
package kgate.rules.compute.requests_match_vpa_recommendation

import data.kgate.lib
import data.kgate.lib.pods

resources := ["cpu", "memory"]

# workload: a pod controller outside the exempt namespaces (VPAs target controllers,
# not their Pods).
workload if {
	lib.kind != "Pod"
	pods.workload
}

inventory_of(kind) := object.get(data.inventory, ["namespace", lib.namespace, kind], {})

targets(o) if {
	ref := o.spec.targetRef
	ref.kind == lib.kind
	ref.name == pods.object_name
}

# vpas maps the names of the VPAs that target the object under review to them.
vpas[name] := vpa if {
	workload
	some name, vpa in inventory_of("VerticalPodAutoscaler")
	targets(vpa)
}

applies if count(vpas) > 0

# update_mode is the VPA's updatePolicy.updateMode; VPA defaults it to Recreate.
update_mode(name) := lib.get(lib.get(vpas[name].spec, "updatePolicy", {}), "updateMode", "Recreate")

# recommend_only holds the VPAs whose recommendations are compared.
recommend_only contains name if {
	some name, _ in vpas
	update_mode(name) == "Off"
	observed_long_enough(name)
	not low_confidence(name)
}

ns_per_day := ((24 * 60) * 60) * 1000000000

# A VPA without a creationTimestamp (e.g. a manifest file) counts as observed long enough.
observed_long_enough(name) if {
	created := vpas[name].metadata.creationTimestamp
	time.now_ns() - time.parse_rfc3339_ns(created) >= lib.params.minObservationDays * ns_per_day
}

observed_long_enough(name) if not vpas[name].metadata.creationTimestamp

low_confidence(name) if {
	some c in lib.get(lib.get(vpas[name], "status", {}), "conditions", [])
	c.type == "LowConfidence"
	c.status == "True"
}

# recommendations maps [vpa, container name] to the container's recommendation.
recommendations[[name, r.containerName]] := r if {
	some name in recommend_only
	some r in vpas[name].status.recommendation.containerRecommendations
}

# amount parses a CPU or memory quantity; undefined for anything else.
amount(q) := q if is_number(q)

amount(q) := units.parse(q) if is_string(q)

# compared lists [vpa, container path, resource, request, recommendation] for every
# request that has a recommendation.
compared contains [name, p, res, q, rec] if {
	count(recommend_only) > 0
	some p, c in lib.containers
	not pods.plain_init[p]
	not lib.ignored_container(c.name)
	not skipped_accelerator(p)
	some name in recommend_only
	rec := recommendations[[name, c.name]]
	some res in resources
	q := c.requests[res]
}

skipped_accelerator(p) if {
	lib.params.ignoreGpuContainers
	pods.accelerator_counts[p]
}

violation contains v if {
	some [name, p, res, q, rec] in compared
	upper := rec.upperBound[res]
	amount(q) > amount(upper) * (1 + lib.params.slack)
	v := {
		"msg": sprintf("%s requests %s %v, more than the upper bound %v of VerticalPodAutoscaler %q plus %v%% slack: over-provisioned", [pods.container_ref(p), res, q, upper, name, round(lib.params.slack * 100)]),
		"path": concat("", [p, "/resources/requests/", res]),
		"fix": sizing_fix(res, rec),
		"action": "audit",
	}
}

violation contains v if {
	some [name, p, res, q, rec] in compared
	lower := rec.lowerBound[res]
	amount(q) < amount(lower)
	v := {
		"msg": sprintf("%s requests %s %v, less than the lower bound %v of VerticalPodAutoscaler %q: under-provisioned", [pods.container_ref(p), res, q, lower, name]),
		"path": concat("", [p, "/resources/requests/", res]),
		"fix": sizing_fix(res, rec),
		"action": "audit",
	}
}

sizing_fix(res, rec) := sprintf("set resources.requests.%s near the VPA target %v (recommended range %v to %v); kgate never changes requests itself", [res, rec.target[res], object.get(rec, ["lowerBound", res], "?"), object.get(rec, ["upperBound", res], "?")]) if {
	rec.target[res]
} else := sprintf("set resources.requests.%s within the VPA's recommended range", [res])

# --- VPA that changes pods next to an HPA on CPU or memory ---

hpas[name] := hpa if {
	count(vpas) > 0
	some name, hpa in inventory_of("HorizontalPodAutoscaler")
	ref := hpa.spec.scaleTargetRef
	ref.kind == lib.kind
	ref.name == pods.object_name
}

# hpa_resources is what an HPA scales on among cpu and memory: autoscaling/v2 metrics
# of type Resource or ContainerResource; without metrics (and for autoscaling/v1) the
# HPA defaults to 80% average CPU utilization.
hpa_resources(name) := {"cpu"} if {
	count(lib.get(hpas[name].spec, "metrics", [])) == 0
} else := {r |
	some m in hpas[name].spec.metrics
	r := metric_resource(m)
	r in resources
}

metric_resource(m) := m.resource.name if m.type == "Resource"

metric_resource(m) := m.containerResource.name if m.type == "ContainerResource"

violation contains v if {
	some vpa_name, _ in vpas
	mode := update_mode(vpa_name)
	mode != "Off"
	some hpa_name, _ in hpas
	shared := hpa_resources(hpa_name)
	count(shared) > 0
	v := {
		"msg": sprintf("VerticalPodAutoscaler %q (updateMode %s) and HorizontalPodAutoscaler %q both act on the %s of %s: the VPA changes the requests the HPA's utilization is measured against", [vpa_name, mode, hpa_name, concat(" and ", sort(shared)), pods.object_ref]),
		"path": "/metadata/name",
		"fix": "set the VPA's updatePolicy.updateMode to \"Off\" (recommendations only) and size requests from it, or scale the HPA on a custom or external metric",
		"action": "audit",
	}
}
