# METADATA
# title: Containers request CPU and memory and limit memory
# description: |
#   Karpenter chooses and packs nodes from requests only. A container without CPU and
#   memory requests is invisible to bin-packing: it runs as BestEffort on whatever node
#   has room, often an expensive GPU node, as unaccounted waste, and is the first to be
#   evicted; Fargate bills the vCPU/memory combination derived from requests. Without a
#   memory limit, one leaking pod can push its neighbours out of memory. Every container
#   and init container of a pod template in a GenAI namespace needs requests.cpu,
#   requests.memory and (requireMemoryLimit) limits.memory; a CPU limit is not required.
#   Pod-level spec.resources and the defaults of the namespace's LimitRange
#   (honourLimitRange) count; injected sidecars (ignoredContainers) are skipped. Templates
#   are rejected, Pods created by a controller only warned. Nothing is mutated: the right
#   numbers come from measurement.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-001
# custom:
#   id: COMPUTE-001
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   referential: true
#   inventory: [LimitRange]
#   why: |
#     Karpenter buys and packs nodes from pod requests only. A container without CPU and
#     memory requests is invisible to that arithmetic: it lands on whatever node has room,
#     often an expensive GPU node, where it is unaccounted waste and the first pod evicted
#     under pressure; on Fargate, requests decide the vCPU and memory size that is billed.
#     A memory limit keeps one leaking pod from pushing its neighbours out of memory.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: chatbot-ui, namespace: genai}
#       spec:
#         selector: {matchLabels: {app.kubernetes.io/name: chatbot-ui}}
#         template:
#           metadata: {labels: {app.kubernetes.io/name: chatbot-ui}}
#           spec:
#             containers:
#             - name: ui
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/chatbot-ui:1.4.2
#     good: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: chatbot-ui, namespace: genai}
#       spec:
#         selector: {matchLabels: {app.kubernetes.io/name: chatbot-ui}}
#         template:
#           metadata: {labels: {app.kubernetes.io/name: chatbot-ui}}
#           spec:
#             containers:
#             - name: ui
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/chatbot-ui:1.4.2
#               resources:
#                 requests: {cpu: 250m, memory: 512Mi}
#                 limits: {memory: 768Mi}
#   params:
#     requireMemoryLimit: true
#     honourLimitRange: true
#   schema:
#     requireMemoryLimit: {type: boolean, description: "also require a memory limit"}
#     honourLimitRange: {type: boolean, description: "accept requests a LimitRange of the namespace defaults"}
package kgate.rules.compute.require_cpu_memory_requests

import data.kgate.lib
import data.kgate.lib.pods

# Every workload outside the exempt namespaces is in scope; the strict GenAI
# profile (genaiNamespaceSelector) denies, other namespaces are warned.
applies if {
	lib.pod_bearing
	lib.workload_namespace
}

level := "deny" if lib.genai_namespace

else := "warn"

# required lists the [list, resource] pairs every container must set.
required := array.concat([["requests", "cpu"], ["requests", "memory"]], memory_limit)

memory_limit := [["limits", "memory"]] if lib.params.requireMemoryLimit

else := []

violation contains v if {
	applies
	some p, c in lib.containers
	not lib.ignored_container(c.name)
	unset := [f | some f in required; object.get(c[f[0]], f[1], null) == null]
	count(unset) > 0
	missing := [concat(".", f) | some f in unset; not covered_fields[c.template][f]]
	count(missing) > 0
	v := {
		"msg": sprintf("%s sets no %s", [pods.container_ref(p), concat(", ", missing)]),
		"path": concat("", [p, "/resources"]),
		"fix": sprintf("set resources.%s from observed usage (e.g. requests: {cpu: 250m, memory: 512Mi}, limits: {memory: 768Mi}), or give the namespace a LimitRange with defaults", [concat(", resources.", missing)]),
		"action": pods.enforce(level),
	}
}

# covered_fields are the required fields that every container of a pod template gets
# without setting them: pod-level resources (PodLevelResources) and the defaults of
# the namespace's LimitRange. Only looked up for containers that miss a field.
covered_fields[tp] := {f | some f in required; t.spec.resources[f[0]][f[1]] != null} | limit_range_fields if {
	some tp, t in lib.pod_templates
}

limit_range_fields := {f | some f in required; limit_range_default(f)} if lib.params.honourLimitRange

else := set()

# LimitRange defaults as the API server fills them in for type Container: a default
# request comes from defaultRequest, default, max or min; a default limit from default
# or max. LimitRanger applies them to Pods before kgate sees them, never to templates.
default_keys := {"requests": ["defaultRequest", "default", "max", "min"], "limits": ["default", "max"]}

limit_range_default([list, name]) if {
	some lr in object.get(data.inventory, ["namespace", lib.namespace, "LimitRange"], {})
	some item in lib.get(lib.get(lr, "spec", {}), "limits", [])
	item.type == "Container"
	some key in default_keys[list]
	lib.get(lib.get(item, key, {}), name, null) != null
}
