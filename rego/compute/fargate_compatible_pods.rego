# METADATA
# title: Pods scheduled on Fargate use only what Fargate offers
# description: |
#   EKS runs a Pod on Fargate when it matches a Fargate profile: its namespace and all the
#   labels of one selector (with * and ? wildcards). Profiles are AWS objects, so kgate
#   reads them from fargateProfiles; a Pod that already carries the label
#   eks.amazonaws.com/fargate-profile or schedulerName fargate-scheduler (set by the EKS
#   Fargate webhook) is a Fargate Pod too. Such pods (and the templates of workloads that
#   create them) must not ask for GPUs, accelerators or EFA, mount EBS volumes (inline,
#   through a PersistentVolumeClaim, a StatefulSet volumeClaimTemplate or a generic
#   ephemeral volume whose class or volume is EBS, looked up in the inventory), request
#   more than fargateMaxEphemeralStorage of ephemeral storage per pod, run privileged
#   containers, use hostNetwork or hostPort, or belong to a DaemonSet: Fargate supports
#   none of them and the pods stay Pending. Such templates are denied (Pods created by a
#   controller and updates of Pods and Jobs are warned). LoadBalancer Services and ALB
#   Ingresses that send traffic to Fargate pods need IP targets: a new LBC-managed
#   Service or Ingress gets target type ip (as NET-001 and NET-004 set it), existing ones
#   and classic in-tree load balancers are denied. A Service selects Fargate pods when its
#   selector carries every label of a matching profile; an Ingress backend, when its
#   Service (from the inventory) does, or when a profile takes the whole namespace.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#compute-011
# custom:
#   id: COMPUTE-011
#   severity: high
#   kinds: [Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, PyTorchJob, MPIJob, RayCluster, RayJob, RayService, LeaderWorkerSet, Service, Ingress]
#   default_action: deny
#   referential: true
#   inventory: [PersistentVolumeClaim, PersistentVolume, StorageClass, Service, IngressClass, IngressClassParams]
#   why: |
#     Fargate bills each pod for its own right-sized vCPU/memory combination and removes
#     node management, which suits data preparation, chatbot UIs and microservices. But
#     Fargate has no GPUs, cannot mount EBS volumes, gives a pod at most 175 GiB of
#     ephemeral storage, runs no DaemonSets and registers pods only as IP targets of a load
#     balancer. A pod that needs any of these stays Pending, and a load balancer with
#     instance targets never gets a healthy target, so the mismatch is cheapest to catch
#     before the workload is created.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: ebs-gp3}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3}
#       ---
#       apiVersion: v1
#       kind: PersistentVolumeClaim
#       metadata: {name: ebs-gp3-claim, namespace: dataprep}
#       spec:
#         storageClassName: ebs-gp3
#         accessModes: [ReadWriteOnce]
#         resources: {requests: {storage: 100Gi}}
#       ---
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: dataprep, namespace: dataprep}
#       spec:
#         selector: {matchLabels: {app: dataprep}}
#         template:
#           metadata: {labels: {app: dataprep, compute: fargate}}
#           spec:
#             containers:
#             - name: prep
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/dataprep:0.9.0
#               resources:
#                 requests: {cpu: "2", memory: 4Gi, nvidia.com/gpu: 1}
#                 limits: {memory: 4Gi, nvidia.com/gpu: 1}
#               volumeMounts: [{name: data, mountPath: /data}]
#             volumes:
#             - {name: data, persistentVolumeClaim: {claimName: ebs-gp3-claim}}
#     good: |
#       apiVersion: apps/v1
#       kind: Deployment
#       metadata: {name: dataprep, namespace: dataprep}
#       spec:
#         selector: {matchLabels: {app: dataprep}}
#         template:
#           metadata: {labels: {app: dataprep, compute: fargate}}
#           spec:
#             containers:
#             - name: prep
#               image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/dataprep:0.9.0
#               resources:
#                 requests: {cpu: "2", memory: 4Gi, ephemeral-storage: 40Gi}
#                 limits: {memory: 4Gi, ephemeral-storage: 40Gi}
#   params:
#     fargateProfiles:
#     - {name: dataprep, namespace: dataprep, labels: {compute: fargate}}
#     fargateMaxEphemeralStorage: 175Gi
#   schema:
#     fargateProfiles: {type: array, items: {type: object, required: [namespace], properties: {name: {type: string}, namespace: {type: string}, labels: {type: object, additionalProperties: {type: string}}}, additionalProperties: false}, description: "selectors of the cluster's EKS Fargate profiles (namespace and labels, * and ? wildcards allowed)"}
#     fargateMaxEphemeralStorage: {type: string, pattern: "^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$", description: "largest ephemeral-storage request a Fargate pod may have in total"}
package kgate.rules.compute.fargate_compatible_pods

import data.kgate.lib
import data.kgate.lib.network
import data.kgate.lib.pods
import data.kgate.lib.storage

profile_label := "eks.amazonaws.com/fargate-profile"

fargate_scheduler := "fargate-scheduler"

applies if {
	pods.workload
	count(fargate_templates) > 0
}

applies if service_in_scope

applies if ingress_in_scope

# --- which pods run on Fargate ---

# namespace_profiles are the Fargate profile selectors of the object's namespace.
namespace_profiles contains p if {
	lib.namespace != ""
	some p in lib.params.fargateProfiles
	glob.match(p.namespace, null, lib.namespace)
}

# profile_matches is true when labels carry every label of profile p (AWS matches label
# keys and values with * and ? wildcards).
profile_matches(p, labels) if {
	every k, v in lib.get(p, "labels", {}) {
		some lk, lv in labels
		glob.match(k, null, lk)
		glob.match(v, null, lv)
	}
}

profile_ref(p) := sprintf("Fargate profile %s", [p.name]) if {
	p.name
} else := sprintf("Fargate profile selector {namespace: %s, labels: %v}", [p.namespace, lib.get(p, "labels", {})])

reason contains [tp, sprintf("label %s: %s", [profile_label, v])] if {
	some tp, t in lib.pod_templates
	v := lib.get(lib.get(t.meta, "labels", {}), profile_label, null)
	v != null
}

reason contains [tp, sprintf("schedulerName %s", [fargate_scheduler])] if {
	some tp, t in lib.pod_templates
	t.spec.schedulerName == fargate_scheduler
}

reason contains [tp, profile_ref(p)] if {
	count(namespace_profiles) > 0
	some tp, t in lib.pod_templates
	some p in namespace_profiles
	profile_matches(p, lib.get(t.meta, "labels", {}))
}

# fargate_templates maps the pod templates that run on Fargate to why.
fargate_templates[tp] := concat("; ", sort({r | some [t, r] in reason; t == tp})) if some [tp, _] in reason

template_violation(tp, path, what, fix) := {
	"msg": sprintf("%s %s (its pods run on Fargate: %s)", [pods.template_ref(tp), what, fargate_templates[tp]]),
	"path": path,
	"fix": fix,
	"action": pods.enforce("deny"),
}

ec2_fix := "run it on EC2 nodes: drop the labels that match the Fargate profile, or use a namespace without one"

# --- accelerators and EFA ---

violation contains v if {
	applies
	some p, ext in pods.extended
	c := lib.containers[p]
	fargate_templates[c.template]
	some r, q in ext
	not pods.zero_count(q)
	v := template_violation(
		c.template,
		concat("", [p, "/resources/", pods.list_of(p, r), "/", lib.escape(r)]),
		sprintf("asks for %v %s in container %q, but Fargate has no GPUs, accelerators or EFA", [q, r, c.name]),
		ec2_fix,
	)
}

# --- EBS volumes ---

violation contains v if {
	applies
	some tp, _ in fargate_templates
	some i, vol in lib.get(lib.pod_templates[tp].spec, "volumes", [])
	what := ebs_volume(vol)
	v := template_violation(
		tp,
		sprintf("%s/volumes/%d", [tp, i]),
		sprintf("mounts volume %q (%s), but Fargate cannot mount EBS volumes", [vol.name, what]),
		"use Amazon EFS (static provisioning) or S3 for shared data on Fargate, or run the pod on EC2 nodes",
	)
}

violation contains v if {
	applies
	lib.kind == "StatefulSet"
	some tp, _ in fargate_templates
	some i, vct in lib.get(lib.obj.spec, "volumeClaimTemplates", [])
	what := ebs_claim(lib.get(vct, "spec", {}))
	v := template_violation(
		tp,
		sprintf("/spec/volumeClaimTemplates/%d", [i]),
		sprintf("claims volume %q from volumeClaimTemplates (%s), but Fargate cannot mount EBS volumes", [object.get(vct, ["metadata", "name"], ""), what]),
		"use Amazon EFS (static provisioning) for Fargate pods, or run the StatefulSet on EC2 nodes",
	)
}

ebs_volume(vol) := "an inline EBS volume (awsElasticBlockStore)" if vol.awsElasticBlockStore

ebs_volume(vol) := sprintf("PersistentVolumeClaim %s, %s", [name, what]) if {
	name := vol.persistentVolumeClaim.claimName
	pvc := data.inventory.namespace[lib.namespace].PersistentVolumeClaim[name]
	what := ebs_claim(lib.get(pvc, "spec", {}))
}

ebs_volume(vol) := sprintf("a generic ephemeral volume %s", [what]) if {
	what := ebs_claim(lib.get(vol.ephemeral.volumeClaimTemplate, "spec", {}))
}

# ebs_claim says why a claim spec gets an EBS volume: it is bound to an EBS
# PersistentVolume, or its StorageClass (the default class when it names none) is EBS.
ebs_claim(spec) := sprintf("bound to EBS PersistentVolume %s", [spec.volumeName]) if {
	pv := data.inventory.cluster.PersistentVolume[spec.volumeName]
	ebs_pv(pv)
} else := sprintf("provisioned by EBS StorageClass %s", [class]) if {
	class := claim_class(spec)
	storage.ebs_class(data.inventory.cluster.StorageClass[class])
}

ebs_pv(pv) if pv.spec.csi.driver in lib.params.ebsProvisioners

ebs_pv(pv) if pv.spec.awsElasticBlockStore

claim_class(spec) := spec.storageClassName if {
	is_string(spec.storageClassName)
	spec.storageClassName != ""
}

claim_class(spec) := default_class if lib.get(spec, "storageClassName", null) == null

default_class := name if {
	defaults := {n | some n, sc in object.get(data.inventory, ["cluster", "StorageClass"], {}); network.annotations_of(sc)["storageclass.kubernetes.io/is-default-class"] == "true"}
	count(defaults) == 1
	some name in defaults
}

# --- ephemeral storage ---

max_ephemeral := units.parse_bytes(lib.params.fargateMaxEphemeralStorage)

gib(bytes) := round((bytes / 1073741824) * 10) / 10

violation contains v if {
	applies
	some tp, _ in fargate_templates
	total := pod_ephemeral[tp]
	total > max_ephemeral
	v := template_violation(
		tp,
		ephemeral_path(tp),
		sprintf("requests %vGi of ephemeral storage per pod, but a Fargate pod has at most %s", [gib(total), lib.params.fargateMaxEphemeralStorage]),
		sprintf("keep the pod's ephemeral-storage requests at or below %s (Fargate also provisions and bills extra storage on top of a request) or mount EFS/S3 for bulk data", [lib.params.fargateMaxEphemeralStorage]),
	)
}

# ephemeral_path points at the request (else limit) of the only container that names
# ephemeral storage, or at the template's containers when several do.
ephemeral_path(tp) := concat("", [p, "/resources/", list, "/ephemeral-storage"]) if {
	[p] := [p | some p in pods.template_containers[tp]; "ephemeral-storage" in object.keys(pods.quantities[p])]
	list := request_or_limit(p)
} else := concat("", [tp, "/containers"])

request_or_limit(p) := "requests" if "ephemeral-storage" in object.keys(lib.containers[p].requests)

else := "limits"

# pod_ephemeral is the ephemeral storage one pod of template tp requests: its running
# containers and sidecars added up, or its largest init container when that is more.
# Undefined when a quantity cannot be parsed.
pod_ephemeral[tp] := max(array.concat([sum(running)], inits)) if {
	some tp, _ in fargate_templates
	ps := pods.template_containers[tp]
	running := [n | some p in ps; not pods.plain_init[p]; n := ephemeral_bytes[p]]
	inits := [n | some p in ps; pods.plain_init[p]; n := ephemeral_bytes[p]]
	count(running) + count(inits) == count(ps)
}

# ephemeral_bytes maps the containers of Fargate templates to their ephemeral-storage
# request (the limit when only a limit is set, as the API server defaults it), 0 when
# they name none.
ephemeral_bytes[p] := n if {
	some p, c in lib.containers
	fargate_templates[c.template]
	q := object.get(c.requests, "ephemeral-storage", object.get(c.limits, "ephemeral-storage", "0"))
	n := units.parse_bytes(format_int_or_string(q))
}

format_int_or_string(q) := sprintf("%v", [q]) if is_number(q)

else := q

# --- DaemonSets, privileged containers, host networking ---

violation contains v if {
	applies
	lib.kind == "DaemonSet"
	some tp, _ in fargate_templates
	v := template_violation(tp, "/spec/template", "is a DaemonSet, but Fargate runs no DaemonSets", "run daemons as sidecar containers of the Fargate pods, or keep the DaemonSet's pods off the Fargate profile")
}

violation contains v if {
	applies
	some p, c in lib.containers
	fargate_templates[c.template]
	c.container.securityContext.privileged == true
	v := template_violation(c.template, concat("", [p, "/securityContext/privileged"]), sprintf("runs container %q privileged, but Fargate runs no privileged containers", [c.name]), "drop privileged, or run the pod on EC2 nodes")
}

violation contains v if {
	applies
	some tp, _ in fargate_templates
	lib.pod_templates[tp].spec.hostNetwork == true
	v := template_violation(tp, concat("", [tp, "/hostNetwork"]), "uses hostNetwork, which Fargate pods cannot", "remove hostNetwork; reach the pod through a Service")
}

violation contains v if {
	applies
	some p, c in lib.containers
	fargate_templates[c.template]
	some j, port in lib.get(c.container, "ports", [])
	lib.get(port, "hostPort", 0) != 0
	v := template_violation(c.template, sprintf("%s/ports/%d/hostPort", [p, j]), sprintf("maps hostPort %v in container %q, which Fargate pods cannot", [port.hostPort, c.name]), "remove hostPort; expose the port through a Service")
}

# --- Services ---

svc_selector := lib.get(lib.get(lib.obj, "spec", {}), "selector", {})

# selects_fargate is true for a selector that only matches Fargate pods: it carries
# every label of a Fargate profile of the namespace, or the profile label.
selects_fargate(sel) := profile_ref(p) if {
	count(sel) > 0
	some p in namespace_profiles
	profile_matches(p, sel)
} else := sprintf("label %s", [profile_label]) if {
	sel[profile_label]
}

service_in_scope if {
	lib.kind == "Service"
	not lib.exempt_namespace
	network.service_lb
	aws_load_balancer
	selects_fargate(svc_selector)
}

# aws_load_balancer: the AWS Load Balancer Controller or the in-tree cloud provider
# (no class) creates the load balancer; other classes (MetalLB, ...) are not judged.
aws_load_balancer if network.lbc_managed

aws_load_balancer if not network.service_class

svc_name := lib.obj.metadata.name

# A new load balancer: CREATE, or an UPDATE that makes the Service an LBC LoadBalancer.
new_lb if lib.creating

new_lb if {
	lib.updating
	not network.lbc_service(input.oldObject)
}

nlb_annotation_path := lib.annotation_path(network.nlb_target_type_key)

violation contains v if {
	service_in_scope
	network.lbc_managed
	network.service_target_type != "ip"
	v := {
		"msg": sprintf("Service %q sends NLB traffic to pods that run on Fargate (%s) with target type %s: Fargate pods can only be IP targets, so the load balancer gets no healthy target", [svc_name, selects_fargate(svc_selector), network.service_target_type]),
		"path": svc_path,
		"fix": sprintf("set annotation %s: ip%s", [network.nlb_target_type_key, service_fix_note]),
		"action": service_action,
	}
}

svc_path := nlb_annotation_path if {
	lib.annotations[network.nlb_target_type_key]
} else := "/metadata/annotations" if {
	count(lib.annotations) > 0
} else := "/metadata"

service_fix_note := "" if new_lb

else := " (the controller replaces the target group)"

service_action := "mutate" if new_lb

else := "deny"

patch contains {"op": "add", "path": nlb_annotation_path, "value": "ip"} if {
	service_in_scope
	network.lbc_managed
	network.service_target_type != "ip"
	new_lb
}

# Without the AWS Load Balancer Controller, the in-tree cloud provider registers nodes
# (instance targets) only.
violation contains v if {
	service_in_scope
	not network.lbc_managed
	not network.service_class
	v := {
		"msg": sprintf("Service %q sends traffic to pods that run on Fargate (%s) through a load balancer of the in-tree cloud provider, which registers only instance targets", [svc_name, selects_fargate(svc_selector)]),
		"path": "/spec/type",
		"fix": sprintf("have the AWS Load Balancer Controller create it: recreate the Service with spec.loadBalancerClass %s and annotation %s: ip", [concat(" or ", lib.params.lbcLoadBalancerClasses), network.nlb_target_type_key]),
		"action": "deny",
	}
}

# --- Ingresses ---

ingress_in_scope if {
	lib.kind == "Ingress"
	not lib.exempt_namespace
	network.lbc_ingress
	count(fargate_backends) > 0
}

# fargate_backends maps the Service backends of the Ingress whose pods run on Fargate
# to why.
fargate_backends[b] := why if {
	count(namespace_profiles) + count(backend_services) > 0
	some b in network.ingress_backends
	why := backend_fargate(b.service)
}

backend_services := object.get(data.inventory, ["namespace", lib.namespace, "Service"], {})

# A profile without labels takes every pod of the namespace.
backend_fargate(svc) := profile_ref(p) if {
	some p in namespace_profiles
	count(lib.get(p, "labels", {})) == 0
} else := why if {
	why := selects_fargate(lib.get(lib.get(backend_services[svc], "spec", {}), "selector", {}))
}

params_target := network.ingress_class_params.spec.targetType

ingress_target := lib.annotations[network.alb_target_type_key]

alb_annotation_path := lib.annotation_path(network.alb_target_type_key)

# backend_target is the target type LBC gives a backend, and what sets it.
backend_target(svc) := [params_target, sprintf("IngressClassParams %s", [network.ingress_class_params.metadata.name])] if {
	params_target
} else := [t, sprintf("annotation %s of Service %s", [network.alb_target_type_key, svc])] if {
	t := network.backend_annotations(svc)[network.alb_target_type_key]
} else := [ingress_target, "the Ingress annotation"] if {
	ingress_target
} else := [lib.params.lbcDefaultTargetType, "the controller default"]

violation contains v if {
	ingress_in_scope
	some b, why in fargate_backends
	[target, source] := backend_target(b.service)
	target != "ip"
	v := {
		"msg": sprintf("Ingress %q sends ALB traffic to Service %q, whose pods run on Fargate (%s), with target type %s from %s: Fargate pods can only be IP targets", [lib.obj.metadata.name, b.service, why, target, source]),
		"path": b.path,
		"fix": ingress_fix(source, b.service),
		"action": ingress_action(source),
	}
}

ingress_settable(source) if source in {"the Ingress annotation", "the controller default"}

ingress_action(source) := "mutate" if {
	lib.creating
	ingress_settable(source)
} else := "deny"

ingress_fix(source, svc) := sprintf("set annotation %s: ip on the Ingress", [network.alb_target_type_key]) if {
	ingress_settable(source)
} else := sprintf("set spec.targetType: ip in IngressClassParams %s", [network.ingress_class_params.metadata.name]) if {
	params_target
} else := sprintf("set annotation %s: ip on Service %s", [network.alb_target_type_key, svc])

patch contains {"op": "add", "path": alb_annotation_path, "value": "ip"} if {
	ingress_in_scope
	lib.creating
	some b, _ in fargate_backends
	[target, source] := backend_target(b.service)
	target != "ip"
	ingress_settable(source)
}
