# METADATA
# title: Images are pinned and pulled so that node image caches are used
# description: |
#   Large GenAI images start fast only when the node already holds them (pre-cached in
#   a custom AMI, or prefetched). A `:latest` or untagged image defaults
#   imagePullPolicy to Always: every container start asks the registry, a re-pushed
#   tag pulls a digest no cache holds, and the start fails while the registry is
#   unreachable. The rule warns, for the containers and init containers of every Pod
#   or pod template in a GenAI namespace, about images with no tag or the `latest`
#   tag and no digest; and on GPU or inference pods (accelerator requests, or a
#   workload role in largeImageRoles) about pinned images whose pull policy is
#   Always, explicit or defaulted (`repo:latest@sha256:...`). Always does not
#   download layers a node already holds with the same digest, but it still needs
#   the registry at every start. With mutatePinnedPullPolicy, digest-pinned images
#   of such Pods get imagePullPolicy IfNotPresent at CREATE (safe: a digest is
#   immutable); templates are only warned. Image size is not in the Pod spec and is
#   left to CI or registry metadata. Injected sidecars (ignoredContainers) are skipped.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#image-002
# custom:
#   id: IMAGE-002
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   why: |
#     Model-server and training images of 10 GB or more take minutes to pull, on every
#     new GPU node; pre-caching them in the AMI or prefetching them only helps if the
#     pod asks for exactly the cached image and does not insist on the registry. A
#     pinned version (ideally a digest) with imagePullPolicy IfNotPresent starts from
#     the node cache, transfers nothing through the NAT gateway and keeps starting
#     when the registry is slow or unreachable.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: llm-server, namespace: genai}
#       spec:
#         containers:
#         - name: server
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/llm-server:latest
#           imagePullPolicy: Always
#           resources: {requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}, limits: {memory: 64Gi, nvidia.com/gpu: 1}}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: llm-server, namespace: genai}
#       spec:
#         containers:
#         - name: server
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/llm-server:2.3.1@sha256:0d3c5f0b8e0e6a0d9c3f0b6a1e2d4c5b6a7980e1f2a3b4c5d6e7f8091a2b3c4d
#           imagePullPolicy: IfNotPresent
#           resources: {requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}, limits: {memory: 64Gi, nvidia.com/gpu: 1}}
#   params:
#     largeImageRoles: [inference, training]
#     mutatePinnedPullPolicy: false
#   schema:
#     largeImageRoles: {type: array, items: {type: string}, description: "workload roles (workloadRoleLabel values) whose images are large, so that imagePullPolicy Always is reported for them as for accelerator pods"}
#     mutatePinnedPullPolicy: {type: boolean, description: "set imagePullPolicy IfNotPresent on digest-pinned images of GPU/inference Pods at CREATE instead of only warning"}
package kgate.rules.image.pinned_images_cache_friendly_pull

import data.kgate.lib
import data.kgate.lib.image_ref
import data.kgate.lib.pods

applies if {
	lib.pod_bearing
	lib.genai_namespace
}

# refs maps the checked containers (injected sidecars left out) to the parts of their
# image reference and their effective pull policy: as written, else the API server's
# default (Always for the tag latest or for no tag and no digest, IfNotPresent
# otherwise).
refs[p] := {"image": image, "tag": tag, "digest": digest, "policy": policy, "explicit": explicit} if {
	applies
	some p, c in lib.containers
	not lib.ignored_container(c.name)
	image := c.container.image
	is_string(image)
	image != ""
	tag := image_ref.tag(image)
	digest := image_ref.digest(image)
	explicit := lib.get(c.container, "imagePullPolicy", "")
	policy := effective_policy(explicit, tag, digest)
}

effective_policy(explicit, tag, digest) := explicit if explicit != ""

else := "Always" if defaulted_latest(tag, digest)

else := "IfNotPresent"

defaulted_latest(tag, _) if tag == "latest"

defaulted_latest("", "")

# moving holds the containers whose image names no version: no digest, and the tag
# latest or none.
moving contains p if {
	some p, r in refs
	r.digest == ""
	r.tag in {"", "latest"}
}

# large_templates holds the templates of GPU/inference pods: accelerator requests, or
# a workload role (on the template or the object) in largeImageRoles.
large_templates contains tp if some tp in pods.accelerator_templates

large_templates contains tp if {
	some tp, t in lib.pod_templates
	object.get(object.get(t.meta, "labels", {}), lib.params.workloadRoleLabel, "") in lib.params.largeImageRoles
}

large_templates contains tp if {
	lib.labels[lib.params.workloadRoleLabel] in lib.params.largeImageRoles
	some tp, _ in lib.pod_templates
}

# always_pull holds the containers of GPU/inference pods with a version-pinned image
# that still pull with Always.
always_pull contains p if {
	some p, r in refs
	not moving[p]
	r.policy == "Always"
	large_templates[lib.containers[p].template]
}

# mutable holds the containers of always_pull whose pull policy kgate sets at CREATE:
# the image is pinned by digest, so IfNotPresent cannot start stale content.
mutable contains p if {
	lib.params.mutatePinnedPullPolicy
	lib.kind == "Pod"
	lib.creating
	some p in always_pull
	refs[p].digest != ""
}

version_words(tag) := "the tag latest" if tag == "latest"

else := "no tag"

violation contains v if {
	some p in moving
	r := refs[p]
	v := {
		"msg": sprintf("%s runs %q with %s and no digest, so it pulls with imagePullPolicy %s: every start asks the registry and a re-pushed tag pulls an image the node cache (AMI or prefetch) does not hold", [pods.container_ref(p), r.image, version_words(r.tag), r.policy]),
		"path": concat("", [p, "/image"]),
		"fix": "pin a version tag and its digest (e.g. llm-server:2.3.1@sha256:...) and set imagePullPolicy: IfNotPresent",
		"action": "warn",
	}
}

violation contains v if {
	some p in always_pull
	r := refs[p]
	v := {
		"msg": sprintf("%s pulls %q with imagePullPolicy Always%s on a GPU/inference pod: layers already on the node are not downloaded again, but every start waits for the registry and fails while it is unreachable", [pods.container_ref(p), r.image, defaulted_words(r.explicit)]),
		"path": policy_path(p),
		"fix": pinned_fix(p),
		"action": action(p),
	}
}

defaulted_words(explicit) := " (the default for the tag latest)" if explicit == ""

else := ""

policy_path(p) := concat("", [p, "/imagePullPolicy"]) if refs[p].explicit != ""

else := concat("", [p, "/image"])

pinned_fix(p) := "set imagePullPolicy: IfNotPresent (the digest pins the content)" if refs[p].digest != ""

else := "pin the image by digest (e.g. llm-server:2.3.1@sha256:...) and set imagePullPolicy: IfNotPresent"

action(p) := "mutate" if mutable[p]

else := "warn"

patch contains op if {
	some p in mutable
	op := {"op": "replace", "path": concat("", [p, "/imagePullPolicy"]), "value": "IfNotPresent"}
}
