# METADATA
# title: HTTP apps of a namespace share load balancers
# description: |
#   Every Service of type LoadBalancer gets its own AWS load balancer, and so does every
#   ALB Ingress outside an IngressGroup. For HTTP apps, one ALB can route by host and
#   path to many ClusterIP Services. The rule reports, from the inventory of the
#   namespace: (1) a LoadBalancer Service serving HTTP (a TCP port whose appProtocol is
#   http, https, kubernetes.io/h2c, kubernetes.io/ws or kubernetes.io/wss, else whose name
#   is http, https or starts with http- or https-, else port 80, 443, 8080 or 8443;
#   gRPC-named ports do not count) when the namespace's HTTP load balancers (such
#   Services plus the distinct ALBs of its Ingresses) are more than maxLbsPerNamespace;
#   (2) an Ingress of the AWS Load Balancer Controller without an IngressGroup
#   (alb.ingress.kubernetes.io/group.name, or IngressClassParams spec.group.name) when
#   another of the namespace's ALB Ingresses with the same scheme could share its ALB.
#   Ingresses in explicit groups are left alone: a group is a trust boundary. Only AWS
#   load balancers count (no loadBalancerClass, or one of lbcLoadBalancerClasses).
#   Audit-only: the verdict depends on other objects, so it is reported by kgate check
#   and audits and never blocks admission.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-008
# custom:
#   id: NET-008
#   severity: low
#   kinds: [Service, Ingress]
#   default_action: audit
#   audit_only: true
#   referential: true
#   inventory: [Service, Ingress, IngressClass, IngressClassParams]
#   why: |
#     Each NLB or ALB is billed by the hour (about $16 a month each in us-east-1 before
#     capacity units) whether it carries traffic or not, and each one is another DNS
#     name, certificate and security group to manage. A namespace that gives its chat
#     UI, RAG API and model endpoints one load balancer each pays that several times; an
#     IngressGroup puts their HTTP routes on one ALB (by path or host) in front of
#     ClusterIP Services, which also enables A/B tests and canaries between model
#     versions. Keep an NLB only for gRPC or raw TCP endpoints.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata: {name: chatbot-ui-lb, namespace: genai, annotations: {service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip}}
#       spec: {type: LoadBalancer, loadBalancerClass: service.k8s.aws/nlb, selector: {app.kubernetes.io/name: chatbot-ui}, ports: [{port: 80, targetPort: 8080}]}
#       ---
#       apiVersion: v1
#       kind: Service
#       metadata: {name: rag-app-lb, namespace: genai, annotations: {service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip}}
#       spec: {type: LoadBalancer, loadBalancerClass: service.k8s.aws/nlb, selector: {app.kubernetes.io/name: rag-app}, ports: [{port: 80, targetPort: 8080}]}
#       ---
#       apiVersion: v1
#       kind: Service
#       metadata: {name: my-llama-lb, namespace: genai, annotations: {service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip}}
#       spec: {type: LoadBalancer, loadBalancerClass: service.k8s.aws/nlb, selector: {app.kubernetes.io/name: my-llama-finetuned}, ports: [{name: http, port: 80, targetPort: 8080}]}
#     good: |
#       apiVersion: networking.k8s.io/v1
#       kind: Ingress
#       metadata:
#         name: chatbot-ui
#         namespace: genai
#         annotations:
#           alb.ingress.kubernetes.io/group.name: genai-public
#           alb.ingress.kubernetes.io/target-type: ip
#       spec:
#         ingressClassName: alb
#         rules:
#         - http:
#             paths:
#             - {path: /, pathType: Prefix, backend: {service: {name: chatbot-ui, port: {number: 80}}}}
#   params:
#     maxLbsPerNamespace: 2
#   schema:
#     maxLbsPerNamespace: {type: integer, minimum: 1, description: "HTTP load balancers (LoadBalancer Services serving HTTP plus distinct ALBs) a namespace may run before its HTTP LoadBalancer Services are reported"}
package kgate.rules.network.consolidate_load_balancers

import data.kgate.lib
import data.kgate.lib.network

group_key := "alb.ingress.kubernetes.io/group.name"

scheme_key := "alb.ingress.kubernetes.io/scheme"

http_app_protocols := {"http", "https", "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"}

http_port_numbers := {80, 443, 8080, 8443}

name := lib.obj.metadata.name

max_lbs := lib.params.maxLbsPerNamespace

reviewed if {
	input.operation in {"CREATE", "UPDATE", "AUDIT"}
	not lib.exempt_namespace
}

applies if {
	lib.kind == "Service"
	reviewed
	aws_lb(object.get(lib.obj, ["spec", "type"], ""), object.get(lib.obj, ["spec", "loadBalancerClass"], null))
}

applies if {
	lib.kind == "Ingress"
	reviewed
	ingress_albs[name]
}

# Services.

# aws_lb: a LoadBalancer Service that gets an AWS load balancer: LBC's class, or no
# class (LBC through its webhook or annotation, or the legacy cloud provider).
aws_lb("LoadBalancer", class) if class in {null, ""}

aws_lb("LoadBalancer", class) if class in lib.params.lbcLoadBalancerClasses

# http_port: a TCP Service port that carries HTTP, judged by appProtocol, else the port
# name, else the port number.
http_port(port) if {
	upper(lib.get(port, "protocol", "TCP")) == "TCP"
	http_by(lower(lib.get(port, "appProtocol", "")), lower(lib.get(port, "name", "")), lib.get(port, "port", 0))
}

http_by(app_protocol, _, _) if app_protocol in http_app_protocols

http_by("", port_name, _) if regex.match(`^https?(-|$)`, port_name)

http_by("", port_name, number) if {
	not regex.match(`^(https?|grpcs?|h2c?|tcp|tls)(-|$)`, port_name)
	number in http_port_numbers
}

# stored_http_lb_services indexes the stored LoadBalancer Services that serve HTTP
# by namespace. It reads only the inventory and the parameters, so kgate's
# evaluator computes it once per inventory rather than once per Service reviewed.
stored_http_lb_services[ns] := names if {
	some ns, kinds in data.inventory.namespace
	names := {n |
		some n, svc in object.get(kinds, "Service", {})
		aws_lb(object.get(svc, ["spec", "type"], ""), object.get(svc, ["spec", "loadBalancerClass"], null))
		some port in lib.get(object.get(svc, "spec", {}), "ports", [])
		http_port(port)
	}
}

# stored_http_lb_list names the stored HTTP load balancers of each namespace, sorted,
# for the message. Like stored_http_lb_services it depends on the inventory and the
# parameters alone, so the engine computes it once per inventory, not per review.
stored_http_lb_list[ns] := concat(", ", sort(names)) if some ns, names in stored_http_lb_services

stored_names := object.get(stored_http_lb_services, lib.namespace, set())

# http_lb_count is the number of the namespace's LoadBalancer Services that serve
# HTTP, the Service under review in place of its stored version. It is computed from
# the stored count so that a review does not copy the namespace's set.
http_lb_count := (count(stored_names) - own_stored) + own_http

own_stored := 1 if {
	lib.kind == "Service"
	name in stored_names
} else := 0

own_http := 1 if http_service

else := 0

# http_lb_list names the Services of http_lb_count for the message: the stored list
# when the Service under review is in it (in `kgate check` the inventory holds every
# object given), else that list with it added.
http_lb_list := object.get(stored_http_lb_list, lib.namespace, "") if own_stored == 1

else := concat(", ", sort(stored_names | {name}))

http_service if {
	applies
	lib.kind == "Service"
	some port in lib.get(lib.obj.spec, "ports", [])
	http_port(port)
}

http_lbs := http_lb_count + count(albs)

violation contains v if {
	http_service
	http_lbs > max_lbs
	v := {
		"msg": sprintf("namespace %q runs %d HTTP load balancers, more than maxLbsPerNamespace (%d): Service %q is one of %d LoadBalancer Services serving HTTP (%s), each with its own load balancer billed by the hour%s", [lib.namespace, http_lbs, max_lbs, name, http_lb_count, http_lb_list, alb_note]),
		"path": "/spec/type",
		"fix": "serve the HTTP apps of the namespace through one ALB: make their Services ClusterIP and route to them from Ingresses that share alb.ingress.kubernetes.io/group.name (only Ingresses whose owners trust each other: anyone who can create an Ingress in a group can add rules to its ALB); keep a LoadBalancer Service only for gRPC or TCP endpoints",
		"action": "audit",
	}
}

alb_note := sprintf(", besides %d ALB(s) of its Ingresses", [count(albs)]) if count(albs) > 0

else := ""

# Ingresses.

ingress_classes := network.ingress_classes

# effective_class is the IngressClass an Ingress is handled by: its ingressClassName,
# or, without it and without the deprecated annotation, the default class.
effective_class(class, _) := class if class != ""

effective_class("", "") := network.default_ingress_class

# lbc_class: the Ingress is reconciled by LBC (see network.lbc_ingress).
lbc_class(class, legacy) if ingress_classes[effective_class(class, legacy)].spec.controller in lib.params.lbcIngressControllers

lbc_class(class, _) if {
	class != ""
	not ingress_classes[class]
}

lbc_class("", legacy) if legacy == network.alb_ingress_class

# class_params is the spec of the IngressClassParams of the Ingress's class, {} if none.
class_params(class, legacy) := p.spec if {
	ref := ingress_classes[effective_class(class, legacy)].spec.parameters
	ref.apiGroup == "elbv2.k8s.aws"
	ref.kind == "IngressClassParams"
	p := data.inventory.cluster.IngressClassParams[ref.name]
} else := {}

# alb describes the ALB of an LBC Ingress: its group ("" for the Ingress's own ALB) and
# scheme; IngressClassParams override the annotations.
alb(class, legacy, annotations) := {"group": group, "scheme": scheme} if {
	lbc_class(class, legacy)
	params := class_params(class, legacy)
	group := lib.get(lib.get(params, "group", {}), "name", lib.get(annotations, group_key, ""))
	scheme := lib.get(params, "scheme", lib.get(annotations, scheme_key, "internal"))
}

# ingress_albs maps the name of every LBC Ingress of the namespace to its ALB; the
# Ingress under review replaces its stored version.
ingress_albs[n] := a if {
	some n, ing in object.get(data.inventory, ["namespace", lib.namespace, "Ingress"], {})
	not own_ingress(n)
	a := alb(
		lib.get(lib.get(ing, "spec", {}), "ingressClassName", ""),
		lib.get(object.get(ing, ["metadata", "annotations"], {}), network.ingress_class_key, ""),
		lib.get(lib.get(ing, "metadata", {}), "annotations", {}),
	)
}

ingress_albs[name] := a if {
	lib.kind == "Ingress"
	input.operation in {"CREATE", "UPDATE", "AUDIT"}
	not lib.exempt_namespace
	a := alb(
		lib.get(lib.get(lib.obj, "spec", {}), "ingressClassName", ""),
		lib.get(lib.annotations, network.ingress_class_key, ""),
		lib.annotations,
	)
}

own_ingress(n) if {
	lib.kind == "Ingress"
	n == name
}

# albs are the distinct ALBs of the namespace's Ingresses.
albs contains k if {
	some n, a in ingress_albs
	k := alb_key(n, a.group)
}

alb_key(n, "") := concat("", ["ingress/", n])

alb_key(_, group) := concat("", ["group/", group]) if group != ""

own_alb := ingress_albs[name] if lib.kind == "Ingress"

# peers: the namespace's other ALB Ingresses with the scheme of the one under review.
peers contains n if {
	some n, a in ingress_albs
	n != name
	a.scheme == own_alb.scheme
}

violation contains v if {
	applies
	own_alb.group == ""
	count(peers) > 0
	v := {
		"msg": sprintf("Ingress %q gets an ALB of its own although namespace %q has %d other %s ALB Ingress(es) (%s) that could share one", [name, lib.namespace, count(peers), own_alb.scheme, concat(", ", sort(peers))]),
		"path": group_path,
		"fix": sprintf("add annotation %s: %s to the Ingresses of the namespace that may share an ALB; a group is a trust boundary (anyone who can create an Ingress in it can add rules to the ALB) and annotations marked Exclusive must agree across it", [group_key, suggested_group]),
		"action": "audit",
	}
}

group_path := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

# suggested_group: a group a peer already uses, else one named after the namespace.
suggested_group := groups[0] if {
	groups := sort({a.group | some n, a in ingress_albs; a.scheme == own_alb.scheme; a.group != ""})
	count(groups) > 0
} else := lib.namespace if {
	own_alb.scheme == "internal"
} else := trim_right(substring(concat("-", [lib.namespace, "public"]), 0, 63), "-.")
