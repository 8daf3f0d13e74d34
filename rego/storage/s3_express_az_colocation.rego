# METADATA
# title: S3 Express One Zone volumes pin their Pods to the bucket's AZ
# description: |
#   An S3 Express One Zone directory bucket lives in one Availability Zone, named in the
#   bucket name (<base>--<zone-id>--x-s3). A Mountpoint for Amazon S3 PersistentVolume of
#   such a bucket without nodeAffinity lets its Pods run in any AZ, paying cross-AZ
#   latency and transfer on every read. The rule adds a required nodeAffinity on the
#   bucket's zone ID (topology.k8s.aws/zone-id; with s3ExpressZoneKey
#   topology.kubernetes.io/zone, the zone names zoneIdByZone maps to it) when a PV is
#   created, or updated while it still has none (the API server allows setting it once).
#   An affinity that pins another AZ (zone names are translated with zoneIdByZone, which
#   is account-specific) is rejected on CREATE, and reported for audit once set, since
#   it is immutable; a term that does not restrict the zone, or names a zone that
#   zoneIdByZone does not know, is warned.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#storage-015
# custom:
#   id: STORAGE-015
#   severity: medium
#   kinds: [PersistentVolume]
#   default_action: mutate
#   why: |
#     S3 Express One Zone gives single-digit-millisecond reads only to compute in the same
#     AZ: from another AZ every request crosses zones, adding latency and cross-AZ data
#     transfer charges (about $0.01/GB each way) to data that is read over and over, such
#     as training shards and model weights. Pinning the volume to the bucket's AZ makes
#     the scheduler place every Pod that mounts it next to the data.
#   examples:
#     bad: |
#       apiVersion: v1
#       kind: PersistentVolume
#       metadata: {name: s3-express-pv}
#       spec:
#         capacity: {storage: 1200Gi}
#         accessModes: [ReadWriteMany]
#         storageClassName: ""
#         mountOptions: ["region us-west-2"]
#         csi:
#           driver: s3.csi.aws.com
#           volumeHandle: s3-express-volume
#           volumeAttributes: {bucketName: genai-cache--usw2-az1--x-s3}
#     good: |
#       apiVersion: v1
#       kind: PersistentVolume
#       metadata: {name: s3-express-pv}
#       spec:
#         capacity: {storage: 1200Gi}
#         accessModes: [ReadWriteMany]
#         storageClassName: ""
#         mountOptions: ["region us-west-2"]
#         csi:
#           driver: s3.csi.aws.com
#           volumeHandle: s3-express-volume
#           volumeAttributes: {bucketName: genai-cache--usw2-az1--x-s3}
#         nodeAffinity:
#           required:
#             nodeSelectorTerms:
#             - matchExpressions:
#               - {key: topology.k8s.aws/zone-id, operator: In, values: ["usw2-az1"]}
#   params:
#     s3ExpressZoneKey: topology.k8s.aws/zone-id
#   schema:
#     s3ExpressZoneKey: {enum: [topology.k8s.aws/zone-id, topology.kubernetes.io/zone], description: "node label the added nodeAffinity uses: the zone ID (account-independent) or the zone name (from zoneIdByZone, for nodes without the zone-id label)"}
package kgate.rules.storage.s3_express_az_colocation

import data.kgate.lib
import data.kgate.lib.mountpoint_s3 as s3

zone_id_key := "topology.k8s.aws/zone-id"

zone_key := "topology.kubernetes.io/zone"

zone_id := s3.directory_bucket_zone

applies if zone_id

name := lib.obj.metadata.name

affinity := lib.get(lib.obj.spec, "nodeAffinity", null)

old_affinity := object.get(input.oldObject, ["spec", "nodeAffinity"], null)

# The API server lets a PV's nodeAffinity be set once: on CREATE, or on an UPDATE while
# it is still unset.
settable if lib.creating

settable if {
	lib.updating
	old_affinity == null
}

# --- no affinity: add one ---

violation contains v if {
	applies
	affinity == null
	settable
	v := {
		"msg": sprintf("PersistentVolume %q mounts S3 Express One Zone bucket %q in zone %s without nodeAffinity: its Pods can run in other AZs", [name, s3.bucket, zone_id]),
		"path": "/spec",
		"fix": add_fix,
		"action": add_action,
	}
}

add_action := "mutate" if added_values

else := "warn"

add_fix := sprintf("added nodeAffinity %s In %v", [lib.params.s3ExpressZoneKey, added_values]) if {
	added_values
} else := sprintf("set nodeAffinity.required.nodeSelectorTerms to [{matchExpressions: [{key: %s, operator: In, values: [%s]}]}] (zoneIdByZone names no zone for it)", [zone_id_key, zone_id])

# added_values are the label values of the added affinity: the zone ID, or the zone
# names that zoneIdByZone maps to it.
added_values := [zone_id] if lib.params.s3ExpressZoneKey == zone_id_key

added_values := names if {
	lib.params.s3ExpressZoneKey == zone_key
	names := sort([n | some n, id in lib.params.zoneIdByZone; id == zone_id])
	count(names) > 0
}

patch contains op if {
	applies
	affinity == null
	settable
	values := added_values
	op := {"op": "add", "path": "/spec/nodeAffinity", "value": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": lib.params.s3ExpressZoneKey, "operator": "In", "values": values}]}]}}}
}

# --- existing affinity: check every term ---

terms := lib.get(lib.get(affinity, "required", {}), "nodeSelectorTerms", []) if affinity != null

# zones maps each term's index to the zone IDs its zone expressions allow: one set
# per In expression on a zone key ("?name" stands for a zone name zoneIdByZone does
# not know).
zones[i] := [ids |
	some e in lib.get(terms[i], "matchExpressions", [])
	e.operator == "In"
	e.key in {zone_id_key, zone_key}
	ids := {zone_of(e.key, value) | some value in e.values}
] if some i, _ in terms

zone_of(key, value) := value if key == zone_id_key

zone_of(key, value) := id if {
	key == zone_key
	id := object.get(lib.params.zoneIdByZone, value, concat("", ["?", value]))
}

# A term whose expressions ask for another zone: the Pods never meet the bucket.
other_zones[i] := sorted if {
	some i, sets in zones
	sorted := sort({id | some ids in sets; some id in ids; id != zone_id; not startswith(id, "?")})
	count(sorted) > 0
}

unknown_zones[i] := sorted if {
	some i, sets in zones
	not other_zones[i]
	sorted := sort({trim_prefix(id, "?") | some ids in sets; some id in ids; startswith(id, "?")})
	count(sorted) > 0
}

unrestricted contains i if {
	some i, sets in zones
	count(sets) == 0
}

term_path(i) := sprintf("/spec/nodeAffinity/required/nodeSelectorTerms/%d", [i])

# A mismatch can only be fixed by a new PV (nodeAffinity is immutable once set): deny it
# when it is being set, report it for audit afterwards.
set_action(action) := action if settable

else := "audit"

violation contains v if {
	applies
	some i, ids in other_zones
	v := {
		"msg": sprintf("PersistentVolume %q mounts S3 Express One Zone bucket %q in zone %s, but its nodeAffinity term %d allows zone %v%s", [name, s3.bucket, zone_id, i, ids, mapping_note(i)]),
		"path": term_path(i),
		"fix": sprintf("%s: {key: %s, operator: In, values: [%s]}", [recreate_words, zone_id_key, zone_id]),
		"action": set_action("deny"),
	}
}

recreate_words := "pin the term to the bucket's zone" if settable

else := "recreate the PersistentVolume (nodeAffinity is immutable once set), pinned to the bucket's zone"

mapping_note(i) := sprintf(" (zoneIdByZone maps %s; it is account-specific: correct it if it does not match this account)", [concat(", ", mapped)]) if {
	mapped := sort({sprintf("%s to %s", [value, lib.params.zoneIdByZone[value]]) |
		some e in lib.get(terms[i], "matchExpressions", [])
		e.key == zone_key
		some value in e.values
	})
	count(mapped) > 0
} else := ""

violation contains v if {
	applies
	some i, names in unknown_zones
	v := {
		"msg": sprintf("PersistentVolume %q mounts S3 Express One Zone bucket %q in zone %s; its nodeAffinity term %d names zone %v, which zoneIdByZone does not map to a zone ID", [name, s3.bucket, zone_id, i, names]),
		"path": term_path(i),
		"fix": sprintf("use {key: %s, operator: In, values: [%s]}, or add the zone to zoneIdByZone", [zone_id_key, zone_id]),
		"action": set_action("warn"),
	}
}

violation contains v if {
	applies
	some i in unrestricted
	v := {
		"msg": sprintf("PersistentVolume %q mounts S3 Express One Zone bucket %q in zone %s, but its nodeAffinity term %d does not restrict the zone", [name, s3.bucket, zone_id, i]),
		"path": term_path(i),
		"fix": sprintf("%s: add {key: %s, operator: In, values: [%s]} to the term", [recreate_words, zone_id_key, zone_id]),
		"action": set_action("warn"),
	}
}
