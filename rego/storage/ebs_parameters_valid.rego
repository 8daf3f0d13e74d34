# METADATA
# title: EBS StorageClass parameters are valid
# description: |
#   A StorageClass is accepted by the API server whatever its parameters hold; the
#   EBS CSI driver (or EC2) only rejects them when the first PVC is provisioned, which
#   then hangs in Pending with ProvisioningFailed. New EBS classes are therefore
#   checked the way the driver and the external-provisioner parse them: unknown keys
#   (driver keys are case-insensitive, tagSpecification_<n> and the reserved
#   csi.storage.k8s.io/ keys are case-sensitive), iops together with iopsPerGB, two
#   fstype keys, io1/io2 without iops or iopsPerGB, an unknown type (values are
#   case-sensitive), values that are not integers, gp3 below 3,000 IOPS or
#   125 MiB/s, throughput on a type other than gp3 and iops on a type without
#   provisioned IOPS (the driver ignores both), and an unknown file system are denied.
#   IOPS above a type's maximum (the driver caps them), throughput above
#   gp3MaxThroughput or above gp3MaxThroughputPerIops, iopsPerGB above the per-GiB
#   limit and allowAutoIOPSPerGBIncrease (raises IOPS, and cost, silently) are warned.
#   Two safe fixes are made on CREATE: the deprecated fsType/fstype key becomes
#   csi.storage.k8s.io/fstype, and the obsolete blockExpress key (all io2 volumes are
#   Block Express) is removed. Parameters are immutable, so existing classes are only
#   reported. A new PVC of a class with iops or iopsPerGB is warned when its size
#   makes the driver cap the IOPS (gp3 500, io2 1,000, io1 50 IOPS per GiB) or when
#   iopsPerGB times its size falls below the type's minimum.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-005
# custom:
#   id: STORAGE-005
#   severity: high
#   kinds: [StorageClass, PersistentVolumeClaim]
#   default_action: deny
#   referential: true
#   inventory: [StorageClass]
#   why: |
#     The API server accepts any StorageClass parameters; a typo, iops together with
#     iopsPerGB, or gp3 below its 3,000-IOPS floor only surfaces when the first PVC of a
#     training or inference job hangs in Pending, and a class cannot be edited, only
#     recreated. Checking parameters at creation keeps provisioned IOPS and throughput
#     (which are billed: gp3 beyond 3,000 IOPS and 125 MiB/s) exactly what was asked for.
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: fast}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: io2, throughput: "500", fsType: ext4, iopsPerGb: "50", iops: "20000"}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata: {name: gp3-checkpoints}
#       provisioner: ebs.csi.aws.com
#       parameters:
#         type: gp3
#         iops: "6000"
#         throughput: "500"
#         encrypted: "true"
#         csi.storage.k8s.io/fstype: xfs
#       volumeBindingMode: WaitForFirstConsumer
#       allowVolumeExpansion: true
#   params:
#     gp3MaxIops: 16000
#     gp3MaxThroughput: 1000
#     gp3MaxThroughputPerIops: 0.25
#     io2MaxIops: 256000
#     io1MaxIops: 64000
#   schema:
#     gp3MaxIops: {type: integer, minimum: 3000, description: "largest gp3 IOPS a class may ask for without a warning (16000 is the EBS CSI driver's fallback; set the region's limit)"}
#     gp3MaxThroughput: {type: integer, minimum: 125, description: "largest gp3 throughput in MiB/s a class may ask for without a warning"}
#     gp3MaxThroughputPerIops: {type: number, exclusiveMinimum: 0, description: "largest gp3 throughput (MiB/s) per provisioned IOPS"}
#     io2MaxIops: {type: integer, minimum: 100, description: "largest io2 IOPS (256000 on Nitro instances)"}
#     io1MaxIops: {type: integer, minimum: 100, description: "largest io1 IOPS"}
package kgate.rules.storage.ebs_parameters_valid

import data.kgate.lib
import data.kgate.lib.ebs_sizes
import data.kgate.lib.storage

csi_fstype_key := "csi.storage.k8s.io/fstype"

# Keys the EBS CSI driver reads, lower-cased (it matches them case-insensitively).
driver_keys := {
	"type", "iops", "iopspergb", "allowautoiopspergbincrease", "allowautoiopsincreaseonmodify",
	"throughput", "encrypted", "kmskeyid", "blocksize", "inodesize", "bytesperinode",
	"numberofinodes", "ext4bigalloc", "ext4clustersize", "ext4encryptionsupport",
	"volumeinitializationrate", "blockattachuntilinitialized", "outpostarn",
	"blockexpress", "fstype",
}

# Keys under csi.storage.k8s.io/ that the external-provisioner accepts (case-sensitive);
# it refuses every other key in that namespace.
reserved_key_pattern := `^csi\.storage\.k8s\.io/(fstype|((provisioner|controller-publish|node-stage|node-publish|controller-expand|node-expand|controller-modify)-)?secret-(name|namespace))$`

# Volume types CreateVolume accepts (case-sensitive); sbp1/sbg1 are Snowball Edge types.
valid_types := {"io1", "io2", "gp2", "gp3", "sc1", "st1", "standard", "sbp1", "sbg1"}

valid_fstypes := {"ext2", "ext3", "ext4", "xfs", "ntfs"}

# Types whose IOPS are provisioned: minimum, maximum and IOPS per GiB.
min_iops := {"gp3": 3000, "io1": 100, "io2": 100}

max_iops := {"gp3": lib.params.gp3MaxIops, "io1": lib.params.io1MaxIops, "io2": lib.params.io2MaxIops}

iops_per_gib := {"gp3": 500, "io1": 50, "io2": 1000}

gp3_baseline_iops := 3000

gp3_min_throughput := 125

# ---------------------------------------------------------------- StorageClass

ebs_class if {
	lib.kind == "StorageClass"
	storage.ebs_object
}

applies if ebs_class

applies if pvc_class

in_tree if lib.obj.provisioner == storage.in_tree_provisioner

name := lib.obj.metadata.name

parameters := lib.get(lib.obj, "parameters", {})

param_path(key) := concat("", ["/parameters/", lib.escape(key)])

# by_lower maps each lower-cased parameter key to {key, value}; when a key is
# written twice in different cases, the first in sort order (another finding reports
# the duplicate).
by_lower[l] := {"key": k, "value": parameters[k]} if {
	some k0, _ in parameters
	l := lower(k0)
	k := min({k | some k, _ in parameters; lower(k) == l})
}

# p looks a parameter up case-insensitively, as the driver does: {key, value}.
p(lname) := by_lower[lname]

# The type the driver creates: gp3 when none is given (also for in-tree classes,
# whose parameters the CSI translation passes through unchanged).
type := p("type").value if p("type")

else := "gp3"

known_key(k) if {
	startswith(k, "csi.storage.k8s.io/")
	regex.match(reserved_key_pattern, k)
}

known_key(k) if {
	not startswith(k, "csi.storage.k8s.io/")
	lower(k) in driver_keys
}

known_key(k) if startswith(k, "tagSpecification")

# The in-tree translation turns zone/zones into allowedTopologies.
known_key(k) if {
	in_tree
	lower(k) in {"zone", "zones"}
}

# The deprecated fstype keys, in any case (not for in-tree classes, where fsType is
# the in-tree spelling that the translation converts).
legacy_fstype_keys contains k if {
	not in_tree
	some k, _ in parameters
	lower(k) == "fstype"
}

fstype_keys contains k if some k in legacy_fstype_keys

fstype_keys contains csi_fstype_key if parameters[csi_fstype_key]

int_param(lname) := n if n := lib.quantity_int(p(lname).value)

iops := int_param("iops")

iops_per_gb := int_param("iopspergb")

throughput := int_param("throughput")

provisioned_type if type in object.keys(min_iops)

auto_increase if lower(p("allowautoiopspergbincrease").value) == "true"

# Findings a new class cannot keep: deny on CREATE; existing classes are audited.
hard := "audit" if lib.updating

else := "deny"

soft := "audit" if lib.updating

else := "warn"

safe := "audit" if lib.updating

else := "mutate"

recreate := "recreate the class under a new name (parameters are immutable)"

fix(new) := sprintf("%s: %s", [recreate, new]) if lib.updating

else := new

# findings is one set of {msg, path, fix, action} per problem; violation adds the
# class name.
findings contains f if {
	some k, _ in parameters
	not known_key(k)
	f := {
		"msg": sprintf("parameter %q is unknown to the EBS CSI driver: provisioning fails with %s", [k, unknown_reason(k)]),
		"path": param_path(k),
		"fix": fix(sprintf("remove %q or correct its spelling (tagSpecification_<n> and csi.storage.k8s.io/ keys are case-sensitive)", [k])),
		"action": hard,
	}
}

unknown_reason(k) := "\"found unknown parameter key with reserved namespace csi.storage.k8s.io/\"" if startswith(k, "csi.storage.k8s.io/")

else := "InvalidArgument \"Invalid parameter key\""

findings contains f if {
	some l, _ in by_lower
	l != "fstype"
	keys := {k | some k, _ in parameters; lower(k) == l}
	count(keys) > 1
	f := {
		"msg": sprintf("parameters set %s more than once (%s): the EBS CSI driver reads keys case-insensitively and takes any one of them", [l, concat(", ", sort(keys))]),
		"path": param_path(max(keys)),
		"fix": fix(sprintf("keep one %s key", [l])),
		"action": hard,
	}
}

findings contains f if {
	p("iops")
	p("iopspergb")
	f := {
		"msg": "parameters set both iops and iopsPerGB: the EBS CSI driver refuses the class",
		"path": param_path(p("iopspergb").key),
		"fix": fix("keep either iops (fixed IOPS) or iopsPerGB (IOPS per GiB of the claim)"),
		"action": hard,
	}
}

findings contains f if {
	count(fstype_keys) > 1
	some k in fstype_keys
	k != csi_fstype_key
	f := {
		"msg": sprintf("parameters name the file system twice (%s): the external-provisioner refuses the class", [concat(", ", sort(fstype_keys))]),
		"path": param_path(k),
		"fix": fix(sprintf("keep only %s", [csi_fstype_key])),
		"action": hard,
	}
}

findings contains f if {
	count(fstype_keys) == 1
	some k in legacy_fstype_keys
	f := {
		"msg": sprintf("parameter %q is deprecated (the external-provisioner still reads it, with a warning)", [k]),
		"path": param_path(k),
		"fix": fix(sprintf("use %s instead of %s", [csi_fstype_key, k])),
		"action": safe,
	}
}

findings contains f if {
	some k in fstype_keys
	v := parameters[k]
	not lower(v) in valid_fstypes
	f := {
		"msg": sprintf("file system %q is not one the EBS CSI driver formats (%s): the volume cannot be staged", [v, concat(", ", sort(valid_fstypes))]),
		"path": param_path(k),
		"fix": fix("use xfs or ext4"),
		"action": hard,
	}
}

findings contains f if {
	bx := p("blockexpress")
	f := {
		"msg": sprintf("parameter %q is obsolete: all io2 volumes are Block Express", [bx.key]),
		"path": param_path(bx.key),
		"fix": fix(sprintf("remove %q", [bx.key])),
		"action": safe,
	}
}

findings contains f if {
	t := p("type")
	not t.value in valid_types
	f := {
		"msg": sprintf("type %q is not an EBS volume type: provisioning fails with \"invalid AWS VolumeType\"", [t.value]),
		"path": param_path(t.key),
		"fix": fix(type_fix(t.value)),
		"action": hard,
	}
}

type_fix(v) := sprintf("write the type in lower case: %s", [lower(v)]) if lower(v) in valid_types

else := "use gp3 (or io2, st1, sc1 where needed)"

findings contains f if {
	type in {"io1", "io2"}
	not p("iops")
	not p("iopspergb")
	f := {
		"msg": sprintf("%s volumes need provisioned IOPS, but neither iops nor iopsPerGB is set: EC2 refuses the volume", [type]),
		"path": param_path(p("type").key),
		"fix": fix("set iops (or iopsPerGB), or use gp3, which includes 3,000 IOPS"),
		"action": hard,
	}
}

findings contains f if {
	some lname in ["iops", "iopspergb", "throughput"]
	x := p(lname)
	not lib.quantity_int(x.value)
	f := {
		"msg": sprintf("parameter %q is %q, not an integer: the EBS CSI driver refuses it", [x.key, x.value]),
		"path": param_path(x.key),
		"fix": fix(sprintf("write %q as a whole number in a string, e.g. \"6000\"", [x.key])),
		"action": hard,
	}
}

findings contains f if {
	provisioned_type
	iops < min_iops[type]
	f := {
		"msg": sprintf("%s volumes need at least %d IOPS; iops is %d: EC2 refuses the volume", [type, min_iops[type], iops]),
		"path": param_path(p("iops").key),
		"fix": fix(min_iops_fix),
		"action": hard,
	}
}

findings contains f if {
	provisioned_type
	iops > max_iops[type]
	f := {
		"msg": sprintf("iops %d is above the %s maximum of %d: the EBS CSI driver caps it", [iops, type, max_iops[type]]),
		"path": param_path(p("iops").key),
		"fix": fix(sprintf("set iops to at most %d, or raise %s if your region allows more", [max_iops[type], max_param[type]])),
		"action": soft,
	}
}

min_iops_fix := "set iops to at least 3000, or leave it out (gp3 includes 3,000 IOPS)" if type == "gp3"

else := sprintf("set iops to at least %d", [min_iops[type]])

max_param := {"gp3": "gp3MaxIops", "io1": "io1MaxIops", "io2": "io2MaxIops"}

findings contains f if {
	provisioned_type
	iops_per_gb > iops_per_gib[type]
	f := {
		"msg": sprintf("iopsPerGB %d is above the %s limit of %d IOPS per GiB: the EBS CSI driver caps it", [iops_per_gb, type, iops_per_gib[type]]),
		"path": param_path(p("iopspergb").key),
		"fix": fix(sprintf("set iopsPerGB to at most %d", [iops_per_gib[type]])),
		"action": soft,
	}
}

findings contains f if {
	not provisioned_type
	type in valid_types
	some lname in ["iops", "iopspergb"]
	x := p(lname)
	f := {
		"msg": sprintf("parameter %q has no effect on %s volumes (only gp3, io1 and io2 take provisioned IOPS)", [x.key, type]),
		"path": param_path(x.key),
		"fix": fix(sprintf("remove %q, or use gp3 with iops", [x.key])),
		"action": hard,
	}
}

findings contains f if {
	type != "gp3"
	type in valid_types
	x := p("throughput")
	f := {
		"msg": sprintf("throughput has no effect on %s volumes: the EBS CSI driver only sets it for gp3", [type]),
		"path": param_path(x.key),
		"fix": fix("remove throughput, or use gp3"),
		"action": hard,
	}
}

findings contains f if {
	type == "gp3"
	throughput < gp3_min_throughput
	f := {
		"msg": sprintf("gp3 throughput %d MiB/s is below the 125 MiB/s minimum: EC2 refuses the volume", [throughput]),
		"path": param_path(p("throughput").key),
		"fix": fix("set throughput to at least 125, or leave it out (125 MiB/s is included)"),
		"action": hard,
	}
}

findings contains f if {
	type == "gp3"
	throughput > lib.params.gp3MaxThroughput
	f := {
		"msg": sprintf("gp3 throughput %d MiB/s is above gp3MaxThroughput (%d MiB/s): EC2 refuses throughput above the region's gp3 limit", [throughput, lib.params.gp3MaxThroughput]),
		"path": param_path(p("throughput").key),
		"fix": fix(sprintf("set throughput to at most %d, or raise gp3MaxThroughput if your region allows more", [lib.params.gp3MaxThroughput])),
		"action": soft,
	}
}

# gp3 throughput is limited per provisioned IOPS; without iops the volume has 3,000.
gp3_iops := n if {
	n := iops
} else := gp3_baseline_iops

findings contains f if {
	type == "gp3"
	throughput >= gp3_min_throughput
	not p("iopspergb")
	n := gp3_iops
	throughput > n * lib.params.gp3MaxThroughputPerIops
	f := {
		"msg": sprintf("gp3 throughput %d MiB/s needs more than the %d IOPS the class provisions (at most %v MiB/s per IOPS)", [throughput, n, lib.params.gp3MaxThroughputPerIops]),
		"path": param_path(p("throughput").key),
		"fix": fix(sprintf("set iops to at least %d, or lower throughput", [ceil(throughput / lib.params.gp3MaxThroughputPerIops)])),
		"action": soft,
	}
}

findings contains f if {
	auto_increase
	f := {
		"msg": sprintf("%s is \"true\": the EBS CSI driver silently raises IOPS (and their cost) for small claims", [p("allowautoiopspergbincrease").key]),
		"path": param_path(p("allowautoiopspergbincrease").key),
		"fix": fix("remove allowAutoIOPSPerGBIncrease and size claims (or use iops) so that they meet the type's minimum"),
		"action": soft,
	}
}

violation contains v if {
	ebs_class
	some f in findings
	v := object.union(f, {"msg": sprintf("StorageClass %q: %s", [name, f.msg])})
}

patch contains op if {
	ebs_class
	lib.creating
	count(fstype_keys) == 1
	some k in legacy_fstype_keys
	some op in [
		{"op": "remove", "path": param_path(k)},
		{"op": "add", "path": param_path(csi_fstype_key), "value": parameters[k]},
	]
}

patch contains {"op": "remove", "path": param_path(p("blockexpress").key)} if {
	ebs_class
	lib.creating
}

# ------------------------------------------------------------------------- PVC

# pvc_class is the EBS class of a PVC whose IOPS depend on its size (from the
# inventory; nothing is reported while the class is unknown).
pvc_class := sc if {
	lib.kind == "PersistentVolumeClaim"
	sc := ebs_sizes.pvc_class
	storage.ebs_class(sc)
	pvc_type in object.keys(min_iops)
	pvc_iops_set
}

pvc_class_params := lib.get(ebs_sizes.pvc_class, "parameters", {})

# pvc_params maps the lower-cased keys of the PVC's class to their values (the
# first key in sort order when one is written twice).
pvc_params[l] := pvc_class_params[k] if {
	some k0, _ in pvc_class_params
	l := lower(k0)
	k := min({k | some k, _ in pvc_class_params; lower(k) == l})
}

pvc_param(lname) := pvc_params[lname]

pvc_type := t if {
	t := pvc_param("type")
} else := "gp3"

pvc_iops_set if pvc_param("iops")

pvc_iops_set if pvc_param("iopspergb")

pvc_gib := ebs_sizes.gib(lib.obj.spec.resources.requests.storage)

pvc_auto_increase if lower(pvc_param("allowautoiopspergbincrease")) == "true"

pvc_path := "/spec/resources/requests/storage"

# iopsPerGB times the size below the type's minimum: EC2 refuses the volume, or the
# driver raises the IOPS when allowAutoIOPSPerGBIncrease is set.
violation contains v if {
	sc := pvc_class
	lib.creating
	per_gb := lib.quantity_int(pvc_param("iopspergb"))
	requested := per_gb * pvc_gib
	requested < min_iops[pvc_type]
	v := {
		"msg": sprintf("PVC of StorageClass %q asks for %d GiB x %d IOPS/GiB = %d IOPS, below the %s minimum of %d: %s", [sc.metadata.name, pvc_gib, per_gb, requested, pvc_type, min_iops[pvc_type], below_min_effect]),
		"path": pvc_path,
		"fix": sprintf("request at least %d GiB, or use a class with a higher iopsPerGB or a fixed iops", [ceil(min_iops[pvc_type] / per_gb)]),
		"action": "warn",
	}
}

below_min_effect := "the EBS CSI driver raises the IOPS (and their cost) to the minimum" if pvc_auto_increase

else := "provisioning fails"

# Fixed iops above what the size allows: the driver caps them to the per-GiB limit.
violation contains v if {
	sc := pvc_class
	lib.creating
	n := lib.quantity_int(pvc_param("iops"))
	limit := pvc_gib * iops_per_gib[pvc_type]
	n > limit
	limit >= min_iops[pvc_type]
	v := {
		"msg": sprintf("PVC of StorageClass %q is %d GiB: %s allows %d IOPS per GiB, so the class's %d IOPS are capped to %d", [sc.metadata.name, pvc_gib, pvc_type, iops_per_gib[pvc_type], n, limit]),
		"path": pvc_path,
		"fix": sprintf("request at least %d GiB to get %d IOPS, or use a class with fewer IOPS", [ceil(n / iops_per_gib[pvc_type]), n]),
		"action": "warn",
	}
}
