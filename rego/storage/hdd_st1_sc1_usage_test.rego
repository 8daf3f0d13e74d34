package kgate.rules.storage.hdd_st1_sc1_usage_test

import data.kgate.lib.testing
import data.kgate.rules.storage.hdd_st1_sc1_usage as rule

class(name, params, annotations) := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": name, "annotations": annotations},
	"provisioner": "ebs.csi.aws.com",
	"parameters": params,
	"volumeBindingMode": "WaitForFirstConsumer",
}

classes := {
	"sc1-cold": class("sc1-cold", {"type": "sc1"}, {}),
	"st1-logs": class("st1-logs", {"type": "st1"}, {}),
	"gp3": class("gp3", {"type": "gp3"}, {}),
	"efs": json.patch(class("efs", {}, {}), [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}]),
}

inventory := {"cluster": {"StorageClass": classes}}

pvc(name, class_name, size, labels) := {
	"apiVersion": "v1",
	"kind": "PersistentVolumeClaim",
	"metadata": {"name": name, "namespace": "genai", "labels": labels},
	"spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class_name, "resources": {"requests": {"storage": size}}},
}

findings(obj) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inventory]

in_scope(obj) if rule.applies with input as testing.review(obj) with data.inventory as inventory

test_small_hdd_pvc_is_denied if {
	[v] := findings(pvc("logs", "sc1-cold", "20Gi", {}))
	v.action == "deny"
	v.path == "/spec/resources/requests/storage"
	contains(v.msg, "only from 125 GiB")
}

test_large_hdd_pvc_passes if {
	obj := pvc("logs", "sc1-cold", "500Gi", {})
	in_scope(obj)
	count(findings(obj)) == 0
	count(findings(pvc("logs", "st1-logs", "125Gi", {}))) == 0
}

# 130G is 121.07 GiB, which the driver rounds up to 122 GiB: still too small.
test_decimal_units_are_converted_to_gib if {
	[v] := findings(pvc("logs", "st1-logs", "130G", {}))
	contains(v.msg, "122 GiB")
	count(findings(pvc("logs", "st1-logs", "0.2Ti", {}))) == 0
}

test_min_size_is_a_parameter if {
	obj := pvc("logs", "sc1-cold", "200Gi", {})
	count([v | some v in rule.violation with input as testing.review_with(obj, {"hddMinSizeGi": 500}) with data.inventory as inventory]) == 1
}

test_pvc_update_is_warned_not_denied if {
	obj := pvc("logs", "sc1-cold", "100Gi", {})
	[v] := [v | some v in rule.violation with input as testing.review_update(obj, obj) with data.inventory as inventory]
	v.action == "warn"
}

test_vector_database_on_hdd_is_warned if {
	[v] := findings(pvc("qdrant-data", "st1-logs", "500Gi", {"kgate.dev/role": "vectordb"}))
	v.action == "warn"
	contains(v.msg, "500 IOPS")
	count(findings(pvc("logs", "st1-logs", "500Gi", {"kgate.dev/role": "batch"}))) == 0
}

test_cold_data_on_ssd_is_audited if {
	[v] := findings(pvc("archive", "gp3", "500Gi", {"kgate.dev/data-tier": "cold"}))
	v.action == "audit"
	obj := pvc("archive", "gp3", "500Gi", {})
	not in_scope(obj)
}

# The class comes from the inventory: unknown classes and other provisioners are not judged.
test_unknown_and_non_ebs_classes_are_not_judged if {
	every obj in [pvc("logs", "unknown", "1Gi", {}), pvc("logs", "efs", "1Gi", {})] {
		not in_scope(obj)
		count(findings(obj)) == 0
	}
}

# A claim without a class gets the single default class.
test_claim_without_class_uses_the_default if {
	defaults := {"cluster": {"StorageClass": {"sc1-default": class("sc1-default", {"type": "sc1"}, {"storageclass.kubernetes.io/is-default-class": "true"})}}}
	obj := json.remove(pvc("logs", "x", "10Gi", {}), ["spec/storageClassName"])
	[v] := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as defaults]
	v.action == "deny"
	count([v | some v in rule.violation with input as testing.review(obj) with data.inventory as inventory]) == 0
}

# Templated sizes cannot be judged.
test_unparseable_size_is_skipped if {
	count(findings(pvc("logs", "sc1-cold", "${LOG_SIZE}", {}))) == 0
}

# StatefulSets: volumeClaimTemplates are checked at CREATE.

statefulset(labels, template_labels, vcts) := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "qdrant", "namespace": "genai", "labels": labels},
	"spec": {
		"serviceName": "qdrant",
		"selector": {"matchLabels": {"app": "qdrant"}},
		"template": {
			"metadata": {"labels": object.union({"app": "qdrant"}, template_labels)},
			"spec": {"containers": [{"name": "qdrant", "image": "qdrant/qdrant:v1.12.0"}]},
		},
		"volumeClaimTemplates": vcts,
	},
}

vct(name, class_name, size) := {"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class_name, "resources": {"requests": {"storage": size}}}}

test_small_hdd_claim_template_is_denied if {
	obj := statefulset({}, {}, [vct("data", "gp3", "10Gi"), vct("logs", "sc1-cold", "50Gi")])
	[v] := findings(obj)
	v.action == "deny"
	v.path == "/spec/volumeClaimTemplates/1/spec/resources/requests/storage"
}

test_random_io_statefulset_on_hdd_is_warned if {
	obj := statefulset({}, {"kgate.dev/role": "vectordb"}, [vct("storage", "st1-logs", "500Gi")])
	[v] := findings(obj)
	v.action == "warn"
	v.path == "/spec/volumeClaimTemplates/0/spec/storageClassName"
	count(findings(statefulset({"kgate.dev/role": "vectordb"}, {}, [vct("storage", "st1-logs", "500Gi")]))) == 1
}

test_existing_statefulset_is_audited if {
	obj := statefulset({}, {"kgate.dev/role": "vectordb"}, [vct("storage", "st1-logs", "50Gi")])
	vs := [v | some v in rule.violation with input as testing.review_update(obj, obj) with data.inventory as inventory]
	count(vs) == 2
	every v in vs {
		v.action == "audit"
	}
}

test_statefulset_on_ssd_is_not_in_scope if {
	obj := statefulset({}, {"kgate.dev/role": "vectordb"}, [vct("storage", "gp3", "50Gi")])
	not in_scope(obj)
}

# Pod templates mounting existing claims (from the inventory).

claims_inventory := {
	"cluster": {"StorageClass": classes},
	"namespace": {"genai": {"PersistentVolumeClaim": {
		"vectors": pvc("vectors", "st1-logs", "500Gi", {}),
		"fast": pvc("fast", "gp3", "50Gi", {}),
	}}},
}

deployment(role, claim) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "chroma", "namespace": "genai"},
	"spec": {
		"selector": {"matchLabels": {"app": "chroma"}},
		"template": {
			"metadata": {"labels": {"app": "chroma", "kgate.dev/role": role}},
			"spec": {
				"containers": [{"name": "chroma", "image": "chromadb/chroma:0.5.0"}],
				"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
			},
		},
	},
}

test_random_io_workload_mounting_hdd_claim_is_warned if {
	obj := deployment("vectordb", "vectors")
	[v] := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as claims_inventory]
	v.action == "warn"
	v.path == "/spec/template/spec/volumes/0/persistentVolumeClaim/claimName"
}

test_random_io_workload_on_ssd_passes if {
	obj := deployment("vectordb", "fast")
	rule.applies with input as testing.review(obj) with data.inventory as claims_inventory
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as claims_inventory
}

test_other_roles_are_not_in_scope if {
	obj := deployment("batch", "vectors")
	not rule.applies with input as testing.review(obj) with data.inventory as claims_inventory
	count(rule.violation) == 0 with input as testing.review(obj) with data.inventory as claims_inventory
}
