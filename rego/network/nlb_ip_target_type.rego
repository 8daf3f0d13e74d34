# METADATA
# title: NLB Services target Pod IPs, not instances
# description: |
#   With instance targets, an NLB sends traffic to a NodePort on any node, and
#   kube-proxy forwards it to a Pod that is often on another node in another AZ: an
#   extra hop, more latency, and cross-AZ data transfer billed in both directions. IP
#   targets register the Pods themselves (Amazon VPC CNI Pod IPs are VPC addresses), so
#   the NLB delivers directly and in-zone. The rule covers Services that the AWS Load
#   Balancer Controller reconciles (its loadBalancerClass, aws-load-balancer-type
#   external or nlb-ip, or no class at all when LBC's webhook sets it). New load
#   balancers get the nlb-target-type: ip annotation; on existing ones a change replaces
#   the target group (a traffic blip), so UPDATEs are only warned. Skipped when the CNI
#   does not give Pods VPC-routable IPs (lbcCniSupportsIpTargets: false); a cluster whose
#   LBC runs with --default-target-type=ip sets lbcDefaultTargetType: ip.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-001
# custom:
#   id: NET-001
#   severity: high
#   kinds: [Service]
#   default_action: mutate
#   why: |
#     With instance targets every request enters a node through a NodePort and
#     kube-proxy forwards it again, often to a Pod in another Availability Zone: an
#     extra hop on every inference call and cross-AZ data transfer billed at about
#     $0.01/GB in each direction. IP targets register the Pods themselves, so the NLB
#     delivers straight to a Pod in its own zone, and Fargate Pods can only be reached
#     this way.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-svc
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-type: "external"
#       spec:
#         type: LoadBalancer
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080, protocol: TCP}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-svc
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-type: "external"
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#       spec:
#         type: LoadBalancer
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080, protocol: TCP}]
#   params:
#     lbcLoadBalancerClasses: [service.k8s.aws/nlb]
#     lbcServiceMutatorWebhook: true
#     lbcCniSupportsIpTargets: true
#     lbcDefaultTargetType: instance
#     disableNodePortsForIp: false
#   schema:
#     lbcLoadBalancerClasses: {type: array, items: {type: string}, description: "loadBalancerClass values the AWS Load Balancer Controller serves"}
#     lbcServiceMutatorWebhook: {type: boolean, description: "the controller's Service mutator webhook is enabled (LBC >= 2.5 default)"}
#     lbcCniSupportsIpTargets: {type: boolean, description: "pod IPs are VPC-routable (false for overlay CNIs)"}
#     lbcDefaultTargetType: {enum: [instance, ip], description: "the controller's default target type"}
#     disableNodePortsForIp: {type: boolean, description: "also set allocateLoadBalancerNodePorts false on ip-target Services"}
package kgate.rules.network.nlb_ip_target_type

import data.kgate.lib
import data.kgate.lib.network

applies if {
	lib.kind == "Service"
	not lib.exempt_namespace
	lib.params.lbcCniSupportsIpTargets
	network.lbc_managed
}

target_type := network.service_target_type

annotation_path := lib.annotation_path(network.nlb_target_type_key)

# A new load balancer: CREATE, or an UPDATE that makes the Service an LBC LoadBalancer.
new_lb if lib.creating

new_lb if {
	lib.updating
	not network.lbc_service(input.oldObject)
}

violation contains v if {
	applies
	target_type != "ip"
	v := {
		"msg": sprintf("Service %q gets an NLB with target type %s: traffic enters through NodePorts on any node, an extra hop that often crosses AZs", [lib.obj.metadata.name, target_type]),
		"path": path,
		"fix": fix,
		"action": action,
	}
}

path := annotation_path if {
	lib.annotations[network.nlb_target_type_key]
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

fix := sprintf("add annotation %s: ip", [network.nlb_target_type_key]) if new_lb

else := sprintf("set annotation %s: ip in a maintenance window (LBC replaces the target group), or recreate the Service", [network.nlb_target_type_key])

action := "mutate" if new_lb

else := "warn"

patch contains {"op": "add", "path": annotation_path, "value": "ip"} if {
	applies
	target_type != "ip"
	new_lb
}

# Optional: IP targets need no NodePorts.
patch contains {"op": "add", "path": "/spec/allocateLoadBalancerNodePorts", "value": false} if {
	applies
	target_type != "ip"
	new_lb
	lib.params.disableNodePortsForIp
	object.get(lib.obj, ["spec", "allocateLoadBalancerNodePorts"], null) == null
}
