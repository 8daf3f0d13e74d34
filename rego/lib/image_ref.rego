# METADATA
# title: kgate image reference helpers
# description: |
#   Shared definitions of the image rules (catalog section 8): the parts of a container
#   image reference (registry host, the path after it, tag, digest) with the
#   normalisation container runtimes apply, and Amazon ECR private registry hosts.
package kgate.lib.image_ref

# Performance: the functions take the image string (short), never a container, so
# OPA's call memoization hashes little.

# A first path component names a registry host only when it contains "." or ":" or is
# "localhost" (Docker's reference normalisation, which Kubernetes uses to default
# imagePullPolicy); otherwise the image comes from Docker Hub.
registry_component(s) if contains(s, ".")

registry_component(s) if contains(s, ":")

registry_component("localhost")

# digest is the part after "@" ("" when the image is not pinned by digest).
digest(image) := substring(image, indexof(image, "@") + 1, -1) if contains(image, "@")

else := ""

# name_part is the image without its digest.
name_part(image) := split(image, "@")[0]

# host is the registry host in lower case, with Docker Hub's aliases folded into
# docker.io ("nginx", "library/nginx" and "index.docker.io/library/nginx" are all
# docker.io).
host(image) := h if {
	parts := split(name_part(image), "/")
	count(parts) > 1
	registry_component(parts[0])
	h := docker_hub(lower(parts[0]))
} else := "docker.io"

docker_hub(h) := "docker.io" if h in {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

else := h

# remainder is the reference after the registry host (repository, tag and digest); an
# official Docker Hub image gets its implicit library/ prefix, which ECR pull-through
# cache rules for Docker Hub need ("nginx:1.27" -> "library/nginx:1.27").
remainder(image) := concat("/", array.slice(parts, 1, count(parts))) if {
	parts := split(image, "/")
	count(parts) > 1
	registry_component(parts[0])
} else := concat("/", ["library", image]) if {
	not contains(name_part(image), "/")
} else := image

# tag is the tag of the image ("" when it names none: "repo" or "repo@sha256:...").
tag(image) := t if {
	parts := split(name_part(image), "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	t := substring(last, indexof(last, ":") + 1, -1)
} else := ""

# ecr_region is the Region of an Amazon ECR private registry host:
# <account>.dkr.ecr.<region>.amazonaws.com (.com.cn in China, dkr.ecr-fips for FIPS
# endpoints) and the dual-stack <account>.dkr-ecr.<region>.on.aws. Undefined for any
# other host, including ECR Public (public.ecr.aws).
ecr_region(h) := m[0][1] if {
	m := regex.find_all_string_submatch_n(`^[0-9]{12}\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$`, h, 1)
	count(m) == 1
}
