package kgate.lib_test

import data.kgate.lib
import data.kgate.lib.storage
import data.kgate.lib.testing

deployment := {
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": {"name": "rag", "namespace": "genai"},
	"spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "rag"}}, "spec": {"containers": [{"name": "api", "image": "rag:1"}]}}},
}

service := {
	"apiVersion": "v1", "kind": "Service",
	"metadata": {"name": "rag", "namespace": "genai"},
	# A Service has no pod template, whatever its spec holds.
	"spec": {"selector": {"app": "rag"}, "template": {"spec": {"containers": [{"name": "x"}]}}},
}

test_pod_templates_of_a_workload if {
	templates := lib.pod_templates with input as testing.review(deployment)
	templates["/spec/template/spec"].replicas == 2
	templates["/spec/template/spec"].group == "template"
	count(templates) == 1
}

test_no_pod_templates_for_other_kinds if {
	lib.pod_templates == {} with input as testing.review(service)
	not lib.pod_bearing with input as testing.review(service)
}

test_every_templated_kind_is_known if {
	# The kinds the definitions of templates_of_kind test must all be listed, or
	# their objects would lose their templates.
	every kind in ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "PyTorchJob", "MPIJob", "RayCluster", "RayService", "RayJob", "LeaderWorkerSet"] {
		kind in lib.template_kinds
	}
}

class(provisioner) := {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "c"}, "provisioner": provisioner}

test_ebs_object if {
	storage.ebs_object with input as testing.review(class("ebs.csi.aws.com"))
	storage.ebs_object with input as testing.review(class("kubernetes.io/aws-ebs"))
	not storage.ebs_object with input as testing.review(class("efs.csi.aws.com"))
}
