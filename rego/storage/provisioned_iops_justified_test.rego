package kgate.rules.storage.provisioned_iops_justified_test

import data.kgate.lib.testing
import data.kgate.rules.storage.provisioned_iops_justified as rule

class(name, params) := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": name},
	"provisioner": "ebs.csi.aws.com",
	"parameters": params,
	"volumeBindingMode": "WaitForFirstConsumer",
}

io2 := class("io2-fast", {"type": "io2", "iops": "20000", "encrypted": "true"})

io1 := class("io1-fast", {"type": "io1", "iops": "20000"})

gp3 := class("gp3-checkpoints", {"type": "gp3", "iops": "6000", "throughput": "500"})

justify(sc) := json.patch(sc, [{"op": "add", "path": "/metadata/annotations", "value": {"kgate.dev/iops-justification": "vector index rebuilds need 20k IOPS (measured)"}}])

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

test_unjustified_io2_class_is_warned if {
	[v] := findings(io2)
	v.action == "warn"
	v.path == "/metadata"
	contains(v.msg, "Nitro")
	contains(v.fix, "gp3")
}

test_justified_io2_class_passes if {
	sc := justify(io2)
	rule.applies with input as testing.review(sc)
	count(findings(sc)) == 0
}

test_io1_is_warned_even_when_justified if {
	[v] := findings(justify(io1))
	v.action == "warn"
	v.path == "/parameters/type"
	contains(v.msg, "multi-attach")
	count(findings(io1)) == 2
	count([v | some v in rule.violation with input as testing.review_with(justify(io1), {"preferIo2": false})]) == 0
}

test_existing_io1_class_is_audited if {
	sc := justify(io1)
	[v] := [v | some v in rule.violation with input as testing.review_update(sc, sc)]
	v.action == "audit"
}

test_type_key_and_value_are_case_insensitive if {
	sc := class("x", {"Type": "IO2", "iopsPerGB": "50"})
	[v] := findings(sc)
	v.action == "warn"
}

test_gp3_and_hdd_classes_are_not_in_scope if {
	every sc in [gp3, class("sc1", {"type": "sc1"}), class("default", {})] {
		not rule.applies with input as testing.review(sc)
		count(findings(sc)) == 0
	}
}

# PVCs

pvc(ns, class_name, extra) := object.union(
	{
		"apiVersion": "v1",
		"kind": "PersistentVolumeClaim",
		"metadata": {"name": "scratch", "namespace": ns},
		"spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class_name, "resources": {"requests": {"storage": "100Gi"}}},
	},
	extra,
)

inventory := {"cluster": {"StorageClass": {"io2-fast": io2, "io1-fast": io1, "gp3-checkpoints": gp3}}}

pvc_findings(obj, params) := [v | some v in rule.violation with input as testing.review_with(obj, params) with data.inventory as inventory]

test_pvc_outside_allowlist_is_denied if {
	[v] := pvc_findings(pvc("team-a", "io2-fast", {}), {})
	v.action == "deny"
	v.path == "/spec/storageClassName"
	contains(v.msg, "team-a")
}

test_pvc_in_allowed_namespace_passes if {
	obj := pvc("vectordb", "io2-fast", {})
	rule.applies with input as testing.review_with(obj, {"ioAllowedNamespaces": ["vectordb"]}) with data.inventory as inventory
	count(pvc_findings(obj, {"ioAllowedNamespaces": ["vectordb"]})) == 0
}

test_pvc_of_gp3_class_is_not_in_scope if {
	obj := pvc("team-a", "gp3-checkpoints", {})
	not rule.applies with input as testing.review(obj) with data.inventory as inventory
	count(pvc_findings(obj, {})) == 0
}

test_pvc_in_exempt_namespace_passes if {
	count(pvc_findings(pvc("kube-system", "io2-fast", {}), {})) == 0
}

# The class of an existing claim cannot change.
test_pvc_update_is_audited if {
	obj := pvc("team-a", "io2-fast", {})
	[v] := [v | some v in rule.violation with input as testing.review_update(obj, obj) with data.inventory as inventory]
	v.action == "audit"
}

# A cold inventory says nothing about the class: nothing is denied.
test_unknown_class_is_not_judged if {
	obj := pvc("team-a", "io2-fast", {})
	count([v | some v in rule.violation with input as testing.review(obj) with data.inventory as {}]) == 0
}

# Multi-attach is io2-only.
test_multi_attach_needs_io2 if {
	shared := {"spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block", "storageClassName": "gp3-checkpoints", "resources": {"requests": {"storage": "100Gi"}}}}
	[v] := pvc_findings(pvc("team-a", "gp3-checkpoints", shared), {})
	v.action == "warn"
	v.path == "/spec/accessModes"
	io1_shared := json.patch(pvc("team-a", "io1-fast", shared), [{"op": "replace", "path": "/spec/storageClassName", "value": "io1-fast"}])
	vs := pvc_findings(io1_shared, {"ioAllowedNamespaces": ["team-a"]})
	[m] := vs
	m.path == "/spec/accessModes"
	io2_shared := json.patch(io1_shared, [{"op": "replace", "path": "/spec/storageClassName", "value": "io2-fast"}])
	count(pvc_findings(io2_shared, {"ioAllowedNamespaces": ["team-a"]})) == 0
}

# A claim without storageClassName gets the single default class.
test_claim_without_class_uses_the_default_class if {
	default_io2 := json.patch(io2, [{"op": "add", "path": "/metadata/annotations", "value": {"storageclass.kubernetes.io/is-default-class": "true"}}])
	obj := json.remove(pvc("team-a", "x", {}), ["spec/storageClassName"])
	[v] := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as {"cluster": {"StorageClass": {"io2-fast": default_io2, "gp3-checkpoints": gp3}}}]
	v.action == "deny"
}
