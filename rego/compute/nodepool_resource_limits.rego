# METADATA
# title: NodePools bound the capacity they can launch
# description: |
#   spec.limits is the only budget Karpenter enforces: without it a NodePool launches
#   nodes for every pending pod, so a runaway Deployment, a retry loop or a mistyped
#   replica count turns directly into instances. Every dynamic karpenter.sh/v1 NodePool
#   needs spec.limits; an accelerator pool (see acceleratorPoolSelector) needs a limit on
#   an accelerator resource (nvidia.com/gpu, aws.amazon.com/neuron, ...) or on nodes, so
#   that its budget is counted in the expensive unit. Limits count the capacity of the
#   nodes Karpenter launches, not what pods request: a p5.48xlarge counts 8 GPUs and 192
#   vCPUs however little runs on it. Findings are warned; with requireGpuLimit
#   (production profile) accelerator pools without such a limit are denied. With
#   defaultLimits set, a new pool without limits gets them, when they satisfy the rule; an
#   existing pool is never changed. Static pools (spec.replicas) are bounded by their
#   replica count and accept only limits.nodes: other limits are denied, as the API
#   server's validation would reject them.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-008
# custom:
#   id: COMPUTE-008
#   severity: medium
#   kinds: [NodePool]
#   default_action: warn
#   why: |
#     A NodePool without limits is an open-ended purchase order: Karpenter launches
#     whatever instances pending pods need, and GPU instances cost from about $1 to over
#     $50 an hour each. A limit such as nvidia.com/gpu: 64 caps what one mistake, a
#     runaway autoscaler or a stuck retry loop can spend, and makes the pool's budget
#     explicit.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: gpu-inference}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["g6e"]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: gpu-inference}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["g6e"]}
#         limits: {cpu: "768", memory: 6Ti, nvidia.com/gpu: "64"}
#   params:
#     requireGpuLimit: false
#     defaultLimits: {}
#     acceleratorPoolSelector:
#       matchExpressions:
#       - {key: kgate.dev/pool-type, operator: In, values: [accelerator, gpu, training, efa]}
#   schema:
#     requireGpuLimit: {type: boolean, description: "deny accelerator NodePools without a limit on an accelerator resource or on nodes (production profile)"}
#     defaultLimits: {type: object, additionalProperties: {type: [string, integer]}, description: "limits added to NodePools created without any (empty: no mutation), e.g. {cpu: \"1000\", memory: 4000Gi}"}
#     acceleratorPoolSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of NodePools that run accelerators (in addition to pools whose requirements, taints or limits name accelerators)"}
package kgate.rules.compute.nodepool_resource_limits

import data.kgate.lib
import data.kgate.lib.accelerator_pools as pools
import data.kgate.lib.karpenter

applies if karpenter.nodepool

name := lib.obj.metadata.name

spec := lib.get(lib.obj, "spec", {})

limits := pools.pool_limits

# static is true for a static NodePool (spec.replicas, alpha): a fixed node count.
static if lib.get(spec, "replicas", null) != null

accelerator_pool if pools.accelerator_pool

# Limits that bound an accelerator pool in accelerators or in nodes.
accelerator_bound if count(pools.accelerator_limits) > 0

accelerator_bound if lib.get(limits, "nodes", null) != null

limits_path := "/spec/limits" if "limits" in object.keys(spec)

else := "/spec"

capacity_note := "limits count the capacity of the nodes Karpenter launches, not pod requests"

# --- dynamic pools without limits ---

violation contains v if {
	applies
	not static
	count(limits) == 0
	v := {
		"msg": sprintf("NodePool %q sets no spec.limits: Karpenter launches nodes for every pending pod without a bound%s", [name, accelerator_note]),
		"path": limits_path,
		"fix": sprintf("set spec.limits to the pool's budget, e.g. %s (%s)", [example_limits, capacity_note]),
		"action": missing_action,
	}
}

accelerator_note := sprintf(", and it is an accelerator pool (%s)", [pools.reason_text]) if accelerator_pool

else := ""

example_limits := `{cpu: "768", memory: 6Ti, nvidia.com/gpu: "64"}` if accelerator_pool

else := `{cpu: "1000", memory: 4000Gi}`

# --- accelerator pools whose limits do not bound accelerators ---

violation contains v if {
	applies
	not static
	accelerator_pool
	count(limits) > 0
	not accelerator_bound
	v := {
		"msg": sprintf("NodePool %q is an accelerator pool (%s) whose limits (%s) do not bound its accelerators or nodes", [name, pools.reason_text, concat(", ", sort(object.keys(limits)))]),
		"path": limits_path,
		"fix": sprintf("add a limit on the accelerator the pool provides (e.g. nvidia.com/gpu: \"64\", aws.amazon.com/neuron: \"32\") or on nodes (%s: a p5.48xlarge counts 8 GPUs)", [capacity_note]),
		"action": accelerator_action,
	}
}

accelerator_action := "deny" if lib.params.requireGpuLimit

else := "warn"

missing_action := "mutate" if {
	mutating
} else := accelerator_action if {
	accelerator_pool
} else := "warn"

# --- static pools ---

violation contains v if {
	applies
	static
	some r, _ in limits
	r != "nodes"
	v := {
		"msg": sprintf("static NodePool %q (spec.replicas) sets limits.%s: static NodePools support only limits.nodes, so the API server rejects it", [name, r]),
		"path": concat("", ["/spec/limits/", lib.escape(r)]),
		"fix": "remove every limit but nodes; the replica count already bounds the pool",
		"action": "deny",
	}
}

# --- optional defaults on CREATE ---

defaults := object.get(lib.params, "defaultLimits", {})

# The defaults are added to a new dynamic pool without limits when they satisfy the
# rule for it: an accelerator pool needs an accelerator or nodes limit among them.
mutating if {
	lib.creating
	applies
	not static
	count(limits) == 0
	count(defaults) > 0
	defaults_bound_pool
}

defaults_bound_pool if not accelerator_pool

defaults_bound_pool if count(object.filter(defaults, array.concat(lib.params.acceleratorResources, ["nodes"]))) > 0

patch contains {"op": "add", "path": "/spec/limits", "value": defaults} if mutating
