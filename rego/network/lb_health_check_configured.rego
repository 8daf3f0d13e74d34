# METADATA
# title: Load balancer health checks test that the model is ready
# description: |
#   The AWS Load Balancer Controller gives NLB target groups a TCP health check by
#   default, which a model server passes as soon as its port is open, minutes before the
#   weights are loaded. For Services the controller reconciles (as in NET-001), the rule
#   warns when an inference Service (labels matching inferenceSelector) or a Service
#   with an HTTP port (appProtocol http/https, or a port named http, https, http-* or
#   https-*) keeps the TCP check, unless all its ports are gRPC (which needs TCP or an
#   HTTP health sidecar) or proxy protocol v2 is on (an HTTP check then needs a health
#   port that speaks it); an explicit TCP check with externalTrafficPolicy: Local is
#   warned too. An HTTP(S) check without healthcheck-path probes "/". When
#   defaultHealthCheckPath is set, new inference Services without a protocol get
#   healthcheck-protocol: http and that path instead. Values the controller or ELB
#   rejects are denied: protocol other than tcp/http/https, interval outside 5-300 s,
#   timeout outside 2-120 s, thresholds outside 2-10, ports that are not traffic-port,
#   1-65535 or the name of a Service port (with an integer targetPort for IP targets),
#   paths not starting with "/", success codes outside 200-599; on UPDATE a value that
#   was already stored is only warned. An unhealthy threshold below
#   minUnhealthyThreshold is warned. For Pods and pod templates of inference
#   workloads, serving containers (those with ports, else all) without readinessProbe
#   are warned, and accelerator model servers with a livenessProbe but no startupProbe
#   too (the liveness probe can kill them while they load the model). The instance-mode
#   defaults for externalTrafficPolicy: Local (HTTP /healthz on the healthCheckNodePort)
#   are honoured. ALB Ingresses use alb.ingress.kubernetes.io/healthcheck-* and are not
#   covered.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-003
# custom:
#   id: NET-003
#   severity: medium
#   kinds: [Service, Pod, Deployment, ReplicaSet, StatefulSet, LeaderWorkerSet, RayService]
#   default_action: warn
#   why: |
#     A large model takes minutes to load onto its GPUs, but a TCP health check passes
#     as soon as the server opens its port, so the load balancer sends users to replicas
#     that can only fail or time out. A health check on an endpoint such as /healthz that
#     returns 200 only once the model is loaded and GPU memory is available, plus
#     readiness probes on the Pods, keeps traffic on replicas that can answer; health
#     check values outside the ELB limits (interval 5-300 s, thresholds 2-10) stop the
#     controller from reconciling the load balancer at all.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Service
#       metadata:
#         name: my-llama-svc
#         namespace: genai
#         labels: {kgate.dev/role: inference}
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-type: "external"
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: "1"
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
#         labels: {kgate.dev/role: inference}
#         annotations:
#           service.beta.kubernetes.io/aws-load-balancer-type: "external"
#           service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol: http
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-path: /healthz
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: "10"
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout: "6"
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold: "2"
#           service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold: "3"
#       spec:
#         type: LoadBalancer
#         selector: {app.kubernetes.io/name: my-llama-finetuned}
#         ports: [{port: 80, targetPort: 8080, protocol: TCP}]
#   params:
#     inferenceSelector:
#       matchLabels: {kgate.dev/role: inference}
#     defaultHealthCheckPath: ""
#     minUnhealthyThreshold: 2
#     lbcLoadBalancerClasses: [service.k8s.aws/nlb]
#     lbcServiceMutatorWebhook: true
#     lbcDefaultTargetType: instance
#   schema:
#     inferenceSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of inference Services and workloads (matched against Service, object and pod template labels)"}
#     defaultHealthCheckPath: {type: string, pattern: "^(/.*)?$", description: "health-check path given to new inference Services that use the default TCP check (empty: do not mutate)"}
#     minUnhealthyThreshold: {type: integer, minimum: 2, maximum: 10, description: "lowest accepted healthcheck-unhealthy-threshold (a busy model server that misses few checks is not taken out)"}
#     lbcLoadBalancerClasses: {type: array, items: {type: string}, description: "loadBalancerClass values the AWS Load Balancer Controller serves"}
#     lbcServiceMutatorWebhook: {type: boolean, description: "the controller's Service mutator webhook is enabled (LBC >= 2.5 default)"}
#     lbcDefaultTargetType: {enum: [instance, ip], description: "the controller's default target type"}
package kgate.rules.network.lb_health_check_configured

import data.kgate.lib
import data.kgate.lib.karpenter
import data.kgate.lib.network
import data.kgate.lib.pods

applies if service_scope

applies if {
	lib.kind in pod_kinds
	count(inference_templates) > 0
}

name := lib.obj.metadata.name

# Findings are computed per kind: the function is keyed by the kind, so OPA's rule
# index evaluates only the findings of the object's kind.
violation contains v if {
	some v in findings(lib.kind)
}

findings("Service") := service_findings

findings(kind) := pod_findings if kind in pod_kinds

# --- Services ---

protocol_key := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol"

port_key := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port"

path_key := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"

codes_key := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes"

unhealthy_key := "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold"

service_scope if {
	lib.kind == "Service"
	not lib.exempt_namespace
	network.lbc_managed
}

annotations := lib.annotations

spec := object.get(lib.obj, "spec", {})

old_annotations := network.annotations_of(input.oldObject) if lib.updating

else := {}

key_path(key) := lib.annotation_path(key)

# Integer settings and the range ELB accepts for each.
int_ranges := {
	"service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": {"min": 5, "max": 300, "unit": " seconds"},
	"service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout": {"min": 2, "max": 120, "unit": " seconds"},
	"service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold": {"min": 2, "max": 10, "unit": ""},
	unhealthy_key: {"min": 2, "max": 10, "unit": ""},
}

# invalid_action denies a value the controller cannot reconcile, and only warns on an
# UPDATE that keeps a value already stored (denying would block unrelated changes).
invalid_action(key) := "warn" if {
	lib.updating
	old_annotations[key] == annotations[key]
} else := "deny"

integer(s) if regex.match(`^[+-]?[0-9]+$`, s)

service_findings contains v if {
	service_scope
	some key, r in int_ranges
	value := annotations[key]
	not integer(value)
	v := {
		"msg": sprintf("Service %q sets %s: %q, which is not an integer: the AWS Load Balancer Controller cannot reconcile the load balancer", [name, key, value]),
		"path": key_path(key),
		"fix": sprintf("set %s to an integer from %d to %d%s", [key, r.min, r.max, r.unit]),
		"action": invalid_action(key),
	}
}

service_findings contains v if {
	service_scope
	some key, r in int_ranges
	value := annotations[key]
	integer(value)
	n := to_number(trim_prefix(value, "+"))
	not in_range(n, r)
	v := {
		"msg": sprintf("Service %q sets %s: %q, outside the %d-%d%s ELB accepts: the target group cannot be created or updated", [name, key, value, r.min, r.max, r.unit]),
		"path": key_path(key),
		"fix": sprintf("set %s to a value from %d to %d%s", [key, r.min, r.max, r.unit]),
		"action": invalid_action(key),
	}
}

in_range(n, r) if {
	n >= r.min
	n <= r.max
}

# A valid unhealthy threshold below minUnhealthyThreshold.
service_findings contains v if {
	service_scope
	value := annotations[unhealthy_key]
	integer(value)
	n := to_number(trim_prefix(value, "+"))
	in_range(n, int_ranges[unhealthy_key])
	n < lib.params.minUnhealthyThreshold
	v := {
		"msg": sprintf("Service %q takes a target out after %d failed health checks, fewer than the %d required here: a model server busy with long requests flaps", [name, n, lib.params.minUnhealthyThreshold]),
		"path": key_path(unhealthy_key),
		"fix": sprintf("set %s to at least %d", [unhealthy_key, lib.params.minUnhealthyThreshold]),
		"action": "warn",
	}
}

service_findings contains v if {
	service_scope
	value := annotations[protocol_key]
	not lower(value) in {"tcp", "http", "https"}
	v := {
		"msg": sprintf("Service %q sets %s: %q: the AWS Load Balancer Controller only supports tcp, http and https", [name, protocol_key, value]),
		"path": key_path(protocol_key),
		"fix": sprintf("set %s to http (or https, or tcp)", [protocol_key]),
		"action": invalid_action(protocol_key),
	}
}

# Health-check port: traffic-port, an integer port, or the name of a Service port.
ports := [p | some p in lib.get(spec, "ports", []); is_object(p)]

port_value := annotations[port_key]

numeric_port if regex.match(`^[+-]?[0-9]+$`, port_value)

port_problem := sprintf("%q is not a TCP port number (1-65535)", [port_value]) if {
	numeric_port
	n := to_number(trim_prefix(port_value, "+"))
	not in_range(n, {"min": 1, "max": 65535})
} else := sprintf("no port of the Service is named %q", [port_value]) if {
	port_value != "traffic-port"
	not numeric_port
	not named_port
} else := sprintf("Service port %q has a named targetPort, which the controller cannot resolve for IP targets", [port_value]) if {
	network.service_target_type == "ip"
	not is_number(object.get(named_port, "targetPort", 0))
}

named_port := p if {
	some p in ports
	p.name == port_value
}

service_findings contains v if {
	service_scope
	v := {
		"msg": sprintf("Service %q sets %s, but %s: the AWS Load Balancer Controller cannot reconcile the load balancer", [name, port_key, port_problem]),
		"path": key_path(port_key),
		"fix": sprintf("set %s to traffic-port, a port number, or the name of a Service port with an integer targetPort", [port_key]),
		"action": invalid_action(port_key),
	}
}

# The effective protocol: the annotation, else the controller's default: HTTP for
# instance targets of a Service with externalTrafficPolicy: Local (kube-proxy's
# /healthz on the healthCheckNodePort), TCP otherwise.
instance_local if {
	network.service_target_type == "instance"
	object.get(spec, "externalTrafficPolicy", "") == "Local"
}

protocol := lower(annotations[protocol_key])

protocol := "http" if {
	not annotations[protocol_key]
	instance_local
}

protocol := "tcp" if {
	not annotations[protocol_key]
	not instance_local
}

http_check if protocol in {"http", "https"}

service_findings contains v if {
	service_scope
	http_check
	value := annotations[path_key]
	not startswith(value, "/")
	v := {
		"msg": sprintf("Service %q sets %s: %q, which does not start with \"/\": ELB rejects the health check", [name, path_key, value]),
		"path": key_path(path_key),
		"fix": sprintf("set %s to an absolute path such as /healthz", [path_key]),
		"action": invalid_action(path_key),
	}
}

service_findings contains v if {
	service_scope
	http_check
	value := annotations[codes_key]
	not valid_codes(value)
	v := {
		"msg": sprintf("Service %q sets %s: %q: NLB health checks accept HTTP codes from 200 to 599, as a list (200,202) or a range (200-399)", [name, codes_key, value]),
		"path": key_path(codes_key),
		"fix": sprintf("set %s to a code or range from 200 to 599, e.g. 200-399", [codes_key]),
		"action": invalid_action(codes_key),
	}
}

valid_codes(value) if {
	every part in split(value, ",") {
		regex.match(`^[0-9]{3}(-[0-9]{3})?$`, part)
		every code in split(part, "-") {
			in_range(to_number(code), {"min": 200, "max": 599})
		}
	}
}

# Serving Services: labelled as inference, or with an HTTP port.
inference_service if karpenter.selector_matches(lib.params.inferenceSelector, lib.labels)

http_names := {"http", "https"}

http_port if {
	some p in ports
	lower(object.get(p, "appProtocol", "")) in http_names
}

http_port if {
	some p in ports
	n := object.get(p, "name", "")
	is_string(n)
	http_name(n)
}

http_name(n) if n in http_names

http_name(n) if startswith(n, "http-")

http_name(n) if startswith(n, "https-")

serving if inference_service

serving if http_port

# gRPC model servers need TCP (or an HTTP health sidecar).
grpc_only if {
	count(ports) > 0
	every p in ports {
		grpc_port(p)
	}
}

grpc_port(p) if lower(object.get(p, "appProtocol", "")) == "grpc"

grpc_port(p) if {
	n := object.get(p, "name", "")
	is_string(n)
	grpc_name(n)
}

grpc_name("grpc")

grpc_name(n) if startswith(n, "grpc-")

# With proxy protocol v2, an HTTP check only works on a port that speaks it.
proxy_protocol if annotations["service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"] == "*"

proxy_protocol if regex.match(`(^|,)\s*proxy_protocol_v2\.enabled\s*=\s*true\s*(,|$)`, annotations["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"])

explicit_tcp_local if {
	lower(annotations[protocol_key]) == "tcp"
	object.get(spec, "externalTrafficPolicy", "") == "Local"
}

tcp_serving if {
	protocol == "tcp"
	serving
	not grpc_only
	not proxy_protocol
}

# The opt-in mutation: new inference Services without a protocol get an HTTP check on
# defaultHealthCheckPath.
default_path := p if {
	p := lib.params.defaultHealthCheckPath
	is_string(p)
	startswith(p, "/")
}

mutating if {
	lib.creating
	inference_service
	default_path
	not proxy_protocol
	not grpc_only
}

protocol_path := key_path(protocol_key) if {
	annotations[protocol_key]
} else := "/metadata/annotations" if {
	lib.obj.metadata.annotations
} else := "/metadata"

# Changing the protocol of an existing load balancer replaces its target groups: the
# controller names them after the health-check protocol and interval.
replaced := "" if lib.creating

else := " in a maintenance window (the controller replaces the target groups when the health-check protocol changes)"

service_findings contains v if {
	service_scope
	explicit_tcp_local
	v := {
		"msg": sprintf("Service %q checks its targets over TCP with externalTrafficPolicy: Local: the AWS Load Balancer Controller documents that Local needs an HTTP health check", [name]),
		"path": key_path(protocol_key),
		"fix": sprintf("remove %s (the controller then checks kube-proxy's /healthz) or set it to http with a healthcheck-path%s", [protocol_key, replaced]),
		"action": "warn",
	}
}

service_findings contains v if {
	service_scope
	not explicit_tcp_local
	tcp_serving
	not annotations[protocol_key]
	mutating
	v := {
		"msg": sprintf("Service %q uses the default TCP health check: %s", [name, tcp_reason]),
		"path": protocol_path,
		"fix": sprintf("set %s: http and %s: %s", [protocol_key, path_key, default_path]),
		"action": "mutate",
	}
}

service_findings contains v if {
	service_scope
	not explicit_tcp_local
	tcp_serving
	not tcp_mutated
	v := {
		"msg": sprintf("Service %q %s: %s", [name, tcp_words, tcp_reason]),
		"path": protocol_path,
		"fix": sprintf("set %s: http and %s to an endpoint that returns 200 only when the model is ready (e.g. /healthz)%s", [protocol_key, path_key, replaced]),
		"action": "warn",
	}
}

tcp_mutated if {
	not annotations[protocol_key]
	mutating
}

tcp_reason := "a model server passes it as soon as its port is open, before the model is loaded" if inference_service

else := "an HTTP server passes it as soon as its port is open, whether or not it can answer requests"

tcp_words := "checks its targets over TCP" if annotations[protocol_key]

else := "uses the default TCP health check"

# An HTTP(S) check without a path probes "/", which model servers rarely answer with
# 200 only when ready (the instance-mode Local default probes kube-proxy's /healthz).
default_root_path if {
	http_check
	not annotations[path_key]
	not local_default_port
}

local_default_port if {
	instance_local
	not annotations[port_key]
}

service_findings contains v if {
	service_scope
	default_root_path
	v := {
		"msg": sprintf("Service %q has an HTTP health check without %s, so it probes \"/\"", [name, path_key]),
		"path": protocol_path,
		"fix": path_fix,
		"action": path_action,
	}
}

path_fix := sprintf("set %s: %s", [path_key, default_path]) if mutating

else := sprintf("set %s to the model server's readiness endpoint (e.g. /healthz)", [path_key])

path_action := "mutate" if mutating

else := "warn"

patch contains {"op": "add", "path": key_path(protocol_key), "value": "http"} if {
	service_scope
	tcp_serving
	not explicit_tcp_local
	tcp_mutated
}

patch contains {"op": "add", "path": key_path(path_key), "value": default_path} if {
	service_scope
	mutating
	not annotations[path_key]
	tcp_mutated
	tcp_serving
}

patch contains {"op": "add", "path": key_path(path_key), "value": default_path} if {
	service_scope
	mutating
	default_root_path
}

# --- Pods and pod templates of inference workloads ---

inference_selector := lib.params.inferenceSelector

inference_object if karpenter.selector_matches(inference_selector, lib.labels)

# The workload kinds that serve models (a Service never has pod templates).
pod_kinds := {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "LeaderWorkerSet", "RayService"}

inference_templates contains tp if {
	lib.kind in pod_kinds
	pods.workload
	inference_object
	some tp, _ in lib.pod_templates
}

inference_templates contains tp if {
	lib.kind in pod_kinds
	pods.workload
	some tp, t in lib.pod_templates
	karpenter.selector_matches(inference_selector, object.get(t.meta, "labels", {}))
}

# main_containers lists the paths of the regular containers of inference templates,
# without injected sidecars.
main_containers contains p if {
	lib.kind in pod_kinds
	count(inference_templates) > 0
	some p, c in lib.containers
	inference_templates[c.template]
	not c.init
	not lib.ignored_container(c.name)
}

# Templates in which some main container declares ports: there, only those serve.
templates_with_ports contains lib.containers[p].template if {
	some p in main_containers
	count(lib.get(lib.containers[p].container, "ports", [])) > 0
}

serving_containers contains p if {
	some p in main_containers
	count(lib.get(lib.containers[p].container, "ports", [])) > 0
}

serving_containers contains p if {
	some p in main_containers
	not templates_with_ports[lib.containers[p].template]
}

pod_findings contains v if {
	some p in serving_containers
	lib.get(lib.containers[p].container, "readinessProbe", null) == null
	v := {
		"msg": sprintf("%s serves an inference workload without a readinessProbe: it gets traffic before the model is loaded", [pods.container_ref(p)]),
		"path": p,
		"fix": "add a readinessProbe (e.g. httpGet /healthz) that succeeds only once the model is loaded and GPU memory is available",
		"action": "warn",
	}
}

pod_findings contains v if {
	some p in serving_containers
	pods.has_accelerator(lib.containers[p].template)
	ctr := lib.containers[p].container
	lib.get(ctr, "livenessProbe", null) != null
	lib.get(ctr, "startupProbe", null) == null
	v := {
		"msg": sprintf("%s has a livenessProbe but no startupProbe: loading a large model can outlast the liveness probe, which then restarts the container", [pods.container_ref(p)]),
		"path": concat("", [p, "/livenessProbe"]),
		"fix": "add a startupProbe on the health endpoint with failureThreshold x periodSeconds longer than the model load (e.g. 60 x 10s)",
		"action": "warn",
	}
}
