# METADATA
# title: GPU pods carry a team label and a cost-center annotation
# description: |
#   Accelerator capacity is the largest line of the GenAI bill, and it is charged back
#   to teams. Every pod that asks for an accelerator (any resource of the global
#   acceleratorResources parameter, e.g. nvidia.com/gpu or aws.amazon.com/neuron) must
#   say who runs it: the label named by teamLabel and the annotation named by
#   costCenterAnnotation, both non-empty, on the pod itself (a Pod's metadata, or the
#   pod template's metadata of a Deployment, Job, PyTorchJob, RayCluster, ...). Pods
#   without accelerators are out of scope. Pods created by a controller are only
#   warned: the fix belongs in their template.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/authoring.md
# custom:
#   id: TEAM-001
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: deny
#   why: |
#     GPU hours are charged back by team and cost center. A GPU pod without both cannot be
#     attributed: its cost lands in a shared bucket that nobody owns, and nobody is asked
#     to stop it when it sits idle.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: finetune, namespace: research}
#       spec:
#         containers:
#         - name: trainer
#           image: trainer:1.0
#           resources:
#             limits: {nvidia.com/gpu: 1}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata:
#         name: finetune
#         namespace: research
#         labels: {team: nlp}
#         annotations: {cost-center: cc-4711}
#       spec:
#         containers:
#         - name: trainer
#           image: trainer:1.0
#           resources:
#             limits: {nvidia.com/gpu: 1}
#   params:
#     teamLabel: team
#     costCenterAnnotation: cost-center
#   schema:
#     teamLabel: {type: string, minLength: 1, description: "label every accelerator pod carries, naming the team that owns it"}
#     costCenterAnnotation: {type: string, minLength: 1, description: "annotation every accelerator pod carries, naming the cost center its accelerator hours are charged to"}
package kgate.rules.team.gpu_team_label

import data.kgate.lib
import data.kgate.lib.pods

# gpu_templates are the paths of the pod templates whose pods ask for at least one
# accelerator. A count that is not an integer (an unrendered "$GPUS") counts as one;
# an explicit 0 does not.
gpu_templates contains tp if {
	some tp in pods.accelerator_templates
	not pods.template_accelerators[tp] == 0
}

# applies: a workload outside the exempt namespaces with at least one GPU pod template.
applies if {
	pods.workload
	count(gpu_templates) > 0
}

violation contains v if {
	applies
	some tp in gpu_templates
	some field, key in required
	not present(tp, field, key)
	v := {
		"msg": sprintf("%s asks for accelerators but %s no %s %q", [pods.template_ref(tp), owner[tp == "/spec"], singular[field], key]),
		"path": missing_path(tp, field),
		"fix": sprintf("add the %s %s: <%s> to %s.%s", [singular[field], key, hint[field], where[tp == "/spec"], field]),
		"action": pods.enforce("deny"),
	}
}

# required maps the metadata field to the key every GPU pod must set in it.
required := {"labels": lib.params.teamLabel, "annotations": lib.params.costCenterAnnotation}

singular := {"labels": "label", "annotations": "annotation"}

hint := {"labels": "owning team, e.g. nlp", "annotations": "cost center, e.g. cc-4711"}

# A Pod carries the label itself; other kinds carry it in their pod template.
owner := {true: "has", false: "its pod template has"}

where := {true: "metadata", false: "the pod template's metadata"}

# present is true when the pod metadata of template tp sets field[key] to a
# non-empty string.
present(tp, field, key) if {
	value := lib.get(lib.get(lib.pod_templates[tp].meta, field, {}), key, "")
	is_string(value)
	value != ""
}

# meta_path is the JSON pointer of the pod metadata of template tp: /metadata for a
# Pod, the template's metadata (e.g. /spec/template/metadata) otherwise.
meta_path(tp) := "/metadata" if tp == "/spec"

else := concat("", [template_path(tp), "/metadata"])

# template_path is the pod template that holds the pod spec at tp.
template_path(tp) := trim_suffix(tp, "/spec")

# missing_path points at the labels or annotations map when the pod has one, else at
# its metadata, else (a template without metadata) at the template, so that kgate
# reports the line to edit.
missing_path(tp, field) := concat("/", [meta_path(tp), field]) if {
	is_object(lib.pod_templates[tp].meta[field])
} else := meta_path(tp) if {
	count(lib.pod_templates[tp].meta) > 0
} else := template_path(tp)
