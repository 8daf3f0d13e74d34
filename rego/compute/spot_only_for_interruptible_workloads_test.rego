package kgate.rules.compute.spot_only_for_interruptible_workloads_test

import data.kgate.lib.testing
import data.kgate.rules.compute.spot_only_for_interruptible_workloads as rule

spot := {"karpenter.sh/capacity-type": "spot"}

container := {"name": "app", "image": "app:1.0.0", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}

pod_spec(extra) := object.union({"containers": [container]}, extra)

workload(kind, api, meta, spec, template_meta, pspec) := {
	"apiVersion": api,
	"kind": kind,
	"metadata": object.union({"name": "app", "namespace": "genai"}, meta),
	"spec": object.union(spec, {"template": {"metadata": template_meta, "spec": pspec}}),
}

deployment(replicas, pspec) := workload("Deployment", "apps/v1", {}, {"replicas": replicas, "selector": {"matchLabels": {"app": "a"}}}, {"labels": {"app": "a"}}, pspec)

statefulset(pspec) := workload("StatefulSet", "apps/v1", {}, {"serviceName": "qdrant", "replicas": 3, "selector": {"matchLabels": {"app": "q"}}}, {"labels": {"app": "q"}}, pspec)

job(meta, template_meta, pspec) := workload("Job", "batch/v1", meta, {}, template_meta, object.union(pspec, {"restartPolicy": "OnFailure"}))

training := {"labels": {"kgate.dev/role": "training"}}

checkpointed := {"labels": {"kgate.dev/role": "training"}, "annotations": {"kgate.dev/checkpointing": "true"}}

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

# The catalog's bad example: a single-replica StatefulSet on Spot with a 300 s grace period.
test_qdrant_statefulset_on_spot_is_warned if {
	qdrant := workload(
		"StatefulSet", "apps/v1", {"name": "qdrant"},
		{"serviceName": "qdrant", "replicas": 1, "selector": {"matchLabels": {"app": "q"}}}, {"labels": {"app": "q"}},
		pod_spec({"terminationGracePeriodSeconds": 300, "nodeSelector": spot}),
	)
	vs := findings(qdrant)
	count(vs) == 2
	every v in vs {
		v.action == "warn"
	}
	[s] := [v | some v in vs; contains(v.msg, "StatefulSet's pods keep state")]
	s.path == "/spec/template/spec/nodeSelector/karpenter.sh~1capacity-type"
	contains(s.msg, `StatefulSet "qdrant" requires Spot capacity`)
	[g] := [v | some v in vs; contains(v.msg, "grace period")]
	g.path == "/spec/template/spec/terminationGracePeriodSeconds"
	contains(g.msg, "300 s")
	contains(g.fix, "at most 120")
}

# The catalog's good example: a checkpointed training Job with a short grace period.
test_checkpointed_training_job_passes if {
	j := job(checkpointed, {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}, pod_spec({"terminationGracePeriodSeconds": 90, "nodeSelector": spot}))
	rule.applies with input as testing.review(j)
	count(findings(j)) == 0
}

test_training_without_checkpointing_is_warned if {
	j := job(training, {}, pod_spec({"nodeSelector": spot}))
	[v] := findings(j)
	v.action == "warn"
	contains(v.msg, `Job "app" is a training run that requires Spot capacity without declaring checkpointing`)
	contains(v.fix, "kgate.dev/checkpointing")
	contains(v.fix, "karpenter.sh/do-not-disrupt")
}

test_training_labels_and_annotations_on_template if {
	j := job({}, training, pod_spec({"nodeSelector": spot}))
	[_] := findings(j)
	ok := job({}, checkpointed, pod_spec({"nodeSelector": spot}))
	count(findings(ok)) == 0
}

test_pytorchjob_is_training if {
	pj := {
		"apiVersion": "kubeflow.org/v1",
		"kind": "PyTorchJob",
		"metadata": {"name": "llama", "namespace": "genai"},
		"spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": 4, "template": {"spec": pod_spec({"nodeSelector": spot})}}}},
	}
	[v] := findings(pj)
	contains(v.msg, `PyTorchJob "llama", template "Worker" is a training run`)
	v.path == "/spec/pytorchReplicaSpecs/Worker/template/spec/nodeSelector/karpenter.sh~1capacity-type"
}

test_batch_job_on_spot_passes if {
	j := job({}, {}, pod_spec({"nodeSelector": spot}))
	rule.applies with input as testing.review(j)
	count(findings(j)) == 0
}

test_single_replica_deployment_is_warned if {
	[v] := findings(deployment(1, pod_spec({"nodeSelector": spot})))
	contains(v.msg, `Deployment "app" runs a single pod`)
	count(findings(deployment(3, pod_spec({"nodeSelector": spot})))) == 0
}

test_bare_pod_is_single if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "genai"}, "spec": pod_spec({"nodeSelector": spot})}
	[v] := findings(pod)
	v.path == "/spec/nodeSelector/karpenter.sh~1capacity-type"
	owned := json.patch(pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true}]}])
	count(findings(owned)) == 0
	sts_pod := json.patch(pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "qdrant", "uid": "1", "controller": true}]}])
	[s] := findings(sts_pod)
	contains(s.msg, "StatefulSet's pods keep state")
}

test_eks_managed_node_group_label if {
	[v] := findings(statefulset(pod_spec({"nodeSelector": {"eks.amazonaws.com/capacityType": "SPOT"}})))
	v.path == "/spec/template/spec/nodeSelector/eks.amazonaws.com~1capacityType"
	count(findings(statefulset(pod_spec({"nodeSelector": {"eks.amazonaws.com/capacityType": "ON_DEMAND"}})))) == 0
}

required(terms) := {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}

expr(key, operator, values) := {"key": key, "operator": operator, "values": values}

test_required_node_affinity_on_spot if {
	every terms in [
		[{"matchExpressions": [expr("karpenter.sh/capacity-type", "In", ["spot"])]}],
		[{"matchExpressions": [expr("karpenter.sh/capacity-type", "NotIn", ["on-demand", "reserved"])]}],
		[{"matchExpressions": [expr("eks.amazonaws.com/capacityType", "NotIn", ["ON_DEMAND"])]}],
		[
			{"matchExpressions": [expr("karpenter.sh/capacity-type", "In", ["spot"]), expr("topology.kubernetes.io/zone", "In", ["us-west-2a"])]},
			{"matchExpressions": [expr("eks.amazonaws.com/capacityType", "In", ["SPOT"])]},
		],
	] {
		[v] := findings(statefulset(pod_spec({"affinity": required(terms)})))
		v.path == "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"
	}
}

test_affinity_that_allows_on_demand_is_not_in_scope if {
	every terms in [
		[{"matchExpressions": [expr("karpenter.sh/capacity-type", "In", ["spot", "on-demand"])]}],
		[{"matchExpressions": [expr("karpenter.sh/capacity-type", "NotIn", ["on-demand"])]}],
		# terms are ORed: the second allows on-demand
		[
			{"matchExpressions": [expr("karpenter.sh/capacity-type", "In", ["spot"])]},
			{"matchExpressions": [expr("topology.kubernetes.io/zone", "In", ["us-west-2a"])]},
		],
	] {
		s := statefulset(pod_spec({"affinity": required(terms)}))
		not rule.applies with input as testing.review(s)
		count(findings(s)) == 0
	}
}

# Edge case: a workload without a Spot selector may still land on Spot in a mixed
# NodePool; that is enforced per NodePool (COMPUTE-005), not here. Preferences are not
# requirements either.
test_no_spot_requirement_is_not_in_scope if {
	preferred := {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {"matchExpressions": [expr("karpenter.sh/capacity-type", "In", ["spot"])]}}]}}
	every s in [statefulset(pod_spec({})), statefulset(pod_spec({"affinity": preferred})), statefulset(pod_spec({"nodeSelector": {"karpenter.sh/capacity-type": "on-demand"}}))] {
		not rule.applies with input as testing.review(s)
		count(findings(s)) == 0
	}
}

test_grace_period_limit if {
	count(findings(deployment(3, pod_spec({"nodeSelector": spot, "terminationGracePeriodSeconds": 120})))) == 0
	[v] := findings(deployment(3, pod_spec({"nodeSelector": spot, "terminationGracePeriodSeconds": 121})))
	contains(v.msg, "121 s termination grace period")
	d := deployment(3, pod_spec({"nodeSelector": spot, "terminationGracePeriodSeconds": 300}))
	count([v | some v in rule.violation with input as testing.review_with(d, {"maxSpotGraceSeconds": 300})]) == 0

	# off Spot, a long grace period is none of this rule's business
	count(findings(deployment(3, pod_spec({"terminationGracePeriodSeconds": 600})))) == 0
}

test_custom_spot_keys if {
	s := statefulset(pod_spec({"nodeSelector": {"node.example.com/lifecycle": "spot"}}))
	count(findings(s)) == 0
	[_] := [v | some v in rule.violation with input as testing.review_with(s, {"spotNodeSelectorKeys": ["node.example.com/lifecycle"]})]
}

test_update_is_warned_too if {
	s := statefulset(pod_spec({"nodeSelector": spot}))
	[v] := [v | some v in rule.violation with input as testing.review_update(s, s)]
	v.action == "warn"
}

test_exempt_namespace_not_in_scope if {
	s := json.patch(statefulset(pod_spec({"nodeSelector": spot})), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review(s)
	count(findings(s)) == 0
}
