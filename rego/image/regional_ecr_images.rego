# METADATA
# title: GenAI images come from the cluster Region's ECR
# description: |
#   Pulling from Amazon ECR in the cluster's own Region is free of data-transfer charges
#   and can stay inside the VPC through the ECR and S3 VPC endpoints; pulling from a
#   public registry (Docker Hub, ghcr.io, nvcr.io, quay.io, ECR Public) or from another
#   Region's ECR leaves the VPC, so a NAT gateway bills every GB and multi-GB
#   model-server images slow every cold start. The rule warns for each container, init
#   container and ephemeral container of a Pod or pod template in a GenAI namespace
#   whose image registry is neither the Region's ECR (any account, so EKS add-on images
#   from 602401143452 pass) nor matches allowedRegistries. Injected sidecars
#   (ignoredContainers) are skipped. When pullThroughCachePrefixes maps the image's
#   registry to an ECR pull-through cache prefix in the cluster's Region, Pods are
#   rewritten to pull through the cache at CREATE (a digest pin still matches; a tag is
#   resolved by the cache and may drift from the upstream tag); templates are only
#   warned, so GitOps tools see no diff. Whether VPC endpoints exist cannot be seen
#   from Kubernetes objects.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#image-001
# custom:
#   id: IMAGE-001
#   severity: medium
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet]
#   default_action: warn
#   why: |
#     Pulls from ECR in the cluster's Region cost nothing in data transfer and can reach
#     ECR through VPC endpoints; pulls from Docker Hub, ghcr.io, nvcr.io or another
#     Region cross the NAT gateway, which bills every GB it processes, or cross-Region
#     transfer. GenAI model-server images are often 10-20 GB, so every node scale-out
#     pays again and waits minutes before the pod starts.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: vllm, namespace: genai}
#       spec:
#         containers:
#         - name: vllm
#           image: docker.io/vllm/vllm-openai:latest
#           resources: {requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}, limits: {memory: 64Gi, nvidia.com/gpu: 1}}
#     good: |
#       apiVersion: v1
#       kind: Pod
#       metadata: {name: vllm, namespace: genai}
#       spec:
#         containers:
#         - name: vllm
#           image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/vllm/vllm-openai:v0.6.3
#           resources: {requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}, limits: {memory: 64Gi, nvidia.com/gpu: 1}}
#   params:
#     allowedRegistries: []
#     pullThroughCachePrefixes: {}
#   schema:
#     allowedRegistries: {type: array, items: {type: string, format: regex}, description: "regular expressions of registry hosts (e.g. '^harbor\\.corp\\.internal$') that are reached without a NAT gateway and may be used besides the Region's ECR"}
#     pullThroughCachePrefixes: {type: object, additionalProperties: {type: string}, description: "upstream registry host to ECR pull-through cache prefix in the cluster's Region (e.g. docker.io: 111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub); when set, Pods pulling from that registry are rewritten at CREATE"}
package kgate.rules.image.regional_ecr_images

import data.kgate.lib
import data.kgate.lib.image_ref
import data.kgate.lib.pods

applies if {
	lib.pod_bearing
	lib.genai_namespace
}

# images maps the JSON pointer of every checked container to {name, image, ephemeral}:
# the containers and init containers of every pod template and the ephemeral (debug)
# containers of a Pod; injected sidecars are left out.
images[p] := {"name": c.name, "image": c.container.image, "ephemeral": false} if {
	applies
	some p, c in lib.containers
	not lib.ignored_container(c.name)
}

images[p] := {"name": name, "image": ctr.image, "ephemeral": true} if {
	applies
	lib.kind == "Pod"
	some i, ctr in lib.get(lib.obj.spec, "ephemeralContainers", [])
	name := object.get(ctr, "name", "")
	not lib.ignored_container(name)
	p := concat("", ["/spec/ephemeralContainers/", format_int(i, 10)])
}

region := lib.params.region

# offending maps the containers whose image comes from a registry that is neither the
# Region's ECR nor allowed, to that registry host.
offending[p] := h if {
	some p, img in images
	is_string(img.image)
	img.image != ""
	h := image_ref.host(img.image)
	not regional(h)
	not allowed(h)
}

# regional is a function so that `not` sees an undefined Region (a host that is not
# ECR) as "not regional"; written inline, OPA would hoist the call out of the negation.
regional(h) if image_ref.ecr_region(h) == region

allowed(h) if {
	some re in lib.params.allowedRegistries
	regex.match(re, h)
}

public_registries := {"docker.io", "ghcr.io", "nvcr.io", "quay.io", "gcr.io", "registry.k8s.io", "mcr.microsoft.com", "registry.gitlab.com"}

where(h) := sprintf("the ECR registry of %s, not of the cluster's Region %s", [r, region]) if {
	r := image_ref.ecr_region(h)
}

else := "ECR Public (public.ecr.aws), which is not the Region's private ECR" if h == "public.ecr.aws"

else := sprintf("the public registry %s", [h]) if h in public_registries

else := sprintf("registry %s, which is neither the Region's ECR nor listed in allowedRegistries", [h])

consequence(h) := "cross-Region pulls are billed per GB and cannot use the Region's ECR VPC endpoint" if image_ref.ecr_region(h)

else := "the pull leaves the VPC through the NAT gateway, which bills every GB it processes, and a multi-GB image slows every cold start"

# cached maps the containers whose registry has a pull-through cache prefix in the
# Region's ECR to the image as pulled through the cache (the first in sort order when
# aliases of one registry map to several prefixes).
cached[p] := min(targets) if {
	some p, h in offending
	targets := {concat("/", [trim_suffix(prefix, "/"), image_ref.remainder(images[p].image)]) |
		some upstream, prefix in lib.params.pullThroughCachePrefixes
		image_ref.docker_hub(lower(upstream)) == h
		image_ref.ecr_region(lower(split(prefix, "/")[0])) == region
	}
	count(targets) > 0
}

# Rewrite Pods at CREATE only (a Pod's image is its own; a template rewrite would make
# GitOps tools see a diff). Ephemeral containers are added later, never at CREATE.
rewrite[p] := image if {
	lib.kind == "Pod"
	lib.creating
	some p, image in cached
	not images[p].ephemeral
}

container_ref(p) := pods.container_ref(p) if lib.containers[p]

else := sprintf("ephemeral container %q of %s", [images[p].name, pods.object_ref])

violation contains v if {
	some p, h in offending
	v := {
		"msg": sprintf("%s pulls %q from %s: %s", [container_ref(p), images[p].image, where(h), consequence(h)]),
		"path": concat("", [p, "/image"]),
		"fix": fix(p, h),
		"action": action(p),
	}
}

fix(p, h) := sprintf("pull it through the Region's ECR pull-through cache: image: %s", [cached[p]]) if cached[p]

else := sprintf("replicate the repository to ECR in %s (ECR cross-Region replication) and pull it from there", [region]) if image_ref.ecr_region(h)

else := sprintf("push the image to ECR in %s, or create an ECR pull-through cache rule for %s and map it in pullThroughCachePrefixes; reach ECR and S3 through VPC endpoints so pulls skip the NAT gateway", [region, h])

action(p) := "mutate" if rewrite[p]

else := "warn"

patch contains op if {
	some p, image in rewrite
	op := {"op": "replace", "path": concat("", [p, "/image"]), "value": image}
}
