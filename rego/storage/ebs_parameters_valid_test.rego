package kgate.rules.storage.ebs_parameters_valid_test

import data.kgate.lib.testing
import data.kgate.rules.storage.ebs_parameters_valid as rule

sc(params) := {
	"apiVersion": "storage.k8s.io/v1",
	"kind": "StorageClass",
	"metadata": {"name": "fast"},
	"provisioner": "ebs.csi.aws.com",
	"parameters": params,
	"volumeBindingMode": "WaitForFirstConsumer",
}

good := sc({"type": "gp3", "iops": "6000", "throughput": "500", "encrypted": "true", "csi.storage.k8s.io/fstype": "xfs"})

findings(obj) := [v | some v in rule.violation with input as testing.review(obj)]

findings_with(obj, params) := [v | some v in rule.violation with input as testing.review_with(obj, params)]

# the violations of obj at path
at(obj, path) := [v | some v in rule.violation with input as testing.review(obj); v.path == path]

patch_of(obj) := p if {
	p := rule.patch with input as testing.review(obj)
}

passes(obj) if {
	rule.applies with input as testing.review(obj)
	count(rule.violation) == 0 with input as testing.review(obj)
	count(rule.patch) == 0 with input as testing.review(obj)
}

test_catalog_good_class_passes if passes(good)

test_catalog_bad_class if {
	bad := sc({"type": "io2", "throughput": "500", "fsType": "ext4", "iopsPerGb": "50", "iops": "20000"})
	[both] := at(bad, "/parameters/iopsPerGb")
	both.action == "deny"
	contains(both.msg, "both iops and iopsPerGB")
	[tp] := at(bad, "/parameters/throughput")
	tp.action == "deny"
	contains(tp.msg, "only sets it for gp3")
	[fs] := at(bad, "/parameters/fsType")
	fs.action == "mutate"
	patch_of(bad) == {
		{"op": "remove", "path": "/parameters/fsType"},
		{"op": "add", "path": "/parameters/csi.storage.k8s.io~1fstype", "value": "ext4"},
	}
}

test_legacy_fstype_is_renamed if {
	obj := sc({"type": "gp3", "fsType": "ext4"})
	[v] := findings(obj)
	v.action == "mutate"
	v.path == "/parameters/fsType"
	startswith(v.msg, "StorageClass \"fast\": ")
	patch_of(obj) == {
		{"op": "remove", "path": "/parameters/fsType"},
		{"op": "add", "path": "/parameters/csi.storage.k8s.io~1fstype", "value": "ext4"},
	}
}

test_lower_case_fstype_keeps_its_value if {
	obj := sc({"type": "gp3", "fstype": "xfs"})
	patch_of(obj) == {
		{"op": "remove", "path": "/parameters/fstype"},
		{"op": "add", "path": "/parameters/csi.storage.k8s.io~1fstype", "value": "xfs"},
	}
}

test_block_express_is_removed if {
	obj := sc({"type": "io2", "iops": "64000", "blockExpress": "true"})
	[v] := findings(obj)
	v.action == "mutate"
	v.path == "/parameters/blockExpress"
	patch_of(obj) == {{"op": "remove", "path": "/parameters/blockExpress"}}
}

test_patches_are_idempotent if {
	every obj in [
		sc({"type": "gp3", "fsType": "ext4"}),
		sc({"type": "io2", "iops": "64000", "blockExpress": "true", "FSTYPE": "xfs"}),
	] {
		patched := testing.apply(obj, [op | some op in patch_of(obj)])
		passes(patched)
	}
}

test_two_fstype_keys_are_denied if {
	every obj in [
		sc({"fsType": "ext4", "csi.storage.k8s.io/fstype": "xfs"}),
		sc({"fsType": "ext4", "fstype": "ext4"}),
	] {
		vs := findings(obj)
		count(vs) > 0
		every v in vs {
			v.action == "deny"
			contains(v.msg, "file system twice")
		}
		count(patch_of(obj)) == 0
	}
}

test_unknown_keys_are_denied if {
	every k in ["iopsPerGiB", "foo", "TagSpecification_1", "csi.storage.k8s.io/pvc/name", "CSI.storage.k8s.io/fstype", "csiProvisionerSecretName"] {
		obj := sc({"type": "gp3", k: "x"})
		[v] := findings(obj)
		v.action == "deny"
		contains(v.msg, "unknown to the EBS CSI driver")
	}
}

test_known_keys_in_any_case_pass if {
	passes(sc({
		"TYPE": "gp3", "Encrypted": "true", "KMSKEYID": "arn:aws:kms:us-west-2:111122223333:key/1",
		"tagSpecification_1": "team=ml", "tagSpecification_2": "pvc={{ .PVCName }}",
		"csi.storage.k8s.io/fstype": "ext4", "blocksize": "4096", "inodeSize": "512",
		"csi.storage.k8s.io/provisioner-secret-name": "s", "csi.storage.k8s.io/provisioner-secret-namespace": "kube-system",
		"csi.storage.k8s.io/controller-modify-secret-name": "s",
		"volumeInitializationRate": "300", "outpostArn": "arn:aws:outposts:us-west-2:111122223333:outpost/op-1",
	}))
}

test_reserved_key_message_names_the_external_provisioner if {
	[v] := findings(sc({"csi.storage.k8s.io/pvc/name": "x"}))
	contains(v.msg, "reserved namespace")
}

test_key_written_twice_is_denied if {
	[v] := findings(sc({"type": "gp3", "blockSize": "4096", "BlockSize": "4096"}))
	v.action == "deny"
	contains(v.msg, "more than once")
}

test_invalid_types_are_denied if {
	[v] := findings(sc({"type": "gp4"}))
	v.action == "deny"
	v.path == "/parameters/type"
	contains(v.msg, "invalid AWS VolumeType")
	[u] := findings(sc({"type": "GP3"}))
	u.action == "deny"
	u.fix == "write the type in lower case: gp3"
}

test_valid_types_pass if {
	every t in ["gp3", "gp2", "st1", "sc1", "standard", "sbp1", "sbg1"] {
		passes(sc({"type": t}))
	}
	passes(sc({}))
}

test_io_types_need_iops if {
	every t in ["io1", "io2"] {
		[v] := findings(sc({"type": t}))
		v.action == "deny"
		contains(v.msg, "neither iops nor iopsPerGB")
	}
	passes(sc({"type": "io1", "iopsPerGB": "50"}))
	passes(sc({"type": "io2", "iops": "16000"}))
}

test_iops_below_minimum_is_denied if {
	[v] := findings(sc({"type": "gp3", "iops": "2000"}))
	v.action == "deny"
	contains(v.msg, "at least 3000 IOPS")
	[u] := findings(sc({"type": "io2", "iops": "50"}))
	u.action == "deny"
}

test_iops_above_maximum_is_warned_as_capped if {
	[v] := findings(sc({"type": "gp3", "iops": "20000"}))
	v.action == "warn"
	contains(v.msg, "caps it")
	[i2] := findings(sc({"type": "io2", "iops": "300000"}))
	i2.action == "warn"
	[i1] := findings(sc({"type": "io1", "iops": "70000"}))
	i1.action == "warn"
}

test_gp3_max_iops_follows_the_region if {
	count(findings_with(sc({"type": "gp3", "iops": "20000"}), {"gp3MaxIops": 80000})) == 0
}

test_non_integers_are_denied if {
	every k in ["iops", "iopsPerGB", "throughput"] {
		obj := sc({"type": "gp3", k: "fast"})
		some v in findings(obj)
		v.action == "deny"
		contains(v.msg, "not an integer")
	}
}

test_iops_on_types_without_provisioned_iops_are_denied if {
	[v] := findings(sc({"type": "gp2", "iopsPerGB": "10"}))
	v.action == "deny"
	contains(v.msg, "no effect on gp2")
	[u] := findings(sc({"type": "st1", "iops": "500"}))
	u.action == "deny"
}

test_throughput_range if {
	[low] := findings(sc({"type": "gp3", "throughput": "100"}))
	low.action == "deny"
	[high] := findings(sc({"type": "gp3", "iops": "16000", "throughput": "1200"}))
	high.action == "warn"
	contains(high.msg, "gp3MaxThroughput")
	count(findings_with(sc({"type": "gp3", "iops": "16000", "throughput": "1200"}), {"gp3MaxThroughput": 2000})) == 0
}

test_throughput_needs_enough_iops if {
	[v] := findings(sc({"throughput": "1000"}))
	v.action == "warn"
	contains(v.msg, "3000 IOPS")
	v.fix == "set iops to at least 4000, or lower throughput"
	passes(sc({"iops": "4000", "throughput": "1000"}))
	passes(sc({"throughput": "750"}))
}

test_iops_per_gb_above_the_per_gib_limit_is_warned if {
	[v] := findings(sc({"type": "io1", "iopsPerGB": "100"}))
	v.action == "warn"
	contains(v.msg, "50 IOPS per GiB")
}

test_auto_iops_increase_is_warned if {
	[v] := findings(sc({"type": "io2", "iopsPerGB": "50", "allowAutoIOPSPerGBIncrease": "true"}))
	v.action == "warn"
	contains(v.msg, "cost")
}

test_unknown_file_system_is_denied if {
	[v] := findings(sc({"csi.storage.k8s.io/fstype": "btrfs"}))
	v.action == "deny"
	passes(sc({"csi.storage.k8s.io/fstype": "XFS"}))
}

test_in_tree_spellings_are_left_to_the_translation if {
	obj := {
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp2"},
		"provisioner": "kubernetes.io/aws-ebs",
		"parameters": {"type": "gp2", "fsType": "ext4", "zones": "us-west-2a,us-west-2b"},
	}
	passes(obj)
	[v] := findings(json.patch(obj, [{"op": "add", "path": "/parameters/iopsPerGiB", "value": "3"}]))
	v.action == "deny"
}

test_update_only_audits if {
	obj := sc({"type": "io2", "fsType": "ext4", "blockExpress": "true", "throughput": "500"})
	vs := [v | some v in rule.violation with input as testing.review_update(obj, obj)]
	count(vs) == 4
	every v in vs {
		v.action == "audit"
		contains(v.fix, "immutable")
	}
	count(rule.patch) == 0 with input as testing.review_update(obj, obj)
}

test_other_provisioners_are_not_in_scope if {
	obj := json.patch(sc({"foo": "bar"}), [{"op": "replace", "path": "/provisioner", "value": "efs.csi.aws.com"}])
	not rule.applies with input as testing.review(obj)
	count(findings(obj)) == 0
}

# PVCs: per-GiB limits depend on the claim's size.

pvc(class, size) := {
	"apiVersion": "v1", "kind": "PersistentVolumeClaim",
	"metadata": {"name": "ckpt", "namespace": "genai"},
	"spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class, "resources": {"requests": {"storage": size}}},
}

inventory := {"cluster": {"StorageClass": {
	"gp3-6000": json.patch(sc({"type": "gp3", "iops": "6000"}), [{"op": "replace", "path": "/metadata/name", "value": "gp3-6000"}]),
	"io2-per-gb": json.patch(sc({"type": "io2", "iopsPerGB": "10"}), [{"op": "replace", "path": "/metadata/name", "value": "io2-per-gb"}]),
	"io2-auto": json.patch(sc({"type": "io2", "iopsPerGB": "10", "allowAutoIOPSPerGBIncrease": "true"}), [{"op": "replace", "path": "/metadata/name", "value": "io2-auto"}]),
	"gp3": sc({"type": "gp3"}),
}}}

pvc_findings(obj) := [v | some v in rule.violation with input as testing.review(obj) with data.inventory as inventory]

test_pvc_too_small_for_fixed_iops_is_warned if {
	[v] := pvc_findings(pvc("gp3-6000", "10Gi"))
	v.action == "warn"
	v.path == "/spec/resources/requests/storage"
	contains(v.msg, "capped to 5000")
	v.fix == "request at least 12 GiB to get 6000 IOPS, or use a class with fewer IOPS"
}

test_pvc_large_enough_passes if {
	obj := pvc("gp3-6000", "20Gi")
	rule.applies with input as testing.review(obj) with data.inventory as inventory
	count(pvc_findings(obj)) == 0
}

test_pvc_iops_per_gb_below_minimum if {
	[v] := pvc_findings(pvc("io2-per-gb", "5Gi"))
	v.action == "warn"
	contains(v.msg, "provisioning fails")
	[u] := pvc_findings(pvc("io2-auto", "5Gi"))
	contains(u.msg, "raises the IOPS")
	count(pvc_findings(pvc("io2-per-gb", "10Gi"))) == 0
}

test_pvc_scope if {
	not rule.applies with input as testing.review(pvc("gp3", "10Gi")) with data.inventory as inventory
	not rule.applies with input as testing.review(pvc("unknown", "10Gi")) with data.inventory as inventory
	count(pvc_findings(pvc("unknown", "1Gi"))) == 0
}

test_pvc_update_is_not_judged if {
	obj := pvc("gp3-6000", "10Gi")
	count(rule.violation) == 0 with input as testing.review_update(obj, obj) with data.inventory as inventory
}
