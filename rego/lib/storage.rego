# METADATA
# title: kgate storage helpers
# description: Shared definitions of the storage rules (catalog section 5).
package kgate.lib.storage

import data.kgate.lib

in_tree_provisioner := "kubernetes.io/aws-ebs"

# ebs_class is true for a StorageClass provisioned by EBS (CSI or in-tree).
ebs_class(sc) if sc.provisioner in lib.params.ebsProvisioners

ebs_class(sc) if sc.provisioner == in_tree_provisioner

# ebs_object is ebs_class for the object under review: a rule, so it is computed
# once per evaluation however many storage rules ask.
ebs_object if ebs_class(lib.obj)

# param looks a StorageClass parameter up by key, case-insensitively, as the
# EBS CSI driver does: {"key": key as written, "value": value}. When a class
# writes the key twice in different case, the smallest key is taken, so the
# function has one value (STORAGE-005 reports the duplicate).
param(sc, name) := {"key": k, "value": params[k]} if {
	params := lib.get(sc, "parameters", {})
	k := min([key | some key, _ in params; lower(key) == lower(name)])
}

# class_of returns the StorageClass a PVC names, from the inventory.
class_of(pvc) := data.inventory.cluster.StorageClass[pvc.spec.storageClassName]
