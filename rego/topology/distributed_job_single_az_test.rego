package kgate.rules.topology.distributed_job_single_az_test

import data.kgate.lib.testing
import data.kgate.rules.topology.distributed_job_single_az as rule

gpu_worker := {
	"name": "worker",
	"image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/finetune:2.1.0",
	"resources": {
		"requests": {"cpu": "90", "memory": "600Gi", "nvidia.com/gpu": 8},
		"limits": {"memory": "600Gi", "nvidia.com/gpu": 8},
	},
}

efa_worker := {
	"name": "worker",
	"image": "public.ecr.aws/hpc-cloud/nccl-tests:latest",
	"resources": {
		"requests": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi"},
		"limits": {"nvidia.com/gpu": 8, "vpc.amazonaws.com/efa": 32, "hugepages-2Mi": "5120Mi", "memory": "32000Mi"},
	},
}

# job is the catalog's Job with the given pod spec fields and parallelism.
job(labels, parallelism, pod) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "llama3-finetune", "namespace": "training", "labels": labels},
	"spec": {
		"parallelism": parallelism,
		"completions": 4,
		"completionMode": "Indexed",
		"template": {"spec": object.union({"restartPolicy": "Never", "containers": [gpu_worker]}, pod)},
	},
}

training := {"kgate.dev/role": "training"}

bad_job := job(training, 4, {})

pool(name, requirements) := {
	"apiVersion": "karpenter.sh/v1",
	"kind": "NodePool",
	"metadata": {"name": name},
	"spec": {"template": {"spec": {
		"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "p5-efa"},
		"requirements": requirements,
	}}},
}

zone_in(values) := {"key": "topology.kubernetes.io/zone", "operator": "In", "values": values}

family := {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["p5"]}

pools := {"cluster": {"NodePool": {
	"training-p5": pool("training-p5", [family, zone_in(["us-west-2a"])]),
	"gpu-any-zone": pool("gpu-any-zone", [family]),
}}}

findings(obj) := vs if {
	vs := [v | some v in rule.violation] with input as testing.review(obj) with data.inventory as pools
}

passes(obj) if {
	rule.applies with input as testing.review(obj) with data.inventory as pools
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as pools
}

# The catalog's bad example.
test_unpinned_training_job_warns if {
	[v] := findings(bad_job)
	v.action == "warn"
	v.path == "/spec/template/spec"
	contains(v.msg, `Job "llama3-finetune"`)
	contains(v.msg, "no zone nodeSelector")
	contains(v.fix, "karpenter.sh/nodepool")
	count(rule.patch) == 0 with input as testing.review(bad_job) with data.inventory as pools
}

# The catalog's good example: pinned to the single-AZ pool of TOPO-002.
test_single_az_nodepool_selector_passes if {
	good := job(training, 4, {"nodeSelector": {"karpenter.sh/nodepool": "training-p5"}})
	passes(good)

	# a NodePool the inventory does not hold is trusted
	passes(job(training, 4, {"nodeSelector": {"karpenter.sh/nodepool": "unknown-pool"}}))
	passes(good) with data.inventory as {}
}

test_multi_zone_nodepool_selector_warns if {
	obj := job(training, 4, {"nodeSelector": {"karpenter.sh/nodepool": "gpu-any-zone"}})
	[v] := findings(obj)
	v.path == "/spec/template/spec/nodeSelector"
	contains(v.msg, `their NodePool "gpu-any-zone" allows several zones`)
}

test_zone_pins_pass if {
	every pod in [
		{"nodeSelector": {"topology.kubernetes.io/zone": "us-west-2a"}},
		{"nodeSelector": {"topology.k8s.aws/zone-id": "usw2-az2"}},
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
			{"matchExpressions": [zone_in(["us-west-2a"])]},
			{"matchExpressions": [zone_in(["us-west-2a"]), {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]},
		]}}}},
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["training-p5"]}]}]}}}},
		# a term may pin the zone by name and by ID at once
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
			zone_in(["us-west-2a"]),
			{"key": "topology.k8s.aws/zone-id", "operator": "In", "values": ["usw2-az2"]},
		]}]}}}},
	] {
		passes(job(training, 4, pod))
	}
}

test_loose_node_affinity_warns if {
	every pod in [
		# two terms are ORed: two zones
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
			{"matchExpressions": [zone_in(["us-west-2a"])]},
			{"matchExpressions": [zone_in(["us-west-2b"])]},
		]}}}},
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [zone_in(["us-west-2a", "us-west-2b"])]}]}}}},
		# a preference does not pin
		{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {"matchExpressions": [zone_in(["us-west-2a"])]}}]}}},
		{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["gpu-any-zone"]}]}]}}}},
	] {
		count(findings(job(training, 4, pod))) == 1
	}
}

zone_affinity(term) := {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}

test_zone_pod_affinity_on_own_pods_passes if {
	every pod in [
		# the catalog's mutation: the job-name label the Job controller adds
		zone_affinity({"labelSelector": {"matchLabels": {"batch.kubernetes.io/job-name": "llama3-finetune"}}, "topologyKey": "topology.kubernetes.io/zone"}),
		zone_affinity({"labelSelector": {}, "matchLabelKeys": ["batch.kubernetes.io/job-name"], "topologyKey": "topology.kubernetes.io/zone"}),
		# all pods on one EC2 network node are in one zone
		zone_affinity({"labelSelector": {"matchLabels": {"batch.kubernetes.io/job-name": "llama3-finetune"}}, "topologyKey": "topology.k8s.aws/network-node-layer-3"}),
	] {
		passes(job(training, 4, pod))
	}

	# a template label selects the job's own pods as well
	labelled := json.patch(job(training, 4, zone_affinity({"labelSelector": {"matchLabels": {"app": "finetune"}}, "topologyKey": "topology.kubernetes.io/zone"})), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": {"app": "finetune"}}}])
	passes(labelled)
}

test_pod_affinity_elsewhere_warns if {
	every pod in [
		# co-located with another app's pods, which may live in several zones
		zone_affinity({"labelSelector": {"matchLabels": {"app": "qdrant"}}, "topologyKey": "topology.kubernetes.io/zone"}),
		# an empty selector matches all pods
		zone_affinity({"labelSelector": {}, "topologyKey": "topology.kubernetes.io/zone"}),
		# a region-wide key does not pin a zone
		zone_affinity({"labelSelector": {"matchLabels": {"batch.kubernetes.io/job-name": "llama3-finetune"}}, "topologyKey": "topology.kubernetes.io/region"}),
	] {
		count(findings(job(training, 4, pod))) == 1
	}
}

# Edge: gang schedulers have their own topology placement.
test_gang_scheduler_placement_passes if {
	kueue := json.patch(bad_job, [{"op": "add", "path": "/spec/template/metadata", "value": {"annotations": {"kueue.x-k8s.io/podset-required-topology": "topology.kubernetes.io/zone"}}}])
	passes(kueue)
	volcano := {
		"apiVersion": "batch.volcano.sh/v1alpha1",
		"kind": "Job",
		"metadata": {"name": "llama3", "namespace": "training", "labels": training},
		"spec": {
			"networkTopology": {"mode": "hard", "highestTierAllowed": 1},
			"tasks": [{"name": "worker", "replicas": 4, "template": {"spec": {"containers": [gpu_worker]}}}],
		},
	}
	passes(volcano)
	soft := json.patch(volcano, [{"op": "replace", "path": "/spec/networkTopology/mode", "value": "soft"}])
	count(findings(soft)) == 1
	lws := {
		"apiVersion": "leaderworkerset.x-k8s.io/v1",
		"kind": "LeaderWorkerSet",
		"metadata": {"name": "llama-405b", "namespace": "genai", "annotations": {"leaderworkerset.sigs.k8s.io/exclusive-topology": "topology.kubernetes.io/zone"}},
		"spec": {"replicas": 1, "leaderWorkerTemplate": {
			"size": 2,
			"leaderTemplate": {"spec": {"containers": [efa_worker]}},
			"workerTemplate": {"spec": {"containers": [efa_worker]}},
		}},
	}
	passes(lws)
	unpinned := json.patch(lws, [{"op": "remove", "path": "/metadata/annotations"}])
	count(findings(unpinned)) == 2
}

test_scope if {
	# EFA requests make any template multi-node, even with one replica
	efa_deploy := {
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": {"name": "nccl", "namespace": "genai"},
		"spec": {"replicas": 1, "template": {"spec": {"containers": [efa_worker]}}},
	}
	count(findings(efa_deploy)) == 1

	# Kubeflow PyTorchJob: Master + Workers, every template is reported
	pytorch := {
		"apiVersion": "kubeflow.org/v1",
		"kind": "PyTorchJob",
		"metadata": {"name": "llama", "namespace": "training"},
		"spec": {"pytorchReplicaSpecs": {
			"Master": {"replicas": 1, "template": {"spec": {"containers": [gpu_worker]}}},
			"Worker": {"replicas": 3, "template": {"spec": {"containers": [gpu_worker]}}},
		}},
	}
	{v.path | some v in findings(pytorch)} == {"/spec/pytorchReplicaSpecs/Master/template/spec", "/spec/pytorchReplicaSpecs/Worker/template/spec"}

	# an MPIJob launcher only starts the workers
	mpi := {
		"apiVersion": "kubeflow.org/v2beta1",
		"kind": "MPIJob",
		"metadata": {"name": "nccl-tests", "namespace": "training"},
		"spec": {"mpiReplicaSpecs": {
			"Launcher": {"replicas": 1, "template": {"spec": {"containers": [{"name": "launcher", "image": "nccl-tests:latest"}]}}},
			"Worker": {"replicas": 2, "template": {"spec": {"containers": [efa_worker]}}},
		}},
	}
	{v.path | some v in findings(mpi)} == {"/spec/mpiReplicaSpecs/Worker/template/spec"}

	# the training role on the template counts too; a placeholder replica count is several pods
	templated := json.patch(job({}, "$NUM_NODES", {}), [{"op": "add", "path": "/spec/template/metadata", "value": {"labels": training}}])
	count(findings(templated)) == 1

	every obj in [
		# single-pod training job (edge: one node cannot spread)
		job(training, 1, {}),
		# a parallel Job that is not training and requests no EFA
		job({}, 4, {}),
		json.patch(bad_job, [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]),
	] {
		not rule.applies with input as testing.review(obj) with data.inventory as pools
		count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as pools
	}
}

pod(labels, spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "llama3-finetune-0-abcde", "namespace": "training", "labels": labels},
	"spec": object.union({"restartPolicy": "Never", "containers": [gpu_worker]}, spec),
}

job_pod_labels := {"kgate.dev/role": "training", "batch.kubernetes.io/job-name": "llama3-finetune", "batch.kubernetes.io/job-completion-index": "0"}

test_pods if {
	[v] := findings(pod(job_pod_labels, {}))
	v.action == "warn"
	v.path == "/spec"

	# a bare EFA pod (e.g. one of nccl-worker-0..n)
	count(findings(pod({}, {"containers": [efa_worker]}))) == 1

	# a training pod without a job label is not known to be one of several
	not rule.applies with input as testing.review(pod(training, {})) with data.inventory as pools
	passes(pod(job_pod_labels, {"nodeSelector": {"karpenter.sh/nodepool": "training-p5"}}))
}

mutate := {"mutateAffinity": true}

expected_affinity := {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
	"labelSelector": {"matchLabels": {"batch.kubernetes.io/job-name": "llama3-finetune"}},
	"topologyKey": "topology.kubernetes.io/zone",
}]}}

test_mutation_adds_zone_pod_affinity if {
	obj := pod(job_pod_labels, {})
	req := testing.review_with(obj, mutate)
	[v] := [v | some v in rule.violation with input as req with data.inventory as pools]
	v.action == "mutate"
	ops := rule.patch with input as req with data.inventory as pools
	ops == {{"op": "add", "path": "/spec/affinity", "value": expected_affinity}}

	# idempotent: the patched pod is pinned and gets no further patch
	patched := testing.apply(obj, [op | some op in ops])
	count(rule.violation) == 0 with input as testing.review_with(patched, mutate) with data.inventory as pools
	count(rule.patch) == 0 with input as testing.review_with(patched, mutate) with data.inventory as pools
}

test_mutation_only_when_possible if {
	# off by default
	count(rule.patch) == 0 with input as testing.review(pod(job_pod_labels, {})) with data.inventory as pools

	# existing affinity is left alone
	anti := pod(job_pod_labels, {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "kubernetes.io/hostname"}]}}})
	[v] := [v | some v in rule.violation with input as testing.review_with(anti, mutate) with data.inventory as pools]
	v.action == "warn"
	count(rule.patch) == 0 with input as testing.review_with(anti, mutate) with data.inventory as pools

	# no job label to anchor on: a bare EFA pod
	count(rule.patch) == 0 with input as testing.review_with(pod({}, {"containers": [efa_worker]}), mutate) with data.inventory as pools

	# templates are not mutated
	count(rule.patch) == 0 with input as testing.review_with(bad_job, mutate) with data.inventory as pools

	# only at CREATE: the pod spec is immutable afterwards
	upd := object.union(testing.review_update(pod(job_pod_labels, {}), pod(job_pod_labels, {})), {"params": object.union(data.kgate.defaults, mutate)})
	[u] := [v | some v in rule.violation with input as upd with data.inventory as pools]
	u.action == "warn"
	count(rule.patch) == 0 with input as upd with data.inventory as pools
}
