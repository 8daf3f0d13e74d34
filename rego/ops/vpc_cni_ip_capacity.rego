# METADATA
# title: VPC CNI is set up against pod IP exhaustion
# description: |
#   The Amazon VPC CNI gives every pod an address of the VPC subnets, so a growing
#   GenAI cluster runs out of subnet IPs and new pods stay Pending. Reports the
#   aws-node DaemonSet (kube-system, container aws-node) when none of the mitigations
#   is enabled: custom networking (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, pods in
#   secondary-CIDR subnets), prefix delegation (ENABLE_PREFIX_DELEGATION) or IPv6
#   (ENABLE_IPv6); a value from valueFrom counts as enabled. The subnets' free-IP ratio
#   is not a Kubernetes object: when it is known (vpcSubnetFreeIpRatio, e.g. fed by an
#   audit job from EC2 DescribeSubnets) the rule reports only below minFreeIpRatio,
#   otherwise whenever no mitigation is enabled. kube-system is exempt from admission,
#   so the rule looks at the DaemonSet deliberately and is audit-only, never blocking
#   updates of the AWS-managed add-on; with the managed add-on, the add-on
#   configuration (its env values) overwrites edits of the DaemonSet. EFA nodes
#   without efa-only interfaces (EC2NodeClass or launch template) and overlay CNIs are
#   not visible here.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#ops-003
# custom:
#   id: OPS-003
#   severity: medium
#   kinds: [DaemonSet]
#   default_action: audit
#   audit_only: true
#   why: |
#     With the VPC CNI every pod, and every warm spare address a node keeps, takes an
#     IP of the VPC subnets. GenAI clusters with many pods per node, and GPU nodes
#     whose many network interfaces hold warm IPs, exhaust /24 or /20 subnets long
#     before they run out of compute, and new pods then fail to start. Prefix
#     delegation packs 16 addresses per slot, custom networking moves pods to a large
#     secondary CIDR, and IPv6 removes the limit.
#   examples:
#     bad: |
#       apiVersion: apps/v1
#       kind: DaemonSet
#       metadata: {name: aws-node, namespace: kube-system}
#       spec:
#         selector: {matchLabels: {k8s-app: aws-node}}
#         template:
#           metadata: {labels: {k8s-app: aws-node}}
#           spec:
#             containers:
#             - name: aws-node
#               image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0
#               env:
#               - {name: WARM_ENI_TARGET, value: "1"}
#     good: |
#       apiVersion: apps/v1
#       kind: DaemonSet
#       metadata: {name: aws-node, namespace: kube-system}
#       spec:
#         selector: {matchLabels: {k8s-app: aws-node}}
#         template:
#           metadata: {labels: {k8s-app: aws-node}}
#           spec:
#             containers:
#             - name: aws-node
#               image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0
#               env:
#               - {name: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, value: "true"}
#               - {name: ENI_CONFIG_LABEL_DEF, value: topology.kubernetes.io/zone}
#               - {name: WARM_IP_TARGET, value: "5"}
#   params:
#     minFreeIpRatio: 0.2
#     vpcSubnetFreeIpRatio: null
#   schema:
#     minFreeIpRatio: {type: number, minimum: 0, maximum: 1, description: "share of free IPs in the pod subnets below which a cluster without custom networking, prefix delegation or IPv6 is reported"}
#     vpcSubnetFreeIpRatio: {type: [number, "null"], minimum: 0, maximum: 1, description: "measured share of free IPs in the cluster's pod subnets (external data, e.g. from EC2 DescribeSubnets); null when unknown"}
package kgate.rules.ops.vpc_cni_ip_capacity

import data.kgate.lib

# cni is the path of the aws-node container of the VPC CNI DaemonSet.
cni := min(paths) if {
	lib.kind == "DaemonSet"
	lib.namespace == "kube-system"
	paths := {p | some p, c in lib.containers; c.name == "aws-node"; not c.init}
	count(paths) > 0
}

applies if cni

env := lib.get(lib.containers[cni].container, "env", [])

mitigations := {
	"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "custom networking",
	"ENABLE_PREFIX_DELEGATION": "prefix delegation",
	"ENABLE_IPv6": "IPv6",
}

# mitigated is true when custom networking, prefix delegation or IPv6 is on; a value
# from valueFrom cannot be read here and counts as on.
mitigated if {
	some e in env
	mitigations[e.name]
	is_string(e.value)
	lower(e.value) == "true"
}

mitigated if {
	some e in env
	mitigations[e.name]
	e.valueFrom
}

free_ratio := lib.params.vpcSubnetFreeIpRatio

violation contains v if {
	applies
	not mitigated
	free_ratio == null
	v := {
		"msg": "the VPC CNI gives every pod a subnet IP and none of custom networking, prefix delegation or IPv6 is enabled: a growing GenAI cluster runs out of subnet IPs and new pods stay Pending",
		"path": path,
		"fix": fix,
	}
}

violation contains v if {
	applies
	not mitigated
	is_number(free_ratio)
	free_ratio < lib.params.minFreeIpRatio
	v := {
		"msg": sprintf("only %d%% of the pod subnets' IPs are free (minimum %d%%) and none of custom networking, prefix delegation or IPv6 is enabled: new pods will stay Pending when the subnets run out", [round(free_ratio * 100), round(lib.params.minFreeIpRatio * 100)]),
		"path": path,
		"fix": fix,
	}
}

path := concat("", [cni, "/env"]) if lib.containers[cni].container.env != null

else := cni

fix := "enable prefix delegation (ENABLE_PREFIX_DELEGATION=true, Nitro instances) or custom networking (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true, ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone and an ENIConfig per zone on secondary-CIDR subnets), or move to an IPv6 cluster; set them in the vpc-cni add-on configuration ({\"env\": {...}}), which overwrites edits of the DaemonSet, and prefer WARM_IP_TARGET/MINIMUM_IP_TARGET over WARM_ENI_TARGET on nodes with many interfaces (EFA: use efa-only interfaces)"
