# METADATA
# title: The default StorageClass provisions gp3
# description: |
#   PVCs without storageClassName (most Helm charts leave it out) get the default
#   StorageClass, so the default decides what most volumes cost. EKS creates an
#   in-tree gp2 class in every cluster. Marking an in-tree or non-gp3 EBS class as
#   default (the storageclass.kubernetes.io/is-default-class annotation, or its beta
#   spelling, set to "true") is denied on CREATE and on the UPDATE that sets it; a class
#   that already was the default, such as the EKS gp2 class, is only reported, so its
#   metadata stays editable (with defaultClassDemoteGp2, an UPDATE of such a class sets
#   the annotation to "false" once a gp3 default exists). A default class of another
#   provisioner is warned. With the StorageClasses of the inventory, a second default
#   (Kubernetes then picks the newest, so the choice is ambiguous) is warned, and the
#   class named expectedDefaultClass is warned when no class is the default at all
#   (PVCs without a class stay Pending).
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-010
# custom:
#   id: STORAGE-010
#   severity: high
#   kinds: [StorageClass]
#   default_action: deny
#   referential: true
#   inventory: [StorageClass]
#   why: |
#     Every PVC that names no StorageClass (the usual case for Helm charts) is created
#     with the cluster's default class, and EKS ships the in-tree gp2 class as that
#     default. gp3 costs about 20% less than gp2 and includes 3,000 IOPS and 125 MiB/s
#     at any size, so a gp3 default saves on every volume nobody thought about. Exactly
#     one default avoids PVCs that hang (none) or land on an unexpected class (several).
#   examples:
#     bad: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata:
#         name: gp2-default
#         annotations: {storageclass.kubernetes.io/is-default-class: "true"}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp2}
#     good: |
#       apiVersion: storage.k8s.io/v1
#       kind: StorageClass
#       metadata:
#         name: gp3-sc
#         annotations: {storageclass.kubernetes.io/is-default-class: "true"}
#       provisioner: ebs.csi.aws.com
#       parameters: {type: gp3, encrypted: "true"}
#       reclaimPolicy: Delete
#       volumeBindingMode: WaitForFirstConsumer
#       allowVolumeExpansion: true
#   params:
#     expectedDefaultClass: gp3-sc
#     defaultClassDemoteGp2: false
#   schema:
#     expectedDefaultClass: {type: string, description: "name of the gp3 StorageClass that should be the cluster default (warned when no class is the default)"}
#     defaultClassDemoteGp2: {type: boolean, description: "on UPDATE of a non-gp3 default class, set its default annotation to \"false\" once a gp3 default exists"}
package kgate.rules.storage.default_storageclass_gp3

import data.kgate.lib
import data.kgate.lib.ebs_sizes
import data.kgate.lib.storage

default_keys := ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]

name := lib.obj.metadata.name

storage_class if lib.kind == "StorageClass"

is_default if {
	storage_class
	ebs_sizes.default_class(lib.obj)
}

expected if {
	storage_class
	name == lib.params.expectedDefaultClass
}

applies if is_default

applies if expected

# The request makes the class the default: a new default class (the audit and
# kgate check evaluate objects as if they were created), or an UPDATE that adds the
# annotation.
setting if {
	is_default
	lib.creating
}

setting if {
	is_default
	lib.updating
	not ebs_sizes.default_class(input.oldObject)
}

# New defaults are judged; an UPDATE of a class that already was the default is
# only reported.
action(admission) := admission if setting

else := "audit"

# The annotation that makes the class the default.
default_path := lib.annotation_path(default_keys[0]) if {
	lib.annotations[default_keys[0]] == "true"
} else := lib.annotation_path(default_keys[1])

in_tree if lib.obj.provisioner == storage.in_tree_provisioner

type := t if {
	t := lower(ebs_sizes.type(lib.obj))
	t != ""
} else := "gp3"

# An EBS default class that is not gp3.
costly_default := sprintf("uses the unsupported in-tree provisioner %s", [storage.in_tree_provisioner]) if {
	is_default
	in_tree
} else := sprintf("provisions %s volumes", [type]) if {
	is_default
	storage.ebs_object
	type != "gp3"
}

violation contains v if {
	reason := costly_default
	v := {
		"msg": sprintf("StorageClass %q is the default class and %s: every PVC without a storageClassName gets it", [name, reason]),
		"path": default_path,
		"fix": costly_fix,
		"action": costly_action,
	}
}

costly_fix := sprintf("make a gp3 class of %s the default (%s) and set this class's annotation to \"false\"", [lib.params.ebsProvisioners[0], lib.params.expectedDefaultClass]) if {
	not setting
} else := "do not mark this class as default: mark a gp3 class (provisioner ebs.csi.aws.com, type gp3) as default instead"

costly_action := "mutate" if demoting

else := action("deny")

violation contains v if {
	is_default
	not storage.ebs_object
	v := {
		"msg": sprintf("StorageClass %q is the default class but is not an EBS gp3 class (provisioner %s): every PVC without a storageClassName gets it", [name, lib.obj.provisioner]),
		"path": default_path,
		"fix": "make a gp3 EBS class the default (if this provisioner creates EBS volumes, e.g. EKS Auto Mode's ebs.csi.eks.amazonaws.com, add it to ebsProvisioners)",
		"action": action("warn"),
	}
}

other_defaults contains n if {
	some n, sc in ebs_sizes.classes
	n != name
	ebs_sizes.default_class(sc)
}

violation contains v if {
	is_default
	count(other_defaults) > 0
	not demoting
	v := {
		"msg": sprintf("StorageClass %q is not the only default class (also %s): Kubernetes gives PVCs without a storageClassName the newest default", [name, concat(", ", [sprintf("%q", [n]) | some n in sort(other_defaults)])]),
		"path": default_path,
		"fix": "keep exactly one default class: set the annotation to \"false\" on the others",
		"action": action("warn"),
	}
}

violation contains v if {
	expected
	not is_default
	storage.ebs_object
	not in_tree
	type == "gp3"
	count(other_defaults) == 0
	v := {
		"msg": sprintf("no StorageClass is the default, and %q is expectedDefaultClass: PVCs without a storageClassName stay Pending", [name]),
		"path": "/metadata",
		"fix": "annotate this class storageclass.kubernetes.io/is-default-class: \"true\"",
		"action": "warn",
	}
}

# defaultClassDemoteGp2: an UPDATE of an existing non-gp3 default class turns its
# annotation to "false" when a gp3 EBS default exists in the inventory.
demoting if {
	lib.params.defaultClassDemoteGp2
	lib.updating
	not setting
	costly_default
	some n in other_defaults
	gp3_default(n)
}

gp3_default(n) if {
	sc := ebs_sizes.classes[n]
	storage.ebs_class(sc)
	sc.provisioner != storage.in_tree_provisioner
	lower(ebs_sizes.type(sc)) in {"", "gp3"}
}

patch contains {"op": "replace", "path": lib.annotation_path(k), "value": "false"} if {
	demoting
	some k in default_keys
	lib.annotations[k] == "true"
}
