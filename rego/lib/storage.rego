# METADATA
# title: kgate storage helpers
# description: Shared definitions of the storage rules (catalog section 5).
package kgate.lib.storage

import data.kgate.lib

in_tree_provisioner := "kubernetes.io/aws-ebs"

# ebs_class is true for a StorageClass provisioned by EBS (CSI or in-tree).
ebs_class(sc) if sc.provisioner in lib.params.ebsProvisioners

ebs_class(sc) if sc.provisioner == in_tree_provisioner

# param looks a StorageClass parameter up by key, case-insensitively, as the
# EBS CSI driver does: {"key": key as written, "value": value}.
param(sc, name) := {"key": k, "value": v} if {
	some k, v in lib.get(sc, "parameters", {})
	lower(k) == lower(name)
}

# class_of returns the StorageClass a PVC names, from the inventory.
class_of(pvc) := data.inventory.cluster.StorageClass[pvc.spec.storageClassName]
