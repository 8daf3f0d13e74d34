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
package kgate.lib

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

# genai_namespace: the strict profile applies to every namespaced object outside the
# exempt namespaces.
genai_namespace if {
	namespace != ""
	not exempt_namespace
}

# escape turns a map key into a JSON-pointer segment (RFC 6901).
escape(key) := replace(replace(key, "~", "~0"), "/", "~1")

annotations := obj.metadata.annotations if obj.metadata.annotations
else := {}

labels := obj.metadata.labels if obj.metadata.labels
else := {}

# annotation_path is the JSON pointer of an annotation of the object under review.
annotation_path(key) := concat("", ["/metadata/annotations/", escape(key)])

# pod_templates lists every pod spec of the object: {path, spec, meta, replicas, group}.
# path is the JSON pointer of the pod spec, meta the pod template metadata, replicas
# the number of pods the template runs at once (null when unknown), and group names
# the template inside the object (e.g. "worker").
pod_templates contains t if {
	kind == "Pod"
	t := {"path": "/spec", "spec": obj.spec, "meta": get(obj, "metadata", {}), "replicas": 1, "group": "pod"}
}

pod_templates contains t if {
	kind in {"Deployment", "ReplicaSet", "StatefulSet"}
	t := template_at(obj.spec.template, "/spec/template", get(obj.spec, "replicas", 1), "template")
}

pod_templates contains t if {
	kind == "DaemonSet"
	t := template_at(obj.spec.template, "/spec/template", null, "template")
}

pod_templates contains t if {
	batch_job
	t := template_at(obj.spec.template, "/spec/template", get(obj.spec, "parallelism", 1), "template")
}

pod_templates contains t if {
	kind == "CronJob"
	job := obj.spec.jobTemplate.spec
	t := template_at(job.template, "/spec/jobTemplate/spec/template", get(job, "parallelism", 1), "template")
}

# Volcano Job: batch.volcano.sh, spec.tasks[*].template.
pod_templates contains t if {
	volcano_job
	some i, task in obj.spec.tasks
	t := template_at(task.template, sprintf("/spec/tasks/%d/template", [i]), get(task, "replicas", 1), get(task, "name", sprintf("task-%d", [i])))
}

pod_templates contains t if {
	kind == "PyTorchJob"
	some name, rs in obj.spec.pytorchReplicaSpecs
	t := template_at(rs.template, concat("", ["/spec/pytorchReplicaSpecs/", escape(name), "/template"]), get(rs, "replicas", 1), name)
}

pod_templates contains t if {
	kind == "MPIJob"
	some name, rs in obj.spec.mpiReplicaSpecs
	t := template_at(rs.template, concat("", ["/spec/mpiReplicaSpecs/", escape(name), "/template"]), get(rs, "replicas", 1), name)
}

pod_templates contains t if {
	some prefix, cluster in ray_cluster_specs
	t := ray_templates(cluster, prefix)[_]
}

pod_templates contains t if {
	kind == "LeaderWorkerSet"
	lwt := obj.spec.leaderWorkerTemplate
	some name in ["leaderTemplate", "workerTemplate"]
	lwt[name]
	t := template_at(lwt[name], concat("", ["/spec/leaderWorkerTemplate/", name]), lws_replicas(name, lwt), name)
}

lws_replicas("leaderTemplate", _) := 1

lws_replicas("workerTemplate", lwt) := get(lwt, "size", 1) - 1

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

ray_templates(cluster, prefix) := array.concat(
	[template_at(cluster.headGroupSpec.template, concat("", [prefix, "/headGroupSpec/template"]), 1, "head") |
		cluster.headGroupSpec.template
	],
	[template_at(g.template, sprintf("%s/workerGroupSpecs/%d/template", [prefix, i]), get(g, "replicas", 1), get(g, "groupName", sprintf("worker-%d", [i]))) |
		some i, g in get(cluster, "workerGroupSpecs", [])
		g.template
	],
)

template_at(tpl, path, replicas, group) := {
	"path": concat("", [path, "/spec"]),
	"spec": get(tpl, "spec", {}),
	"meta": get(tpl, "metadata", {}),
	"replicas": replicas,
	"group": group,
}

# pod_bearing is true for every object that has at least one pod template.
pod_bearing if count(pod_templates) > 0

# containers lists the containers of every pod template:
# {path, container, init, template} where path is the container's JSON pointer.
containers contains c if {
	some t in pod_templates
	some field in ["containers", "initContainers"]
	some i, ctr in get(t.spec, field, [])
	c := {
		"path": sprintf("%s/%s/%d", [t.path, field, i]),
		"container": ctr,
		"init": field == "initContainers",
		"template": t,
	}
}

# ignored_container matches injected sidecars that other teams own.
ignored_container(ctr) if regex.match(params.ignoredContainers, ctr.name)

# resource returns a container's resource list ("requests" or "limits"), {} when absent.
resources(ctr, list) := get(get(ctr, "resources", {}), list, {})

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
