# METADATA
# title: kgate Mountpoint for Amazon S3 helpers
# description: |
#   Shared definitions of the Mountpoint for Amazon S3 rules (STORAGE-011, STORAGE-014,
#   STORAGE-015): which PersistentVolumes the Mountpoint CSI driver serves, their bucket
#   and their mount options, parsed the way the driver parses them.
package kgate.lib.mountpoint_s3

import data.kgate.lib

# driver is the CSI driver name of Mountpoint for Amazon S3.
driver := "s3.csi.aws.com"

# pv is true when the object under review is a PersistentVolume of the driver.
pv if {
	lib.kind == "PersistentVolume"
	lib.obj.spec.csi.driver == driver
}

# attributes are the volume attributes of the PV under review ({} when absent).
attributes := lib.get(lib.get(lib.get(lib.obj, "spec", {}), "csi", {}), "volumeAttributes", {})

# bucket is the bucket the PV under review mounts, when it names one.
bucket := b if {
	pv
	b := attributes.bucketName
	is_string(b)
	trim_space(b) != ""
}

# inventory_pv is true when PersistentVolume name, from the inventory, is a
# Mountpoint volume. It takes the name, so OPA memoizes on a short string.
inventory_pv(name) if data.inventory.cluster.PersistentVolume[name].spec.csi.driver == driver

# options maps the index of every mount option of the PV under review to
# {"key", "value", "raw"}. The driver accepts `key value`, `key=value`, `--key value`
# and `--key=value` and adds the leading `--` itself (pkg/mountpoint/args.go).
options[i] := {"key": normalize(parts[0]), "value": parts[1], "raw": raw} if {
	pv
	some i, raw in lib.get(lib.obj.spec, "mountOptions", [])
	is_string(raw)
	parts := split_option(trim(raw, " "))
}

split_option(s) := [substring(s, 0, n), substring(s, n + 1, -1)] if {
	n := indexof(s, "=")
	n >= 0
} else := [substring(s, 0, n), trim(substring(s, n + 1, -1), " ")] if {
	n := indexof(s, " ")
	n >= 0
} else := [s, ""]

normalize(key) := key if startswith(key, "-")

else := concat("", ["--", key])

# option_indices maps a normalized option key ("--region") to the indices of the
# options that set it.
option_indices[key] contains i if {
	some i, o in options
	key := o.key
}

# directory_bucket_zone is the zone ID an S3 Express One Zone directory bucket lives
# in, from its name `<base>--<zone-id>--x-s3` (e.g. usw2-az1, or usw2-lax1-az1 in a
# Local Zone).
directory_bucket_zone := m[1] if {
	[m] := regex.find_all_string_submatch_n(`^.+--([a-z0-9]+(?:-[a-z0-9]+)*-az[0-9]+)--x-s3$`, bucket, 1)
}
