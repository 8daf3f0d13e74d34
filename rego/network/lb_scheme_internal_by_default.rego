# METADATA
# title: Load balancers are internal unless their namespace may be public
# description: |
#   Model endpoints, vector databases and RAG services are for in-VPC clients; an
#   internet-facing load balancer exposes them and bills internet egress. The rule
#   rejects internet-facing load balancers outside publicNamespaces: NLBs of Services
#   the AWS Load Balancer Controller reconciles (aws-load-balancer-scheme, else the
#   deprecated aws-load-balancer-internal, else internal; on UPDATE an absent annotation
#   keeps the existing scheme), ALBs of its Ingresses (IngressClassParams spec.scheme,
#   else alb.ingress.kubernetes.io/scheme, else internal), and load balancers of the
#   legacy in-tree cloud provider (class-less Services that LBC does not take: on
#   UPDATE, or when lbcInstalled is false), which are internet-facing unless annotated
#   aws-load-balancer-internal and ignore aws-load-balancer-scheme. New Services without
#   a class are judged as LBC's when lbcInstalled (its webhook or NET-002 sets the
#   class). An UPDATE that keeps an existing internet-facing load balancer is only
#   warned. A scheme change on UPDATE replaces the load balancer (new DNS name) and is
#   rejected unless the object carries the annotation named by
#   allowSchemeChangeAnnotation with value "true". Scheme values the controller rejects
#   are denied. Services of other load-balancer classes are out of scope. Nothing is
#   mutated: internal is already the default.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-005
# custom:
#   id: NET-005
#   severity: high
#   kinds: [Service, Ingress]
#   default_action: deny
#   referential: true
#   inventory: [IngressClass, IngressClassParams]
#   why: |
#     An internet-facing load balancer puts a model endpoint, and the GPUs behind it,
#     within reach of anyone on the internet, and every response it sends out is billed
#     as internet data transfer. Internal is the AWS Load Balancer Controller's default,
#     but one annotation flips it, the legacy cloud provider is internet-facing unless
#     told otherwise, and changing the scheme later replaces the load balancer and its
#     DNS name.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-public
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
#       spec:
#         type: LoadBalancer
#         loadBalancerClass: service.k8s.aws/nlb
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080}]
#     good: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-internal
#         namespace: genai
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-scheme: internal
#       spec:
#         type: LoadBalancer
#         loadBalancerClass: service.k8s.aws/nlb
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080}]
#   params:
#     publicNamespaces: [ingress-nginx, istio-ingress, envoy-gateway-system]
#     allowSchemeChangeAnnotation: kgate.dev/allow-scheme-change
#     lbcInstalled: true
#     lbcLoadBalancerClasses: [service.k8s.aws/nlb]
#     lbcServiceMutatorWebhook: true
#     lbcIngressControllers: [ingress.k8s.aws/alb]
#   schema:
#     publicNamespaces: {type: array, items: {type: string}, description: "namespaces whose Services and Ingresses may have internet-facing load balancers"}
#     allowSchemeChangeAnnotation: {type: string, minLength: 1, description: "annotation that, set to \"true\" on the object, allows an UPDATE to change the load balancer scheme (which replaces the load balancer)"}
#     lbcInstalled: {type: boolean, description: "the AWS Load Balancer Controller runs in the cluster"}
#     lbcLoadBalancerClasses: {type: array, items: {type: string}, description: "loadBalancerClass values the AWS Load Balancer Controller serves"}
#     lbcServiceMutatorWebhook: {type: boolean, description: "the controller's Service mutator webhook is enabled (LBC >= 2.5 default)"}
#     lbcIngressControllers: {type: array, items: {type: string}, description: "IngressClass controllers of the AWS Load Balancer Controller"}
package kgate.rules.network.lb_scheme_internal_by_default

import data.kgate.lib
import data.kgate.lib.network

scheme_key := "service.beta.kubernetes.io/aws-load-balancer-scheme"

internal_key := "service.beta.kubernetes.io/aws-load-balancer-internal"

alb_scheme_key := "alb.ingress.kubernetes.io/scheme"

schemes := {"internal", "internet-facing"}

public := "internet-facing"

applies if service_scope

applies if ingress_scope

name := lib.obj.metadata.name

old_annotations := network.annotations_of(input.oldObject) if lib.updating

public_namespace if lib.namespace in lib.params.publicNamespaces

allowed_change if lib.annotations[lib.params.allowSchemeChangeAnnotation] == "true"

# --- Services ---

service_scope if {
	lib.kind == "Service"
	not lib.exempt_namespace
	network.service_lb
	not other_class
}

# Services of another load-balancer implementation (MetalLB, Cilium, ...).
other_class if {
	c := network.service_class
	not c in lib.params.lbcLoadBalancerClasses
}

# lbc_service: reconciled by LBC as in NET-001, or a new class-less Service that gets
# LBC's class (from its webhook or NET-002) because LBC is installed.
lbc_service if {
	service_scope
	network.lbc_managed
}

lbc_service if {
	service_scope
	lib.creating
	lib.params.lbcInstalled
	not network.service_class
}

legacy_service if {
	service_scope
	not lbc_service
}

# strconv.ParseBool, which LBC uses for aws-load-balancer-internal.
go_bool := {
	"1": true, "t": true, "T": true, "TRUE": true, "true": true, "True": true,
	"0": false, "f": false, "F": false, "FALSE": false, "false": false, "False": false,
}

# lbc_explicit is the scheme the annotations name for LBC: aws-load-balancer-scheme
# (possibly invalid), else the deprecated aws-load-balancer-internal.
lbc_explicit(annotations) := annotations[scheme_key]

lbc_explicit(annotations) := {true: "internal", false: public}[go_bool[annotations[internal_key]]] if {
	not annotations[scheme_key]
}

# old_lbc: on UPDATE, the stored Service already has an LBC load balancer.
old_lbc if {
	lib.updating
	network.lbc_service(input.oldObject)
}

old_lbc_scheme := s if {
	old_lbc
	s := lbc_explicit(old_annotations)
} else := "internal" if old_lbc

# Without an annotation LBC keeps the scheme of an existing NLB, else uses internal.
lbc_scheme := s if {
	s := lbc_explicit(lib.annotations)
} else := old_lbc_scheme if {
	old_lbc
} else := "internal"

# The legacy cloud provider: internal only with a non-empty aws-load-balancer-internal
# other than "false"; it ignores aws-load-balancer-scheme.
legacy_scheme(annotations) := "internal" if {
	v := annotations[internal_key]
	v != ""
	v != "false"
} else := public

old_legacy if {
	lib.updating
	network.load_balancer(input.oldObject)
	not network.lb_class(input.oldObject)
	not object.get(old_annotations, network.lb_type_key, "") in {"external", "nlb-ip"}
}

# --- Ingresses ---

ingress_scope if {
	lib.kind == "Ingress"
	not lib.exempt_namespace
	network.lbc_ingress
}

params_scheme := s if {
	s := network.ingress_class_params.spec.scheme
	is_string(s)
	s != ""
}

ingress_scheme := params_scheme

ingress_scheme := s if {
	not params_scheme
	s := lib.annotations[alb_scheme_key]
}

ingress_scheme := "internal" if {
	not params_scheme
	not lib.annotations[alb_scheme_key]
}

old_ingress_scheme := params_scheme if lib.updating

old_ingress_scheme := s if {
	lib.updating
	not params_scheme
	s := object.get(old_annotations, alb_scheme_key, "internal")
}

# --- The load balancer under review ---

# scheme is its effective scheme; old_scheme, on UPDATE, that of the stored object
# when it already had a load balancer of the same controller.
scheme := lbc_scheme if lbc_service

scheme := legacy_scheme(lib.annotations) if legacy_service

scheme := ingress_scheme if ingress_scope

old_scheme := old_lbc_scheme if lbc_service

old_scheme := legacy_scheme(old_annotations) if {
	legacy_service
	old_legacy
}

old_scheme := old_ingress_scheme if ingress_scope

violation contains v if {
	applies
	scheme == public
	not public_namespace
	v := {
		"msg": sprintf("%s %q gets an internet-facing %s, but namespace %q is not in publicNamespaces: its endpoints are reachable from the internet", [lib.kind, name, lb_kind, lib.namespace]),
		"path": scheme_path,
		"fix": public_fix,
		"action": public_action,
	}
}

lb_kind := "ALB" if ingress_scope

else := "NLB" if lbc_service

else := "load balancer (legacy cloud provider)"

# An UPDATE that keeps an existing internet-facing load balancer is only warned.
public_action := "warn" if old_scheme == public

else := "deny"

public_fix := sprintf("%s; if the endpoint must be public, ask for the namespace to be added to publicNamespaces and restrict spec.loadBalancerSourceRanges", [internal_fix])

internal_fix := sprintf("use an IngressClass whose IngressClassParams sets spec.scheme: internal (IngressClassParams %s overrides the annotations)", [network.ingress_class_params.metadata.name]) if {
	ingress_scope
	params_scheme
} else := sprintf("remove annotation %s or set it to internal", [alb_scheme_key]) if {
	ingress_scope
} else := sprintf("set annotation %s: \"true\" (the legacy cloud provider ignores %s), or recreate the Service with the AWS Load Balancer Controller's loadBalancerClass", [internal_key, scheme_key]) if {
	legacy_service
} else := sprintf("remove annotation %s or set it to internal (the default)", [scheme_key]) if {
	lib.annotations[scheme_key]
} else := sprintf("remove annotation %s or set it to \"true\"", [internal_key])

scheme_path := "/spec/ingressClassName" if {
	ingress_scope
	params_scheme
	network.ingress_class_name
} else := "/spec" if {
	ingress_scope
	params_scheme
} else := lib.annotation_path(alb_scheme_key) if {
	ingress_scope
	lib.annotations[alb_scheme_key]
} else := lib.annotation_path(scheme_key) if {
	lbc_service
	lib.annotations[scheme_key]
} else := lib.annotation_path(internal_key) if {
	not ingress_scope
	lib.annotations[internal_key]
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

# A scheme change replaces the load balancer: LBC names it after its scheme (the
# legacy cloud provider is left to its own behaviour).
violation contains v if {
	applies
	not legacy_service
	old_scheme in schemes
	scheme in schemes
	scheme != old_scheme
	not allowed_change
	v := {
		"msg": sprintf("%s %q changes its load balancer scheme from %s to %s: the controller replaces the load balancer, and clients of its DNS name lose the endpoint", [lib.kind, name, old_scheme, scheme]),
		"path": scheme_path,
		"fix": sprintf("keep the scheme %s; to replace the load balancer deliberately, annotate the object %s: \"true\"", [old_scheme, lib.params.allowSchemeChangeAnnotation]),
		"action": "deny",
	}
}

# Values the controller rejects.
invalid contains [key, value, "internal or internet-facing"] if {
	lbc_service
	value := lib.annotations[scheme_key]
	not value in schemes
	key := scheme_key
}

invalid contains [key, value, "true or false"] if {
	lbc_service
	not lib.annotations[scheme_key]
	value := lib.annotations[internal_key]
	object.get(go_bool, value, null) == null
	key := internal_key
}

invalid contains [key, value, "internal or internet-facing"] if {
	ingress_scope
	not params_scheme
	value := lib.annotations[alb_scheme_key]
	not value in schemes
	key := alb_scheme_key
}

violation contains v if {
	some [key, value, valid] in invalid
	v := {
		"msg": sprintf("%s %q sets %s: %q, which the AWS Load Balancer Controller rejects: the load balancer is not reconciled", [lib.kind, name, key, value]),
		"path": lib.annotation_path(key),
		"fix": sprintf("set %s to %s", [key, valid]),
		"action": invalid_action(key),
	}
}

# A value already stored is only warned on UPDATE.
invalid_action(key) := "warn" if {
	lib.updating
	old_annotations[key] == lib.annotations[key]
} else := "deny"
