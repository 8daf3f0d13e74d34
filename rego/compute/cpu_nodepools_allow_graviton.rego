# METADATA
# title: CPU NodePools and CPU workloads allow Graviton (arm64)
# description: |
#   Reports karpenter.sh/v1 NodePools without accelerators whose kubernetes.io/arch
#   requirement (or template label) allows amd64 only, and pods of the CPU roles
#   (cpuRoles, by the workload role label) that require amd64 through their nodeSelector
#   or every required node-affinity term. A pool counts as an accelerator pool, and is
#   not checked, when it asks for GPUs or accelerators (karpenter.k8s.aws or
#   eks.amazonaws.com instance-gpu-* and instance-accelerator-* requirements or labels),
#   allows accelerator instance families or categories (p, g, gr, inf, trn, dl, f, vt),
#   taints nodes or sets limits with an accelerator resource: GPU instances are x86, apart
#   from the Graviton-based g5g family. Pods that request accelerators are not checked
#   either. Audit only: moving a workload to arm64 breaks single-arch images (exec format
#   error), and whether an image is multi-arch needs a registry lookup that kgate does not
#   do at admission (imageArchLookup). Once a pool allows both architectures, Karpenter
#   picks the cheapest instance, so pods with amd64-only images must then select
#   kubernetes.io/arch: amd64 themselves; such pods are expected in cpuRoles findings and
#   are resolved by building a multi-arch image.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-007
# custom:
#   id: COMPUTE-007
#   severity: low
#   kinds: [NodePool, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: audit
#   audit_only: true
#   why: |
#     AWS Graviton (arm64) instances give up to 40% better price-performance than
#     comparable x86 instances for CPU work: data preparation, RAG services, chatbot UIs
#     and other microservices around a GenAI model. A CPU NodePool that allows both
#     architectures lets Karpenter pick the cheaper instance whenever the workload's
#     images are multi-arch; pinning everything to amd64 forgoes that saving.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: general-cpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
#             requirements:
#             - {key: kubernetes.io/arch, operator: In, values: ["amd64"]}
#             - {key: karpenter.k8s.aws/instance-category, operator: In, values: ["c", "m", "r"]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: general-cpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
#             requirements:
#             - {key: kubernetes.io/arch, operator: In, values: ["arm64", "amd64"]}
#             - {key: karpenter.k8s.aws/instance-category, operator: In, values: ["c", "m", "r"]}
#   params:
#     cpuRoles: [ui, dataprep, rag]
#     imageArchLookup: false
#   schema:
#     cpuRoles: {type: array, items: {type: string}, description: "values of the workload role label (workloadRoleLabel) whose pods run CPU work that can move to Graviton"}
#     imageArchLookup: {type: boolean, const: false, description: "look up whether images are multi-arch through an external data provider; not available: kgate does no registry lookups in the admission path, so this must stay false"}
package kgate.rules.compute.cpu_nodepools_allow_graviton

import data.kgate.lib
import data.kgate.lib.karpenter
import data.kgate.lib.pods

arch_key := "kubernetes.io/arch"

arches := {"amd64", "arm64"}

applies if cpu_pool

applies if count(cpu_templates) > 0

# --- NodePools ---

cpu_pool if {
	karpenter.nodepool
	not accelerator_pool
}

name := lib.obj.metadata.name

# Requirement keys that select GPU or accelerator instances (AWS provider and EKS Auto
# Mode well-known labels).
accelerator_keys := {
	"karpenter.k8s.aws/instance-gpu-count", "karpenter.k8s.aws/instance-gpu-name",
	"karpenter.k8s.aws/instance-gpu-manufacturer", "karpenter.k8s.aws/instance-gpu-memory",
	"karpenter.k8s.aws/instance-accelerator-count", "karpenter.k8s.aws/instance-accelerator-name",
	"karpenter.k8s.aws/instance-accelerator-manufacturer",
	"eks.amazonaws.com/instance-gpu-count", "eks.amazonaws.com/instance-gpu-name",
	"eks.amazonaws.com/instance-gpu-manufacturer", "eks.amazonaws.com/instance-gpu-memory",
	"eks.amazonaws.com/instance-accelerator-count", "eks.amazonaws.com/instance-accelerator-name",
	"eks.amazonaws.com/instance-accelerator-manufacturer",
}

category_keys := {"karpenter.k8s.aws/instance-category", "eks.amazonaws.com/instance-category"}

accelerator_categories := {"p", "g", "gr", "inf", "trn", "dl", "f", "vt"}

accelerator_family := `^(p|g|gr|inf|trn|dl|f|vt)[0-9]`

accelerator_pool if {
	some r in karpenter.requirements
	r.key in accelerator_keys
	asks_for_accelerators(r)
}

accelerator_pool if {
	some k, v in karpenter.template_labels
	k in accelerator_keys
	not v in {"0", ""}
}

accelerator_pool if {
	some f in karpenter.families
	regex.match(accelerator_family, f)
}

accelerator_pool if {
	some r in karpenter.requirements
	r.key in category_keys
	r.operator == "In"
	some c in r.values
	c in accelerator_categories
}

accelerator_pool if {
	some k in category_keys
	karpenter.template_labels[k] in accelerator_categories
}

accelerator_pool if {
	some t in lib.get(karpenter.template_spec, "taints", [])
	t.key in pods.accelerator_names
}

accelerator_pool if {
	some r, _ in lib.get(lib.get(lib.obj, "spec", {}), "limits", {})
	r in pods.accelerator_names
}

asks_for_accelerators(r) if {
	r.operator == "In"
	some v in r.values
	v != "0"
}

asks_for_accelerators(r) if r.operator in {"Exists", "Gt", "Gte"}

arch_requirements contains i if {
	some i, r in karpenter.requirements
	r.key == arch_key
}

has_arch_label if arch_key in object.keys(karpenter.template_labels)

# allowed_arches: without an arch requirement Karpenter may choose either.
allowed_arches := {a |
	some a in arches
	every i in arch_requirements {
		permits(karpenter.requirements[i], a)
	}
	label_permits(a)
}

permits(r, a) if {
	r.operator == "In"
	a in r.values
}

permits(r, a) if {
	r.operator == "NotIn"
	not a in r.values
}

permits(r, _) if r.operator == "Exists"

label_permits(_) if not has_arch_label

label_permits(a) if karpenter.template_labels[arch_key] == a

arch_path := sprintf("%s/%d", [karpenter.requirements_path, i]) if {
	some i in arch_requirements
	not permits(karpenter.requirements[i], "arm64")
} else := concat("", ["/spec/template/metadata/labels/", lib.escape(arch_key)])

violation contains v if {
	cpu_pool
	allowed_arches == {"amd64"}
	v := {
		"msg": sprintf("NodePool %q has no accelerators but allows amd64 instances only, so Karpenter never picks Graviton (arm64) instances, up to 40%% better price-performance for CPU work", [name]),
		"path": arch_path,
		"fix": "allow both architectures (kubernetes.io/arch In [arm64, amd64]) once the pool's workloads have multi-arch images; pods with amd64-only images then select kubernetes.io/arch: amd64 themselves",
		"action": "audit",
	}
}

# --- CPU-role pods pinned to amd64 ---

role := lib.params.workloadRoleLabel

# cpu_templates holds the pod templates of the CPU roles that ask for no accelerator.
cpu_templates contains tp if {
	pods.workload
	some tp, t in lib.pod_templates
	role_of(tp) in lib.params.cpuRoles
	not pods.has_accelerator(tp)
}

role_of(tp) := r if {
	r := lib.pod_templates[tp].meta.labels[role]
} else := lib.labels[role]

# amd64_paths maps CPU templates that require amd64 to what requires it.
amd64_paths[tp] := concat("", [tp, "/nodeSelector/", lib.escape(arch_key)]) if {
	some tp in cpu_templates
	lib.pod_templates[tp].spec.nodeSelector[arch_key] == "amd64"
}

amd64_paths[tp] := concat("", [tp, "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"]) if {
	some tp in cpu_templates
	not lib.pod_templates[tp].spec.nodeSelector[arch_key]
	terms := lib.pod_templates[tp].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
	count(terms) > 0
	every term in terms {
		amd64_term(term)
	}
}

amd64_term(term) if {
	some e in term.matchExpressions
	e.key == arch_key
	not permits(e, "arm64")
	permits(e, "amd64")
}

violation contains v if {
	some tp, path in amd64_paths
	v := {
		"msg": sprintf("%s runs CPU work (role %s) but requires amd64 nodes, so it can never run on Graviton (arm64), up to 40%% better price-performance", [pods.template_ref(tp), role_of(tp)]),
		"path": path,
		"fix": "build and push a multi-arch image (linux/amd64 and linux/arm64) and drop the kubernetes.io/arch: amd64 requirement; keep it only while the image is amd64-only",
		"action": "audit",
	}
}
