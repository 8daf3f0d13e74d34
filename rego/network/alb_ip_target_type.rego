# METADATA
# title: ALB Ingresses target Pod IPs, not instances
# description: |
#   With instance targets, an ALB forwards every request to a NodePort on some node and
#   kube-proxy forwards it again, often to a Pod in another AZ: an extra hop, more
#   latency, cross-AZ data transfer, and NodePort/LoadBalancer backend Services. IP
#   targets send requests straight to the Pods (and are required for sticky sessions
#   and Fargate). The rule covers Ingresses the AWS Load Balancer Controller handles
#   (an IngressClass of an LBC controller, a class not in the inventory, the default
#   class, or the deprecated kubernetes.io/ingress.class: alb). The effective target
#   type comes from IngressClassParams spec.targetType, else the backend Service's
#   alb.ingress.kubernetes.io/target-type annotation, else the Ingress's, else LBC's
#   --default-target-type (lbcDefaultTargetType, instance). New Ingresses get
#   target-type: ip; UPDATEs (new target groups) and settings on IngressClassParams or
#   Services are warned.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-004
# custom:
#   id: NET-004
#   severity: medium
#   kinds: [Ingress]
#   default_action: mutate
#   referential: true
#   inventory: [IngressClass, IngressClassParams, Service]
#   why: |
#     An ALB with instance targets sends each request to a NodePort on any node, where
#     kube-proxy forwards it again, frequently into another Availability Zone: one more
#     hop of latency per request and cross-AZ data transfer billed at about $0.01/GB in
#     each direction. IP targets route requests straight to the Pods, let backends stay
#     ClusterIP Services, and are required for Fargate Pods and sticky sessions.
#   examples:
#     bad: |
#       apiVersion: networking.k8s.io/v1
#       kind: IngressClass
#       metadata: {name: alb}
#       spec: {controller: ingress.k8s.aws/alb}
#       ---
#       apiVersion: networking.k8s.io/v1
#       kind: Ingress
#       metadata: {name: genai, namespace: genai}
#       spec:
#         ingressClassName: alb
#         rules:
#         - http:
#             paths:
#             - {path: /chat, pathType: Prefix, backend: {service: {name: chatbot-ui, port: {number: 80}}}}
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: IngressClass
#       metadata: {name: alb}
#       spec: {controller: ingress.k8s.aws/alb}
#       ---
#       apiVersion: networking.k8s.io/v1
#       kind: Ingress
#       metadata:
#         name: genai
#         namespace: genai
#         annotations:
#           alb.ingress.kubernetes.io/target-type: ip
#           alb.ingress.kubernetes.io/healthcheck-path: /healthz
#       spec:
#         ingressClassName: alb
#         rules:
#         - http:
#             paths:
#             - {path: /chat, pathType: Prefix, backend: {service: {name: chatbot-ui, port: {number: 80}}}}
#   params:
#     lbcIngressControllers: [ingress.k8s.aws/alb]
#     lbcDefaultTargetType: instance
#   schema:
#     lbcIngressControllers: {type: array, items: {type: string}, description: "IngressClass controllers of the AWS Load Balancer Controller"}
#     lbcDefaultTargetType: {enum: [instance, ip], description: "the controller's default target type"}
package kgate.rules.network.alb_ip_target_type

import data.kgate.lib
import data.kgate.lib.network

applies if {
	lib.kind == "Ingress"
	not lib.exempt_namespace
	network.lbc_ingress
}

name := lib.obj.metadata.name

annotation_path := lib.annotation_path(network.alb_target_type_key)

class_params := network.ingress_class_params

# IngressClassParams spec.targetType overrides every annotation.
params_target := class_params.spec.targetType

ingress_target := lib.annotations[network.alb_target_type_key]

# Without annotation, LBC's --default-target-type applies (instance by default).
ingress_target_or_default := ingress_target

ingress_target_or_default := lib.params.lbcDefaultTargetType if not ingress_target

backends := network.ingress_backends

# service_target is the target-type annotation of a backend's Service, which wins
# over the Ingress's.
service_target(b) := network.backend_annotations(b.service)[network.alb_target_type_key]

# The Ingress's own target type matters for a backend whose Service does not set one
# (or for an Ingress without Service backends).
ingress_target_used if count(backends) == 0

ingress_target_used if {
	some b in backends
	not service_target(b)
}

class_path := "/spec/ingressClassName" if {
	network.ingress_class_name
} else := "/spec"

violation contains v if {
	applies
	params_target != "ip"
	v := {
		"msg": sprintf("Ingress %q uses IngressClassParams %q, which sets target type %s for every Ingress of its class", [name, class_params.metadata.name, params_target]),
		"path": class_path,
		"fix": sprintf("set spec.targetType: ip in IngressClassParams %s (annotations cannot override it)", [class_params.metadata.name]),
		"action": "warn",
	}
}

violation contains v if {
	applies
	not params_target
	ingress_target_or_default != "ip"
	ingress_target_used
	v := {
		"msg": sprintf("Ingress %q gets ALB target groups of type %s: requests go through NodePorts on any node, an extra hop that often crosses AZs", [name, ingress_target_or_default]),
		"path": path,
		"fix": fix,
		"action": action,
	}
}

violation contains v if {
	applies
	not params_target
	some b in backends
	t := service_target(b)
	t != "ip"
	v := {
		"msg": sprintf("Ingress %q routes to Service %q, whose annotation %s: %s overrides the Ingress's target type", [name, b.service, network.alb_target_type_key, t]),
		"path": b.path,
		"fix": sprintf("set annotation %s: ip on Service %s", [network.alb_target_type_key, b.service]),
		"action": "warn",
	}
}

path := annotation_path if {
	ingress_target
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

fix := sprintf("add annotation %s: ip", [network.alb_target_type_key]) if lib.creating

else := sprintf("set annotation %s: ip in a maintenance window (LBC creates new target groups)", [network.alb_target_type_key])

action := "mutate" if lib.creating

else := "warn"

patch contains {"op": "add", "path": annotation_path, "value": "ip"} if {
	applies
	lib.creating
	not params_target
	ingress_target_or_default != "ip"
	ingress_target_used
}
