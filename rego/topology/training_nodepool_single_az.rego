# METADATA
# title: Training NodePools are pinned to one Availability Zone
# description: |
#   Distributed training moves terabytes between nodes: across AZs that traffic is
#   billed ($0.01/GB each way) and slower, EFA only reaches interfaces in the same AZ
#   (RDMA is silently lost), and cluster placement groups, Capacity Blocks and S3
#   Express buckets live in one AZ. A training/EFA NodePool (selected by
#   trainingPoolSelector, the template label vpc.amazonaws.com/efa.present: "true", or
#   an allowed instance family in trainingFamilies) must therefore pin one zone with a
#   single-value In requirement (or template label) on topology.kubernetes.io/zone or
#   topology.k8s.aws/zone-id; otherwise Karpenter may launch its nodes in every AZ of
#   the EC2NodeClass subnets. An EC2NodeClass from the inventory whose subnets lie in one
#   AZ is accepted too (acceptSingleSubnetNodeClass). Violations are denied, also when
#   the EC2NodeClass is unknown: the pool's own requirements allow several zones, which
#   is what a reviewer of the NodePool sees. With defaultTrainingZone set, a new pool without any zone
#   requirement gets one; never on UPDATE, where a new requirement drifts running nodes.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#topo-002
# custom:
#   id: TOPO-002
#   severity: high
#   kinds: [NodePool]
#   default_action: deny
#   why: |
#     Nodes of one training job exchange terabytes of gradients. Across Availability Zones
#     that traffic costs $0.01/GB each way and is slower, and EFA's RDMA only works between
#     interfaces in the same zone, so a job spread over zones silently falls back to TCP on
#     instances that cost tens of dollars an hour. Pinning the pool to one zone keeps the job
#     on one fast, free network.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: training}
#       spec:
#         template:
#           metadata:
#             labels: {kgate.dev/pool-type: training}
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: training}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: [p5]}
#             - {key: topology.kubernetes.io/zone, operator: In, values: [us-west-2a, us-west-2b, us-west-2c]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: training}
#       spec:
#         template:
#           metadata:
#             labels: {kgate.dev/pool-type: training}
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: training}
#             requirements:
#             - {key: karpenter.k8s.aws/instance-family, operator: In, values: [p5]}
#             - {key: topology.kubernetes.io/zone, operator: In, values: [us-west-2a]}
#   referential: true
#   inventory: [EC2NodeClass]
#   params:
#     trainingPoolSelector:
#       matchExpressions:
#       - {key: kgate.dev/pool-type, operator: In, values: [training, efa]}
#     defaultTrainingZone: ""
#     acceptSingleSubnetNodeClass: true
#   schema:
#     trainingPoolSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of NodePools that run training"}
#     defaultTrainingZone: {type: string, description: "zone added to training NodePools created without one (empty: deny instead)"}
#     acceptSingleSubnetNodeClass: {type: boolean, description: "accept a training NodePool whose EC2NodeClass selects one zone"}
package kgate.rules.topology.training_nodepool_single_az

import data.kgate.lib
import data.kgate.lib.karpenter

applies if karpenter.training_pool

name := lib.obj.metadata.name

why := concat("; ", sort(karpenter.training_reasons))

accepted if karpenter.single_zone

accepted if {
	lib.params.acceptSingleSubnetNodeClass
	karpenter.single_az_node_class
}

multi_az if {
	applies
	not accepted
}

# Indices of the requirements on a zone key that leave more than one zone open.
bad_requirements contains i if {
	some i in karpenter.zone_requirements
	not karpenter.single_value_in(i)
}

violation contains v if {
	multi_az
	count(bad_requirements) == 0
	v := {
		"msg": sprintf("NodePool %q is a training pool (%s) without a zone requirement: Karpenter may launch its nodes in every AZ of its subnets", [name, why]),
		"path": karpenter.existing_path,
		"fix": missing_fix,
		"action": action,
	}
}

violation contains v if {
	multi_az
	some i in bad_requirements
	r := karpenter.requirements[i]
	v := {
		"msg": sprintf("NodePool %q is a training pool (%s) whose requirement %s %s leaves several zones open", [name, why, r.key, describe(r)]),
		"path": sprintf("%s/%d", [karpenter.requirements_path, i]),
		"fix": sprintf("use operator In with exactly one value on %s", [r.key]),
		"action": action,
	}
}

add_zone := sprintf("add the requirement {key: %s, operator: In, values: [<one zone>]} (or %s with one zone id)", [karpenter.zone_key, karpenter.zone_id_key])

missing_fix := sprintf("%s, or let EC2NodeClass %s select subnets of a single AZ", [add_zone, karpenter.node_class_ref.name]) if {
	lib.params.acceptSingleSubnetNodeClass
} else := add_zone

describe(r) := sprintf("In %v", [r.values]) if {
	r.operator == "In"
} else := sprintf("%s %v", [r.operator, r.values]) if {
	r.values
} else := r.operator

mutating if {
	lib.creating
	lib.params.defaultTrainingZone != ""
	count(karpenter.zone_requirements) == 0
}

action := "mutate" if mutating

else := "deny"

# A zone id (usw2-az1) goes under topology.k8s.aws/zone-id, a zone name under
# topology.kubernetes.io/zone.
default_zone_key := karpenter.zone_id_key if {
	regex.match(`^[a-z]+[0-9]+-az[0-9]+$`, lib.params.defaultTrainingZone)
} else := karpenter.zone_key

default_requirement := {"key": default_zone_key, "operator": "In", "values": [lib.params.defaultTrainingZone]}

patch contains op if {
	multi_az
	mutating
	op := add_requirement
}

add_requirement := {"op": "add", "path": concat("", [karpenter.requirements_path, "/-"]), "value": default_requirement} if {
	is_array(karpenter.template_spec.requirements)
} else := {"op": "add", "path": karpenter.requirements_path, "value": [default_requirement]}
