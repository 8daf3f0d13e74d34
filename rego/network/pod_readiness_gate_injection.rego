# METADATA
# title: GenAI namespaces get load balancer readiness gates
# description: |
#   With IP targets the NLB or ALB sends traffic straight to Pods, so a Pod can be Ready
#   for Kubernetes long before its target is registered and healthy in the target group.
#   The AWS Load Balancer Controller (LBC) closes that gap with Pod readiness gates
#   (target-health.elbv2.k8s.aws/...), which it injects at Pod creation into Pods of
#   namespaces labelled elbv2.k8s.aws/pod-readiness-gate-inject: enabled, for Pods behind
#   an ip-type TargetGroupBinding only. On Namespace CREATE and UPDATE, GenAI namespaces
#   (outside exemptNamespaces) without the label get it; an explicit other value is
#   taken as a deliberate opt-out and only warned. With onlyIfLbcInstalled (default),
#   the rule acts only where LBC is installed (lbcInstalled) and warns about a namespace
#   that keeps the label when LBC is not: LBC's pod webhook matches that label, and up to
#   LBC v2.11 its failurePolicy is Fail, so Pod creation there fails while the
#   controller is unavailable.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#net-006
# custom:
#   id: NET-006
#   severity: medium
#   kinds: [Namespace]
#   default_action: mutate
#   why: |
#     During a rolling update, a new model-server Pod turns Ready as soon as its own
#     probes pass, while the load balancer still marks its target "initial" until it
#     passes its health checks (about 30 s with LBC's NLB defaults: 3 checks 10 s
#     apart, plus registration time); Kubernetes meanwhile removes
#     the old Pods and the target group is left with no healthy target, an outage the
#     AWS Load Balancer Controller docs describe. The readiness gate keeps each new Pod
#     unready until the load balancer reports it healthy, so rollouts of slow-loading
#     GenAI servers stay zero-downtime. Existing Pods get the gate only when they are
#     recreated.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels: {kgate.dev/genai: "true"}
#     good: |
#       apiVersion: v1
#       kind: Namespace
#       metadata:
#         name: genai
#         labels:
#           kgate.dev/genai: "true"
#           elbv2.k8s.aws/pod-readiness-gate-inject: enabled
#   params:
#     lbcInstalled: true
#     onlyIfLbcInstalled: true
#   schema:
#     lbcInstalled: {type: boolean, description: "the AWS Load Balancer Controller is installed in the cluster"}
#     onlyIfLbcInstalled: {type: boolean, description: "label namespaces for readiness-gate injection only while the AWS Load Balancer Controller is installed (and warn about the label otherwise)"}
package kgate.rules.network.pod_readiness_gate_injection

import data.kgate.lib

label_key := "elbv2.k8s.aws/pod-readiness-gate-inject"

label_path := concat("", ["/metadata/labels/", lib.escape(label_key)])

# namespace: a Namespace being created, updated or audited that is a GenAI namespace.
namespace := n if {
	lib.kind == "Namespace"
	input.operation in {"CREATE", "UPDATE", "AUDIT"}
	n := lib.obj.metadata.name
	not n in lib.params.exemptNamespaces
}

# wanted: LBC is there to inject the gates (or the rule is told to label regardless).
wanted if lib.params.lbcInstalled

wanted if not lib.params.onlyIfLbcInstalled

label := lib.labels[label_key]

applies if {
	namespace
	wanted
}

# A label left behind without LBC.
applies if {
	namespace
	not wanted
	label == "enabled"
}

violation contains v if {
	applies
	wanted
	not label
	v := {
		"msg": sprintf("namespace %q lacks label %s: enabled, so Pods behind ip-target load balancers turn Ready before the load balancer sees them healthy and a rolling update can leave the target group without a healthy target", [namespace, label_key]),
		"path": missing_path,
		"fix": sprintf("add label %s: enabled, then restart the namespace's load-balanced workloads so that their Pods get the readiness gates", [label_key]),
		"action": "mutate",
	}
}

violation contains v if {
	applies
	wanted
	label != "enabled"
	v := {
		"msg": sprintf("namespace %q sets label %s to %q; the AWS Load Balancer Controller injects readiness gates only for the value enabled", [namespace, label_key, label]),
		"path": label_path,
		"fix": sprintf("set label %s: enabled (the value is case-sensitive); keep another value only to opt the namespace out of readiness gates on purpose", [label_key]),
		"action": "warn",
	}
}

violation contains v if {
	applies
	not wanted
	v := {
		"msg": sprintf("namespace %q keeps label %s: enabled although the AWS Load Balancer Controller is not installed (lbcInstalled: false): its leftover pod webhook can block Pod creation and no controller sets the readiness gates", [namespace, label_key]),
		"path": label_path,
		"fix": sprintf("remove label %s from the namespace while the controller is absent, and check that its MutatingWebhookConfiguration aws-load-balancer-webhook is gone", [label_key]),
		"action": "warn",
	}
}

missing_path := "/metadata/labels" if {
	lib.obj.metadata.labels
} else := "/metadata"

patch contains {"op": "add", "path": label_path, "value": "enabled"} if {
	applies
	wanted
	not label
}
