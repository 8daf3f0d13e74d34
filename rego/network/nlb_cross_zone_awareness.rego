# METADATA
# title: NLBs keep traffic in the client's zone (no cross-zone load balancing)
# description: |
#   With cross-zone load balancing, each NLB node spreads traffic over the targets of
#   every Availability Zone, so with three zones about two thirds of the requests cross
#   a zone boundary, which AWS bills as EC2 inter-AZ data transfer for NLBs. NLBs
#   default to off. For Services the AWS Load Balancer Controller reconciles, the rule
#   warns when cross-zone load balancing ends up on for the Service's target groups:
#   load_balancing.cross_zone.enabled=true in service.beta.kubernetes.io/aws-load-balancer-attributes
#   or in the deprecated service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled
#   annotation (which LBC lets win over the attributes annotation), unless the target
#   group attribute of the same name
#   (service.beta.kubernetes.io/aws-load-balancer-target-group-attributes) turns it off,
#   or turns it on by itself. Namespaces or namespace/name entries in allowCrossZone
#   accept cross-zone load balancing (it evens out load when endpoints are spread
#   unevenly over zones). The deprecated annotation is warned in any case. Nothing is
#   mutated: the setting is a trade-off between balance and cost.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-009
# custom:
#   id: NET-009
#   severity: medium
#   kinds: [Service]
#   default_action: warn
#   why: |
#     AWS charges inter-AZ data transfer (about $0.01 per GB in each direction) when an
#     NLB forwards to a target in another zone, and cross-zone load balancing makes that
#     the common case: with three zones, two of three requests and their responses
#     cross a zone boundary, adding cost and a network hop to every token streamed back
#     from a model server. With cross-zone off, each zone's NLB node serves its own
#     zone's Pods; spreading the replicas evenly over the zones (topologySpreadConstraints)
#     keeps the load balanced, and dns_record.client_routing_policy=availability_zone_affinity
#     also keeps clients on their zone's NLB node.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-svc
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-attributes: load_balancing.cross_zone.enabled=true
#       spec:
#         type: LoadBalancer
#         loadBalancerClass: service.k8s.aws/nlb
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-svc
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-attributes: dns_record.client_routing_policy=availability_zone_affinity
#       spec:
#         type: LoadBalancer
#         loadBalancerClass: service.k8s.aws/nlb
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080}]
#   params:
#     allowCrossZone: []
#   schema:
#     allowCrossZone: {type: array, items: {type: string}, description: "namespaces, or namespace/name of single Services, whose load balancers may use cross-zone load balancing"}
package kgate.rules.network.nlb_cross_zone_awareness

import data.kgate.lib
import data.kgate.lib.network

attributes_key := "service.beta.kubernetes.io/aws-load-balancer-attributes"

tg_attributes_key := "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"

deprecated_key := "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"

cross_zone_attribute := "load_balancing.cross_zone.enabled"

name := lib.obj.metadata.name

applies if {
	lib.kind == "Service"
	input.operation in {"CREATE", "UPDATE", "AUDIT"}
	not lib.exempt_namespace
	network.lbc_managed
}

# attribute(raw, key) is the value of key in an LBC stringMap annotation
# ("k1=v1,k2=v2"; pairs are trimmed, the last of repeated keys wins), lower-cased.
attribute(raw, key) := values[count(values) - 1] if {
	values := [lower(trim_space(substring(p, i + 1, -1))) |
		some part in split(raw, ",")
		p := trim_space(part)
		i := indexof(p, "=")
		i > 0
		substring(p, 0, i) == key
	]
	count(values) > 0
}

# The deprecated annotation, parsed as LBC does (Go strconv.ParseBool).
deprecated := lib.annotations[deprecated_key]

deprecated_value := "true" if deprecated in {"1", "t", "T", "TRUE", "true", "True"}

deprecated_value := "false" if deprecated in {"0", "f", "F", "FALSE", "false", "False"}

# lb_setting: the load balancer's cross-zone attribute and the annotation that sets it;
# LBC merges the deprecated annotation over the attributes annotation.
lb_setting := {"value": deprecated_value, "key": deprecated_key}

lb_setting := {"value": v, "key": attributes_key} if {
	not deprecated_value
	v := attribute(lib.annotations[attributes_key], cross_zone_attribute)
}

# The target group attribute overrides the load balancer's unless it is
# use_load_balancer_configuration.
tg_value := v if {
	v := attribute(lib.annotations[tg_attributes_key], cross_zone_attribute)
	v in {"true", "false"}
}

setting := {"value": tg_value, "key": tg_attributes_key}

setting := lb_setting if not tg_value

allowed if lib.namespace in lib.params.allowCrossZone

allowed if concat("/", [lib.namespace, name]) in lib.params.allowCrossZone

violation contains v if {
	applies
	setting.value == "true"
	not allowed
	v := {
		"msg": sprintf("Service %q turns on cross-zone load balancing (%s): NLB nodes also send traffic to Pods in other AZs, billed as inter-AZ data transfer in both directions and one more hop for every response", [name, setting.key]),
		"path": lib.annotation_path(setting.key),
		"fix": sprintf("drop %s=true (NLBs default to off), spread the Pods evenly over the zones with topologySpreadConstraints on topology.kubernetes.io/zone and consider dns_record.client_routing_policy=availability_zone_affinity; if the endpoints cannot be spread evenly, list %s or %s/%s in allowCrossZone", [cross_zone_attribute, lib.namespace, lib.namespace, name]),
		"action": "warn",
	}
}

violation contains v if {
	applies
	deprecated
	v := {
		"msg": sprintf("Service %q uses the deprecated annotation %s", [name, deprecated_key]),
		"path": lib.annotation_path(deprecated_key),
		"fix": sprintf("remove it and set the load balancer attribute instead: %s: %s=%s (comma-separated with the other attributes)", [attributes_key, cross_zone_attribute, replacement]),
		"action": "warn",
	}
}

replacement := deprecated_value

replacement := "true|false" if not deprecated_value
