# METADATA
# title: LoadBalancer Services are owned by the AWS Load Balancer Controller
# description: |
#   A LoadBalancer Service without a loadBalancerClass and without the
#   aws-load-balancer-type annotation external (or the deprecated nlb-ip) is reconciled
#   by the legacy in-tree cloud provider: a Classic Load Balancer (or an instance-mode
#   NLB for aws-load-balancer-type: nlb), internet-facing unless annotated otherwise,
#   with none of the controller's features (IP targets, health-check annotations,
#   attributes). The AWS Load Balancer Controller's own webhook (LBC >= 2.5,
#   lbcServiceMutatorWebhook) gives every new LoadBalancer Service its class; when that
#   webhook is off, new Services (CREATE, or an UPDATE that turns a Service into a
#   LoadBalancer) get spec.loadBalancerClass set to the first of lbcLoadBalancerClasses
#   (a warning when lbcInstalled is false). A class that is already set is final, and
#   Services of other classes (MetalLB, Cilium, ...) are out of scope. On UPDATE, the
#   class can no longer be set (warned), adding, changing or removing the
#   aws-load-balancer-type annotation is rejected (it leaks AWS resources or changes
#   owners), and turning the Service into another type is warned (the load balancer is
#   deleted). The deprecated type nlb-ip is warned on CREATE and audited on UPDATE.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-002
# custom:
#   id: NET-002
#   severity: high
#   kinds: [Service]
#   default_action: mutate
#   why: |
#     Without the AWS Load Balancer Controller, Kubernetes' legacy cloud provider builds
#     a Classic Load Balancer that is internet-facing by default and can only send
#     traffic through NodePorts, so model endpoints get an extra hop, cross-AZ transfer
#     and no Pod-level health checks. Handing a Service to the controller later means
#     deleting it: changing the aws-load-balancer-type annotation on an existing
#     Service leaks the old load balancer or exposes the new one to the internet.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: rag-public
#         namespace: genai
#         annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb-ip}
#       spec:
#         type: LoadBalancer
#         selector: {app.kubernetes.io/name: rag-app}
#         ports: [{port: 443, targetPort: 8443, protocol: TCP}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: rag-public
#         namespace: genai
#         annotations: {service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip}
#       spec:
#         type: LoadBalancer
#         loadBalancerClass: service.k8s.aws/nlb
#         selector: {app.kubernetes.io/name: rag-app}
#         ports: [{port: 443, targetPort: 8443, protocol: TCP}]
#   params:
#     lbcInstalled: true
#     lbcLoadBalancerClasses: [service.k8s.aws/nlb]
#     lbcServiceMutatorWebhook: true
#   schema:
#     lbcInstalled: {type: boolean, description: "the AWS Load Balancer Controller runs in the cluster"}
#     lbcLoadBalancerClasses: {type: array, items: {type: string}, description: "loadBalancerClass values the AWS Load Balancer Controller serves"}
#     lbcServiceMutatorWebhook: {type: boolean, description: "the controller's Service mutator webhook is enabled (LBC >= 2.5 default)"}
package kgate.rules.network.lb_controller_ownership

import data.kgate.lib
import data.kgate.lib.network

name := lib.obj.metadata.name

old := input.oldObject

type_key := network.lb_type_key

type_path := lib.annotation_path(type_key)

# in_scope: a LoadBalancer Service without a class, or with one of LBC's classes.
in_scope(svc) if {
	network.load_balancer(svc)
	not network.lb_class(svc)
}

in_scope(svc) if {
	network.load_balancer(svc)
	network.lb_class(svc) in lib.params.lbcLoadBalancerClasses
}

# The Service under review is a LoadBalancer this rule covers (on UPDATE, LBC's
# webhook carries a stored class over when the new object omits it).
service_in_scope if {
	network.service_lb
	not network.service_class
}

service_in_scope if {
	network.service_lb
	network.service_class in lib.params.lbcLoadBalancerClasses
}

# old_lb: on UPDATE, the stored Service already has a load balancer this rule covers.
old_lb if {
	lib.updating
	in_scope(old)
}

applies if {
	lib.kind == "Service"
	not lib.exempt_namespace
	service_in_scope
}

applies if {
	lib.kind == "Service"
	not lib.exempt_namespace
	deleted_lb
}

# new_lb: the request creates the load balancer (CREATE, or an UPDATE that makes the
# Service a LoadBalancer), so spec.loadBalancerClass can still be set.
new_lb if lib.creating

new_lb if {
	lib.updating
	not network.load_balancer(old)
}

lb_type := object.get(lib.annotations, type_key, "")

old_lb_type := object.get(network.annotations_of(old), type_key, "")

# legacy: the Service has no class and does not ask for LBC by annotation, so the
# in-tree cloud provider reconciles it unless a class is set before it is stored.
legacy if {
	service_in_scope
	not network.service_class
	not lb_type in {"external", "nlb-ip"}
}

# LBC's webhook sets the class of every LoadBalancer Service without one, on CREATE
# only (whatever its aws-load-balancer-type annotation says).
lbc_webhook_sets_class if {
	lib.creating
	lib.params.lbcServiceMutatorWebhook
}

class_to_set := lib.params.lbcLoadBalancerClasses[0] if lib.params.lbcInstalled

legacy_desc := "a Classic Load Balancer" if lb_type != "nlb"

else := "an instance-mode NLB"

# (a) a new load balancer the legacy cloud provider would own.
violation contains v if {
	applies
	new_lb
	legacy
	not lbc_webhook_sets_class
	class_to_set
	v := {
		"msg": sprintf("Service %q has no loadBalancerClass: the legacy cloud provider would create %s for it, internet-facing by default and with NodePort targets only", [name, legacy_desc]),
		"path": "/spec/loadBalancerClass",
		"fix": sprintf("set spec.loadBalancerClass: %s so that the AWS Load Balancer Controller creates an NLB", [class_to_set]),
		"action": "mutate",
	}
}

violation contains v if {
	applies
	new_lb
	legacy
	not lbc_webhook_sets_class
	not class_to_set
	v := {
		"msg": sprintf("Service %q has no loadBalancerClass: the legacy cloud provider creates %s for it, internet-facing by default and with NodePort targets only", [name, legacy_desc]),
		"path": "/spec/type",
		"fix": "install the AWS Load Balancer Controller (set lbcInstalled and lbcLoadBalancerClasses), then create the Service with its loadBalancerClass",
		"action": "warn",
	}
}

# An existing legacy load balancer: its class can no longer be set.
violation contains v if {
	applies
	not new_lb
	legacy
	v := {
		"msg": sprintf("Service %q is a load balancer of the legacy cloud provider; spec.loadBalancerClass cannot be set on an existing LoadBalancer Service", [name]),
		"path": "/spec/type",
		"fix": "in a maintenance window, delete the Service and create it again with the AWS Load Balancer Controller's loadBalancerClass (or aws-load-balancer-type: external); its load balancer and DNS name are replaced",
		"action": "warn",
	}
}

patch contains {"op": "add", "path": "/spec/loadBalancerClass", "value": class_to_set} if {
	applies
	new_lb
	legacy
	not lbc_webhook_sets_class
}

# (b) the aws-load-balancer-type annotation changes on an existing load balancer.
violation contains v if {
	applies
	old_lb
	network.service_lb
	lb_type != old_lb_type
	v := {
		"msg": sprintf("Service %q changes annotation %s from %s to %s on an existing load balancer: the controllers swap ownership, leaking the old load balancer or exposing a new one", [name, type_key, shown(old_lb_type), shown(lb_type)]),
		"path": type_path_or_annotations,
		"fix": sprintf("keep %s as it was at creation; to change it, delete the Service and create it again", [type_key]),
		"action": "deny",
	}
}

shown("") := "(none)"

shown(s) := s if s != ""

type_path_or_annotations := type_path if {
	lib.annotations[type_key]
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

# (c) the deprecated nlb-ip type.
violation contains v if {
	applies
	lb_type == "nlb-ip"
	v := {
		"msg": sprintf("Service %q uses the deprecated %s: nlb-ip", [name, type_key]),
		"path": type_path,
		"fix": nlb_ip_fix,
		"action": nlb_ip_action,
	}
}

nlb_ip_fix := sprintf("use %s: external with service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip (or spec.loadBalancerClass)", [type_key]) if new_lb

else := sprintf("keep it on this Service (%s must not change on an existing Service); use external with nlb-target-type: ip when you next recreate it", [type_key])

nlb_ip_action := "warn" if new_lb

else := "audit"

# The Service stops being a load balancer: its controller deletes the load balancer.
deleted_lb if {
	old_lb
	not network.service_lb
}

violation contains v if {
	applies
	deleted_lb
	v := {
		"msg": sprintf("Service %q changes from LoadBalancer to %s: its controller deletes the load balancer, and clients of its DNS name lose the endpoint", [name, object.get(lib.obj, ["spec", "type"], "ClusterIP")]),
		"path": "/spec/type",
		"fix": "keep type: LoadBalancer while clients use the load balancer; switch them to a new endpoint first",
		"action": "warn",
	}
}
