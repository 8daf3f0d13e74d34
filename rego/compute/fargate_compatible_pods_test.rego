package kgate.rules.compute.fargate_compatible_pods_test

import data.kgate.lib.testing
import data.kgate.rules.compute.fargate_compatible_pods as rule

fargate_labels := {"app": "dataprep", "compute": "fargate"}

container(resources) := {"name": "prep", "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/dataprep:0.9.0", "resources": resources}

small := {"requests": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "40Gi"}, "limits": {"memory": "4Gi", "ephemeral-storage": "40Gi"}}

gpu := {"requests": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1}, "limits": {"memory": "4Gi", "nvidia.com/gpu": 1}}

deployment(labels, spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "dataprep", "namespace": "dataprep"},
	"spec": {
		"selector": {"matchLabels": {"app": "dataprep"}},
		"template": {"metadata": {"labels": labels}, "spec": spec},
	},
}

fargate(spec) := deployment(fargate_labels, spec)

pod(labels, spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prep", "namespace": "dataprep", "labels": labels}, "spec": spec}

violations(obj) := [v | some v in rule.violation with input as testing.review(obj)]

# The catalog's bad example, GPU part.
test_gpu_on_fargate_is_denied if {
	[v] := violations(fargate({"containers": [container(gpu)]}))
	v.action == "deny"
	v.path == "/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu"
	contains(v.msg, `Deployment "dataprep" asks for 1 nvidia.com/gpu in container "prep"`)
	contains(v.msg, "Fargate profile dataprep")
}

test_efa_and_neuron_are_denied if {
	every r in ["vpc.amazonaws.com/efa", "aws.amazon.com/neuron"] {
		[v] := violations(fargate({"containers": [container({"limits": {r: 1}})]}))
		contains(v.msg, r)
	}

	# a count of 0 is no request
	count(violations(fargate({"containers": [container(object.union(small, {"limits": {"nvidia.com/gpu": 0}}))]}))) == 0
}

# The catalog's good example.
test_compatible_pods_pass if {
	every obj in [
		fargate({"containers": [container(small)]}),
		pod(fargate_labels, {"containers": [container(small)]}),
	] {
		rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

test_pods_off_fargate_not_in_scope if {
	every obj in [
		# no profile label
		deployment({"app": "dataprep"}, {"containers": [container(gpu)]}),
		# another namespace
		json.patch(fargate({"containers": [container(gpu)]}), [{"op": "replace", "path": "/metadata/namespace", "value": "genai"}]),
	] {
		not rule.applies with input as testing.review(obj)
		count(rule.violation) == 0 with input as testing.review(obj)
	}
}

# Profiles match namespaces and labels with * and ? wildcards; a profile without
# labels takes the whole namespace.
test_profile_selectors if {
	obj := json.patch(fargate({"containers": [container(gpu)]}), [{"op": "replace", "path": "/metadata/namespace", "value": "prod-etl"}])
	every profiles in [
		[{"namespace": "prod-*"}],
		[{"namespace": "prod-et?", "labels": {"compute": "far*"}}],
		[{"namespace": "*", "labels": {"comp*": "fargate"}}],
	] {
		count(rule.violation) == 1 with input as testing.review_with(obj, {"fargateProfiles": profiles})
	}
	every profiles in [
		[{"namespace": "prod"}],
		[{"namespace": "prod-*", "labels": {"compute": "fargate", "tier": "batch"}}],
		[],
	] {
		not rule.applies with input as testing.review_with(obj, {"fargateProfiles": profiles})
	}
}

# Edge: the EKS Fargate webhook labels Pods and sets their scheduler (order unknown):
# a Pod it already mutated is evaluated like one it has not, also outside the profiles
# kgate knows.
test_pods_mutated_by_the_fargate_webhook if {
	mutated := {"containers": [container(gpu)], "schedulerName": "fargate-scheduler"}
	every obj in [
		pod(object.union(fargate_labels, {"eks.amazonaws.com/fargate-profile": "dataprep"}), mutated),
		pod({"eks.amazonaws.com/fargate-profile": "dataprep"}, {"containers": [container(gpu)]}),
		pod({}, mutated),
	] {
		[v] := [v | some v in rule.violation with input as testing.review_with(obj, {"fargateProfiles": []})]
		v.action == "deny"
		v.path == "/spec/containers/0/resources/limits/nvidia.com~1gpu"
	}
	[v] := violations(pod(object.union(fargate_labels, {"eks.amazonaws.com/fargate-profile": "dataprep"}), mutated))
	contains(v.msg, "Fargate profile dataprep; label eks.amazonaws.com/fargate-profile: dataprep; schedulerName fargate-scheduler")
}

# Pods created by a controller are warned; updates of Pods and Jobs too.
test_controller_pods_and_updates_are_warned if {
	owned := json.patch(pod(fargate_labels, {"containers": [container(gpu)]}), [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "prep-5d8", "uid": "1", "controller": true}]}])
	[v] := violations(owned)
	v.action == "warn"
	bare := pod(fargate_labels, {"containers": [container(gpu)]})
	[w] := [w | some w in rule.violation with input as testing.review_update(bare, bare)]
	w.action == "warn"
	d := fargate({"containers": [container(gpu)]})
	[x] := [x | some x in rule.violation with input as testing.review_update(d, d)]
	x.action == "deny"
}

test_exempt_namespaces_not_in_scope if {
	obj := json.patch(fargate({"containers": [container(gpu)]}), [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}])
	not rule.applies with input as testing.review_with(obj, {"fargateProfiles": [{"namespace": "kube-system"}]})
}

# --- EBS volumes ---

ebs_sc := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "ebs-gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "ebs.csi.aws.com"}

efs_sc := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "efs"}, "provisioner": "efs.csi.aws.com"}

claim(name, spec) := {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "dataprep"}, "spec": spec}

ebs_pv := {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-ebs"}, "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"}}}

inv := {
	"cluster": {"StorageClass": {"ebs-gp3": ebs_sc, "efs": efs_sc}, "PersistentVolume": {"pv-ebs": ebs_pv}},
	"namespace": {"dataprep": {"PersistentVolumeClaim": {
		"ebs-gp3-claim": claim("ebs-gp3-claim", {"storageClassName": "ebs-gp3"}),
		"default-claim": claim("default-claim", {}),
		"static-ebs": claim("static-ebs", {"storageClassName": "", "volumeName": "pv-ebs"}),
		"efs-claim": claim("efs-claim", {"storageClassName": "efs"}),
	}}},
}

with_volume(vol) := fargate({"containers": [container(small)], "volumes": [vol]})

pvc_volume(name) := {"name": "data", "persistentVolumeClaim": {"claimName": name}}

# The catalog's bad example, EBS part.
test_ebs_volumes_are_denied if {
	every c in [
		[pvc_volume("ebs-gp3-claim"), "provisioned by EBS StorageClass ebs-gp3"],
		[pvc_volume("default-claim"), "provisioned by EBS StorageClass ebs-gp3"],
		[pvc_volume("static-ebs"), "bound to EBS PersistentVolume pv-ebs"],
		[{"name": "data", "awsElasticBlockStore": {"volumeID": "vol-0abc"}}, "inline EBS volume"],
		[{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"storageClassName": "ebs-gp3", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}}}}}, "generic ephemeral volume"],
	] {
		[v] := [v | some v in rule.violation with input as testing.review(with_volume(c[0])) with data.inventory as inv]
		v.action == "deny"
		v.path == "/spec/template/spec/volumes/0"
		contains(v.msg, c[1])
	}
}

test_efs_and_unknown_claims_pass if {
	every vol in [pvc_volume("efs-claim"), pvc_volume("not-in-inventory"), {"name": "tmp", "emptyDir": {}}] {
		count(rule.violation) == 0 with input as testing.review(with_volume(vol)) with data.inventory as inv
	}
}

test_statefulset_volume_claim_templates if {
	sts := {
		"apiVersion": "apps/v1",
		"kind": "StatefulSet",
		"metadata": {"name": "cache", "namespace": "dataprep"},
		"spec": {
			"serviceName": "cache",
			"selector": {"matchLabels": {"app": "cache"}},
			"template": {"metadata": {"labels": {"app": "cache", "compute": "fargate"}}, "spec": {"containers": [container(small)]}},
			"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}],
		},
	}
	[v] := [v | some v in rule.violation with input as testing.review(sts) with data.inventory as inv]
	v.path == "/spec/volumeClaimTemplates/0"
	contains(v.msg, `claims volume "data"`)
}

# --- ephemeral storage ---

test_ephemeral_storage_over_175gi_is_denied if {
	[v] := violations(fargate({"containers": [container({"requests": {"cpu": "1", "memory": "2Gi", "ephemeral-storage": "200Gi"}})]}))
	v.path == "/spec/template/spec/containers/0/resources/requests/ephemeral-storage"
	contains(v.msg, "requests 200Gi of ephemeral storage per pod, but a Fargate pod has at most 175Gi")

	# summed over the containers
	two := fargate({"containers": [
		container({"requests": {"ephemeral-storage": "100Gi"}}),
		object.union(container({"requests": {"ephemeral-storage": "80Gi"}}), {"name": "sidecar"}),
	]})
	[w] := violations(two)
	w.path == "/spec/template/spec/containers"
	contains(w.msg, "requests 180Gi")
}

# Edge: exactly 175Gi is allowed (Fargate provisions and bills extra on top); the limit
# counts when no request is set; an init container counts only if larger.
test_ephemeral_storage_boundaries if {
	count(violations(fargate({"containers": [container({"requests": {"ephemeral-storage": "175Gi"}})]}))) == 0
	count(violations(fargate({"containers": [container({"limits": {"ephemeral-storage": "176Gi"}})]}))) == 1
	init := object.union(container({"requests": {"ephemeral-storage": "150Gi"}}), {"name": "fetch"})
	count(violations(fargate({"initContainers": [init], "containers": [container({"requests": {"ephemeral-storage": "100Gi"}})]}))) == 0
	count(violations(fargate({"containers": [container({"requests": {"ephemeral-storage": "100Gi"}})]}))) == 0 with input as testing.review_with(fargate({"containers": [container({"requests": {"ephemeral-storage": "100Gi"}})]}), {"fargateMaxEphemeralStorage": "200Gi"})
	count([v | some v in rule.violation with input as testing.review_with(fargate({"containers": [container({"requests": {"ephemeral-storage": "100Gi"}})]}), {"fargateMaxEphemeralStorage": "50Gi"})]) == 1
}

# --- DaemonSets, privileged, host networking ---

test_daemonset_is_denied if {
	ds := {
		"apiVersion": "apps/v1",
		"kind": "DaemonSet",
		"metadata": {"name": "log-agent", "namespace": "dataprep"},
		"spec": {"selector": {"matchLabels": {"app": "log"}}, "template": {"metadata": {"labels": {"app": "log", "compute": "fargate"}}, "spec": {"containers": [container(small)]}}},
	}
	[v] := violations(ds)
	v.path == "/spec/template"
	contains(v.msg, "is a DaemonSet")
}

test_privileged_and_host_networking_are_denied if {
	priv := object.union(container(small), {"securityContext": {"privileged": true}, "ports": [{"containerPort": 8080, "hostPort": 8080}]})
	vs := violations(fargate({"hostNetwork": true, "containers": [priv]}))
	{v.path | some v in vs} == {
		"/spec/template/spec/hostNetwork",
		"/spec/template/spec/containers/0/securityContext/privileged",
		"/spec/template/spec/containers/0/ports/0/hostPort",
	}
}

# --- Services ---

service(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "dataprep-api", "namespace": "dataprep", "annotations": annotations},
	"spec": object.union({"type": "LoadBalancer", "selector": fargate_labels, "ports": [{"port": 80, "targetPort": 8080}]}, spec),
}

nlb_key := "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"

test_new_service_gets_ip_targets if {
	svc := service({}, {})
	[v] := violations(svc)
	v.action == "mutate"
	v.path == "/metadata"
	contains(v.msg, "with target type instance")
	rule.patch == {{"op": "add", "path": "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-nlb-target-type", "value": "ip"}} with input as testing.review(svc)
}

test_service_patch_is_idempotent if {
	every svc in [service({}, {}), json.patch(service({}, {}), [{"op": "remove", "path": "/metadata/annotations"}])] {
		patched := testing.apply(svc, [op | some op in rule.patch with input as testing.review(svc)])
		rule.applies with input as testing.review(patched)
		count(rule.violation) == 0 with input as testing.review(patched)
		count(rule.patch) == 0 with input as testing.review(patched)
	}
}

test_existing_service_with_instance_targets_is_denied if {
	old := service({nlb_key: "instance"}, {"loadBalancerClass": "service.k8s.aws/nlb"})
	[v] := [v | some v in rule.violation with input as testing.review_update(old, old)]
	v.action == "deny"
	v.path == "/metadata/annotations/service.beta.kubernetes.io~1aws-load-balancer-nlb-target-type"
	contains(v.fix, "replaces the target group")
	count(rule.patch) == 0 with input as testing.review_update(old, old)
}

test_legacy_load_balancer_is_denied if {
	legacy := service({}, {})
	[v] := [v | some v in rule.violation with input as testing.review_update(legacy, legacy)]
	v.action == "deny"
	v.path == "/spec/type"
	contains(v.msg, "in-tree cloud provider")
	in_tree_nlb := service({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}, {})
	[w] := violations(in_tree_nlb)
	w.action == "deny"
}

test_services_that_pass_or_are_out_of_scope if {
	ip := service({nlb_key: "ip"}, {"loadBalancerClass": "service.k8s.aws/nlb"})
	rule.applies with input as testing.review(ip)
	count(rule.violation) == 0 with input as testing.review(ip)
	every svc in [
		# selects pods without the profile label: they may run on EC2
		json.patch(service({}, {}), [{"op": "replace", "path": "/spec/selector", "value": {"app": "dataprep"}}]),
		# not a load balancer
		service({}, {"type": "ClusterIP"}),
		# another controller's class
		service({}, {"loadBalancerClass": "example.com/metallb"}),
	] {
		not rule.applies with input as testing.review(svc)
	}
}

# --- Ingresses ---

ingress(annotations) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "dataprep", "namespace": "dataprep", "annotations": annotations},
	"spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "dataprep-api", "port": {"number": 80}}}}]}}]},
}

alb_key := "alb.ingress.kubernetes.io/target-type"

svc_inv(annotations) := {"namespace": {"dataprep": {"Service": {"dataprep-api": service(annotations, {"type": "ClusterIP"})}}}}

test_new_ingress_to_fargate_gets_ip_targets if {
	ing := ingress({})
	[v] := [v | some v in rule.violation with input as testing.review(ing) with data.inventory as svc_inv({})]
	v.action == "mutate"
	v.path == "/spec/rules/0/http/paths/0/backend"
	rule.patch == {{"op": "add", "path": "/metadata/annotations/alb.ingress.kubernetes.io~1target-type", "value": "ip"}} with input as testing.review(ing) with data.inventory as svc_inv({})
	patched := testing.apply(ing, [op | some op in rule.patch with input as testing.review(ing) with data.inventory as svc_inv({})])
	count(rule.violation) == 0 with input as testing.review(patched) with data.inventory as svc_inv({})
	count(rule.patch) == 0 with input as testing.review(patched) with data.inventory as svc_inv({})
}

test_ingress_service_override_is_denied if {
	[v] := [v | some v in rule.violation with input as testing.review(ingress({alb_key: "ip"})) with data.inventory as svc_inv({alb_key: "instance"})]
	v.action == "deny"
	contains(v.fix, "on Service dataprep-api")
	[w] := [w | some w in rule.violation with input as testing.review_update(ingress({alb_key: "instance"}), ingress({})) with data.inventory as svc_inv({})]
	w.action == "deny"
}

# A profile without labels puts every pod of the namespace on Fargate; otherwise the
# backend Service must be known.
test_ingress_backends_on_fargate if {
	not rule.applies with input as testing.review(ingress({})) with data.inventory as {}
	params := {"fargateProfiles": [{"namespace": "dataprep"}]}
	[v] := [v | some v in rule.violation with input as testing.review_with(ingress({}), params) with data.inventory as {}]
	v.action == "mutate"
}
