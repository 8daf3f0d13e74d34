# METADATA
# title: kgate EBS size and class helpers
# description: |
#   Helpers of the EBS StorageClass rules (STORAGE-005 to STORAGE-010): Kubernetes
#   storage quantities in GiB as the EBS CSI driver rounds them, and StorageClass
#   lookups from the inventory.
package kgate.lib.ebs_sizes

import data.kgate.lib

# gib is a storage quantity (e.g. "100Gi", "500G", "1Ti", 1073741824) in GiB,
# rounded up as the EBS CSI driver rounds volume sizes (util.RoundUpGiB); undefined
# for anything else, such as templated values ("${SIZE}") or milli-units.
gib(q) := ceil(units.parse_bytes(s) / 1073741824) if {
	s := quantity_string(q)
	regex.match(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`, s)
}

quantity_string(q) := q if is_string(q)

quantity_string(q) := format_int(q, 10) if {
	is_number(q)
	q == floor(q)
}

# classes are the StorageClasses of the inventory, by name.
classes := object.get(data.inventory, ["cluster", "StorageClass"], {})

# class_named is the StorageClass a claim's storageClassName selects, from the
# inventory: the named class, or for a claim without storageClassName (null) the
# single default class, which Kubernetes assigns; undefined when unknown. An empty
# name ("") selects no class (static binding).
class_named(name) := classes[name] if {
	is_string(name)
	name != ""
}

class_named(null) := classes[d] if {
	count(default_classes) == 1
	some d in default_classes
}

default_classes contains n if {
	some n, sc in classes
	default_class(sc)
}

# pvc_class is the StorageClass of the PersistentVolumeClaim under review.
pvc_class := class_named(lib.get(lib.get(lib.obj, "spec", {}), "storageClassName", null)) if lib.kind == "PersistentVolumeClaim"

# type is the volume type of an EBS StorageClass as written ("" when absent).
type(sc) := v if {
	some k, v in lib.get(sc, "parameters", {})
	lower(k) == "type"
} else := ""

# default_class is true for a StorageClass Kubernetes takes as the default
# (the GA or the beta annotation set to "true").
default_class(sc) if lib.get(lib.get(sc, "metadata", {}), "annotations", {})["storageclass.kubernetes.io/is-default-class"] == "true"

default_class(sc) if lib.get(lib.get(sc, "metadata", {}), "annotations", {})["storageclass.beta.kubernetes.io/is-default-class"] == "true"
