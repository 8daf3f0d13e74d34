# METADATA
# title: kgate network helpers
# description: |
#   Shared definitions of the load-balancing rules (catalog section 6): which Services
#   and Ingresses the AWS Load Balancer Controller (LBC) reconciles, and the target type
#   it gives their target groups. The lbc* parameters describe the cluster's LBC
#   installation (lbcDefaultTargetType is its --default-target-type flag); rules that
#   use these helpers declare them with the same defaults.
# custom:
#   params:
#     lbcLoadBalancerClasses: [service.k8s.aws/nlb]
#     lbcServiceMutatorWebhook: true
#     lbcIngressControllers: [ingress.k8s.aws/alb]
#     lbcDefaultTargetType: instance
#   schema:
#     lbcLoadBalancerClasses: {type: array, items: {type: string}, description: "loadBalancerClass values the AWS Load Balancer Controller serves"}
#     lbcServiceMutatorWebhook: {type: boolean, description: "the controller's Service mutator webhook is enabled (LBC >= 2.5 default)"}
#     lbcIngressControllers: {type: array, items: {type: string}, description: "IngressClass controllers of the AWS Load Balancer Controller"}
#     lbcDefaultTargetType: {enum: [instance, ip], description: "the controller's default target type"}
package kgate.lib.network

import data.kgate.lib

lb_type_key := "service.beta.kubernetes.io/aws-load-balancer-type"

nlb_target_type_key := "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"

alb_target_type_key := "alb.ingress.kubernetes.io/target-type"

ingress_class_key := "kubernetes.io/ingress.class"

default_ingress_class_key := "ingressclass.kubernetes.io/is-default-class"

# The legacy ingress.class annotation value LBC answers to (its --ingress-class default).
alb_ingress_class := "alb"

annotations_of(o) := object.get(o, ["metadata", "annotations"], {})

# Services. The functions take any Service (e.g. from the inventory); the rules
# without arguments below describe the Service under review and are computed once per
# evaluation.

# load_balancer is true for a Service of type LoadBalancer.
load_balancer(svc) if object.get(svc, ["spec", "type"], "") == "LoadBalancer"

# lb_class is the Service's spec.loadBalancerClass; undefined when unset or empty.
lb_class(svc) := c if {
	c := object.get(svc, ["spec", "loadBalancerClass"], "")
	is_string(c)
	c != ""
}

# lb_type is the service.beta.kubernetes.io/aws-load-balancer-type annotation.
lb_type(svc) := annotations_of(svc)[lb_type_key]

# lbc_service is true for a LoadBalancer Service that LBC reconciles as it is written:
# its class is one of LBC's, or it has no class and asks for LBC with the
# aws-load-balancer-type annotation (external, or the deprecated nlb-ip). Services of
# any other class (MetalLB, Cilium, ...) are never LBC's.
lbc_service(svc) if {
	load_balancer(svc)
	lb_class(svc) in lib.params.lbcLoadBalancerClasses
}

lbc_service(svc) if {
	load_balancer(svc)
	not lb_class(svc)
	lb_type(svc) in {"external", "nlb-ip"}
}

# nlb_target_type is the target type LBC gives the Service's target groups: the
# deprecated aws-load-balancer-type nlb-ip always means ip; otherwise the
# nlb-target-type annotation, whose default is LBC's --default-target-type (instance).
nlb_target_type(svc) := "ip" if {
	lb_type(svc) == "nlb-ip"
} else := t if {
	t := annotations_of(svc)[nlb_target_type_key]
} else := lib.params.lbcDefaultTargetType

# The Service under review.

service_lb if object.get(lib.obj, ["spec", "type"], "") == "LoadBalancer"

own_class := c if {
	c := object.get(lib.obj, ["spec", "loadBalancerClass"], "")
	is_string(c)
	c != ""
}

# On UPDATE, LBC's webhook carries the stored class over when the new object omits it.
service_class := own_class

service_class := c if {
	lib.updating
	not own_class
	c := lb_class(input.oldObject)
}

service_lb_type := lib.annotations[lb_type_key]

# lbc_managed is true when the Service under review is (or, once created, will be)
# reconciled by LBC: as lbc_service, or, on CREATE, a LoadBalancer Service without
# class and without type annotation, which LBC's service mutating webhook (LBC >= 2.5,
# on by default) hands to LBC by setting its class. The webhook only acts on CREATE: a
# Service still without class on UPDATE belongs to the legacy cloud provider.
lbc_managed if {
	service_lb
	service_class in lib.params.lbcLoadBalancerClasses
}

lbc_managed if {
	service_lb
	not service_class
	service_lb_type in {"external", "nlb-ip"}
}

lbc_managed if {
	lib.creating
	lib.params.lbcServiceMutatorWebhook
	service_lb
	not service_class
	not service_lb_type
}

# service_target_type is nlb_target_type of the Service under review.
service_target_type := "ip" if {
	service_lb_type == "nlb-ip"
} else := t if {
	t := lib.annotations[nlb_target_type_key]
} else := lib.params.lbcDefaultTargetType

# The Ingress under review.

ingress_spec := object.get(lib.obj, "spec", {})

# ingress_class_name is spec.ingressClassName; undefined when unset or empty.
ingress_class_name := n if {
	n := ingress_spec.ingressClassName
	is_string(n)
	n != ""
}

ingress_classes := object.get(data.inventory, ["cluster", "IngressClass"], {})

# default_ingress_class is the name of the cluster's default IngressClass (the one the
# DefaultIngressClass admission plugin fills in), when exactly one is marked.
default_ingress_class := name if {
	defaults := {n | some n, c in ingress_classes; annotations_of(c)[default_ingress_class_key] == "true"}
	count(defaults) == 1
	some name in defaults
}

# ingress_class is the IngressClass the Ingress is handled by: its ingressClassName,
# else (without the deprecated annotation) the default class.
ingress_class := ingress_class_name

ingress_class := default_ingress_class if {
	not ingress_class_name
	not lib.annotations[ingress_class_key]
}

# lbc_ingress is true for an Ingress reconciled by LBC: its IngressClass names an LBC
# controller, or is not in the inventory (taken as LBC's: admission cannot tell, and
# the annotations the ALB rules add are ignored by other controllers), or it has no
# class and the deprecated annotation kubernetes.io/ingress.class: alb.
lbc_ingress if ingress_classes[ingress_class].spec.controller in lib.params.lbcIngressControllers

lbc_ingress if {
	ingress_class
	not ingress_classes[ingress_class]
}

lbc_ingress if {
	not ingress_class_name
	lib.annotations[ingress_class_key] == alb_ingress_class
}

# ingress_class_params is the IngressClassParams object the Ingress's class points at.
ingress_class_params := p if {
	ref := ingress_classes[ingress_class].spec.parameters
	ref.apiGroup == "elbv2.k8s.aws"
	ref.kind == "IngressClassParams"
	p := data.inventory.cluster.IngressClassParams[ref.name]
}

# ingress_backends lists the Service backends of the Ingress: {path, service} with
# path the JSON pointer of the backend.
ingress_backends contains {"path": "/spec/defaultBackend", "service": ingress_spec.defaultBackend.service.name}

ingress_backends contains {"path": sprintf("/spec/rules/%d/http/paths/%d/backend", [i, j]), "service": p.backend.service.name} if {
	some i, rule in object.get(ingress_spec, "rules", [])
	some j, p in object.get(rule, ["http", "paths"], [])
}

# backend_annotations are the annotations of a Service of the Ingress's namespace,
# from the inventory ({} when it is not there).
backend_annotations(name) := object.get(data.inventory, ["namespace", lib.namespace, "Service", name, "metadata", "annotations"], {})
