# METADATA
# title: kgate shared library
# description: |
#   Helpers every rule shares: the pod specs of any pod-bearing object with their
#   JSON-pointer prefix, containers, namespaces, parameters and JSON-pointer escaping.
#   The parameters declared here are global: every rule may read them from input.params.
# custom:
#   params:
#     kubernetesMinor: 34
#     exemptNamespaces: [kube-system, kube-public, kube-node-lease, karpenter, amazon-cloudwatch, kgate-system]
#     ebsProvisioners: [ebs.csi.aws.com]
#     gpuThreshold: 8
#     trainingFamilies: [p4d, p4de, p5, p5e, p5en, p6-b200, trn1, trn1n, trn2]
#     acceleratorResources: [nvidia.com/gpu, amd.com/gpu, aws.amazon.com/neuron, aws.amazon.com/neuroncore, habana.ai/gaudi]
#     ignoredContainers: "^(istio-proxy|linkerd-proxy|istio-init)$"
#     efaCountByInstanceType:
#       p4d.24xlarge: 4
#       p4de.24xlarge: 4
#       p5.48xlarge: 32
#       p5e.48xlarge: 32
#       p5en.48xlarge: 16
#       p6-b200.48xlarge: 8
#       g6e.48xlarge: 4
#       g5.48xlarge: 1
#       trn1.32xlarge: 8
#       trn1n.32xlarge: 16
#       trn2.48xlarge: 16
#     region: us-west-2
#     allowedZones: [us-west-2a, us-west-2b, us-west-2c]
#     zoneIdByZone: {us-west-2a: usw2-az2, us-west-2b: usw2-az1, us-west-2c: usw2-az3}
#     workloadRoleLabel: kgate.dev/role
#     genaiNamespaceSelector: {}
#   schema:
#     genaiNamespaceSelector: {type: object, properties: {matchLabels: {type: object, additionalProperties: {type: string}}, matchExpressions: {type: array, items: {type: object, required: [key, operator], properties: {key: {type: string}, operator: {enum: [In, NotIn, Exists, DoesNotExist]}, values: {type: array, items: {type: string}}}}}}, additionalProperties: false, description: "label selector of the namespaces that get the strict GenAI profile ({} selects every namespace outside exemptNamespaces; the catalog's profile is {matchLabels: {kgate.dev/genai: \"true\"}})"}
#     region: {type: string, description: "AWS region of the cluster"}
#     allowedZones: {type: array, items: {type: string}, description: "availability zones the cluster may use"}
#     zoneIdByZone: {type: object, additionalProperties: {type: string}, description: "zone name to zone ID of this account (account-specific)"}
#     workloadRoleLabel: {type: string, description: "label that names a workload role (training, inference, ui, rag, vectordb, dataprep, batch, cache)"}
#     kubernetesMinor: {type: integer, minimum: 20, description: "Kubernetes minor version of the cluster (gates trafficDistribution values)"}
#     exemptNamespaces: {type: array, items: {type: string}, description: "namespaces no rule applies to"}
#     ebsProvisioners: {type: array, items: {type: string}, description: "CSI provisioners that create EBS volumes (add ebs.csi.eks.amazonaws.com for EKS Auto Mode)"}
#     gpuThreshold: {type: integer, minimum: 1, description: "accelerators per pod from which a multi-node job counts as GPU training"}
#     trainingFamilies: {type: array, items: {type: string}, description: "EC2 instance families used for distributed training"}
#     acceleratorResources: {type: array, items: {type: string}, description: "extended resource names that count as accelerators"}
#     ignoredContainers: {type: string, format: regex, description: "regular expression of injected sidecar container names the pod rules skip"}
#     efaCountByInstanceType: {type: object, additionalProperties: {type: integer, minimum: 0}, description: "EFA interfaces each instance type offers"}
package kgate.lib

import data.kgate.lib.karpenter

# params are the effective parameters: defaults from every METADATA block,
# overlaid with the user's configuration by the engine.
params := input.params

obj := input.object

kind := input.kind.kind

# namespace is "" for cluster-scoped objects and "default" for namespaced
# objects that name none; the engine normalises it before evaluation.
namespace := input.namespace

creating if input.operation == "CREATE"

# AUDIT and the offline CLI evaluate objects as if they were being created.
creating if input.operation == "AUDIT"

updating if input.operation == "UPDATE"

exempt_namespace if namespace in params.exemptNamespaces

# genai_namespace: the strict profile applies to the namespaced objects outside the
# exempt namespaces whose namespace matches genaiNamespaceSelector; the default {}
# selects every such namespace, as an empty selector does in Kubernetes.
genai_namespace if {
	workload_namespace
	genai_selected
}

# workload_namespace: a namespaced object outside the exempt namespaces.
workload_namespace if {
	namespace != ""
	not exempt_namespace
}

genai_selected if count(object.get(params, "genaiNamespaceSelector", {})) == 0

genai_selected if karpenter.selector_matches(params.genaiNamespaceSelector, namespace_labels)

# namespace_labels are the labels of the object's namespace (of the Namespace
# itself when it is under review), as the front end knows them.
namespace_labels := object.get(input, "namespaceLabels", {})

# escape turns a map key into a JSON-pointer segment (RFC 6901).
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

annotations := obj.metadata.annotations if obj.metadata.annotations

else := {}

labels := obj.metadata.labels if obj.metadata.labels

else := {}

# annotation_path is the JSON pointer of an annotation of the object under review.
annotation_path(key) := concat("", ["/metadata/annotations/", escape(key)])

# pod_templates maps the JSON pointer of every pod spec of the object to
# {path, spec, meta, replicas, group}: meta is the pod template metadata, replicas
# the number of pods the template runs at once (null when unknown, e.g. DaemonSets),
# and group names the template inside the object (e.g. "worker").
#
# Performance: this is an object keyed by path rather than a set, so that OPA
# hashes the short key instead of the whole pod spec; rules iterate it with
# `some t in lib.pod_templates` all the same.
pod_templates := templates_of_kind if kind in template_kinds

else := {}

# template_kinds are the kinds templates_of_kind knows. Testing it first spares
# every other kind (Service, StorageClass, ...) the trial of each kind below.
template_kinds := {
	"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
	"PyTorchJob", "MPIJob", "RayCluster", "RayService", "RayJob", "LeaderWorkerSet",
}

# templates_of_kind is pod_templates for the kinds of template_kinds. It is one
# rule with an else per kind, not a rule per kind: the kinds exclude each other, so
# the evaluator stops at the first that matches instead of trying each in turn.
templates_of_kind := t if {
	kind == "Pod"
	is_object(obj.spec)
	t := {"/spec": {"path": "/spec", "spec": obj.spec, "meta": object.get(obj, "metadata", {}), "replicas": 1, "group": "pod"}}
} else := t if {
	kind in {"Deployment", "ReplicaSet", "StatefulSet"}
	t := template_at(obj.spec.template, "/spec/template", nn(object.get(obj.spec, "replicas", null), 1), "template")
} else := t if {
	kind == "DaemonSet"
	t := template_at(obj.spec.template, "/spec/template", null, "template")
} else := t if {
	batch_job
	t := template_at(obj.spec.template, "/spec/template", nn(object.get(obj.spec, "parallelism", null), 1), "template")
} else := t if {
	kind == "CronJob"
	job := obj.spec.jobTemplate.spec
	t := template_at(job.template, "/spec/jobTemplate/spec/template", nn(object.get(job, "parallelism", null), 1), "template")
} else := t if {
	# Volcano Job: batch.volcano.sh, spec.tasks[*].template.
	volcano_job
	t := {p: tt |
		some i, task in obj.spec.tasks
		some p, tt in template_at(task.template, concat("", ["/spec/tasks/", format_int(i, 10), "/template"]), nn(object.get(task, "replicas", null), 1), nn(object.get(task, "name", null), concat("-", ["task", format_int(i, 10)])))
	}
} else := t if {
	kind == "PyTorchJob"
	t := {p: tt |
		some name, rs in obj.spec.pytorchReplicaSpecs
		some p, tt in template_at(rs.template, concat("", ["/spec/pytorchReplicaSpecs/", escape(name), "/template"]), nn(object.get(rs, "replicas", null), 1), name)
	}
} else := t if {
	kind == "MPIJob"
	t := {p: tt |
		some name, rs in obj.spec.mpiReplicaSpecs
		some p, tt in template_at(rs.template, concat("", ["/spec/mpiReplicaSpecs/", escape(name), "/template"]), nn(object.get(rs, "replicas", null), 1), name)
	}
} else := t if {
	kind in {"RayCluster", "RayService", "RayJob"}
	heads := {p: tt |
		some prefix, cluster in ray_cluster_specs
		some p, tt in template_at(cluster.headGroupSpec.template, concat("", [prefix, "/headGroupSpec/template"]), 1, "head")
	}
	workers := {p: tt |
		some prefix, cluster in ray_cluster_specs
		some i, g in cluster.workerGroupSpecs
		some p, tt in template_at(g.template, concat("", [prefix, "/workerGroupSpecs/", format_int(i, 10), "/template"]), nn(object.get(g, "replicas", null), 1), nn(object.get(g, "groupName", null), concat("-", ["worker", format_int(i, 10)])))
	}
	t := object.union(heads, workers)
} else := t if {
	kind == "LeaderWorkerSet"
	lwt := obj.spec.leaderWorkerTemplate
	t := {p: tt |
		some name in ["leaderTemplate", "workerTemplate"]
		some p, tt in template_at(lwt[name], concat("", ["/spec/leaderWorkerTemplate/", name]), lws_replicas(name, nn(object.get(lwt, "size", null), 1)), name)
	}
} else := {}

lws_replicas("leaderTemplate", _) := 1

lws_replicas("workerTemplate", size) := size - 1

batch_job if {
	kind == "Job"
	startswith(obj.apiVersion, "batch/")
}

volcano_job if {
	kind == "Job"
	startswith(obj.apiVersion, "batch.volcano.sh/")
}

ray_cluster_specs["/spec"] := obj.spec if kind == "RayCluster"

ray_cluster_specs["/spec/rayClusterConfig"] := obj.spec.rayClusterConfig if kind == "RayService"

ray_cluster_specs["/spec/rayClusterSpec"] := obj.spec.rayClusterSpec if kind == "RayJob"

# template_at returns {path: template} for a pod template with a spec, {} otherwise.
template_at(tpl, path, replicas, group) := {p: t} if {
	is_object(tpl.spec)
	p := concat("", [path, "/spec"])
	t := {
		"path": p,
		"spec": tpl.spec,
		"meta": nn(object.get(tpl, "metadata", {}), {}),
		"replicas": replicas,
		"group": group,
	}
} else := {}

# nn returns x, or d when x is null (YAML `key:` with no value).
nn(x, d) := x if x != null

else := d

# pod_bearing is true for every object that has at least one pod template.
pod_bearing if count(pod_templates) > 0

# containers maps the JSON pointer of every container and init container to
# {path, name, container, init, sidecar, template, group, requests, limits}:
# template is the path of its pod template (a key of pod_templates), requests and
# limits its resource lists ({} when absent). Precomputing them here keeps rules
# from calling functions with whole containers as arguments, which OPA would hash
# on every call.
containers[p] := c if {
	some tp, t in pod_templates
	some field in ["containers", "initContainers"]
	some i, ctr in nn(object.get(t.spec, field, []), [])
	is_object(ctr)
	p := concat("/", [tp, field, format_int(i, 10)])
	res := object_or_empty(object.get(ctr, "resources", {}))
	c := {
		"path": p,
		"name": object.get(ctr, "name", ""),
		"container": ctr,
		"init": field == "initContainers",
		"sidecar": sidecar(field, object.get(ctr, "restartPolicy", "")),
		"template": tp,
		"group": t.group,
		"requests": object_or_empty(object.get(res, "requests", {})),
		"limits": object_or_empty(object.get(res, "limits", {})),
	}
}

# sidecar is true for a restartable init container, which runs beside the others.
sidecar(field, restart_policy) if {
	field == "initContainers"
	restart_policy == "Always"
} else := false

object_or_empty(x) := x if is_object(x)

else := {}

# ignored_container matches, by name, injected sidecars that other teams own
# (ignoredContainers). It takes the name, not the container, so that OPA's call
# memoization hashes a short string.
ignored_container(name) if regex.match(params.ignoredContainers, name)

# owned_by_controller is true for Pods created by a controller (ReplicaSet, Job, ...).
owned_by_controller if {
	some ref in get(obj.metadata, "ownerReferences", [])
	ref.controller == true
}

# get is object.get that also treats an explicit null as absent (YAML `key:` with no value).
get(o, key, default_value) := value if {
	is_object(o)
	value := o[key]
	value != null
} else := default_value

# quantity_int parses a Kubernetes integer count (e.g. 8, "8"); undefined for
# anything else, such as "500m", "$GPU_PER_NODE" or 1.5.
quantity_int(q) := q if {
	is_number(q)
	q == floor(q)
}

quantity_int(q) := n if {
	is_string(q)
	regex.match(`^[0-9]+$`, q)
	n := to_number(q)
}
