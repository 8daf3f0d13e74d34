# METADATA
# title: NodePools launch nodes only in allowed zones
# description: |
#   Checks the zones a karpenter.sh/v1 NodePool may launch nodes in against the zones
#   the cluster is meant to use (allowedZones, and zone IDs from allowedZoneIds or
#   zoneIdByZone). On CREATE and UPDATE it rejects an In requirement or a template
#   label on topology.kubernetes.io/zone or topology.k8s.aws/zone-id that names a zone
#   outside the allowlist. A pool without such an In constraint (none, or NotIn only)
#   may use every zone of its EC2NodeClass subnets: when the EC2NodeClass in the
#   inventory lists subnets in zones outside the allowlist that the pool does not
#   exclude, the pool is rejected too; without the EC2NodeClass nothing is reported.
#   Zone IDs are checked only when an allowed zone ID is known. Nothing is changed.
# related_resources:
# - ref: https://github.com/kgate-dev/kgate/blob/main/docs/rules.md#topo-003
# custom:
#   id: TOPO-003
#   severity: medium
#   kinds: [NodePool]
#   default_action: deny
#   referential: true
#   inventory: [EC2NodeClass]
#   why: |
#     Nodes in an unplanned Availability Zone split workloads from their data and peers:
#     every byte between zones is billed (about $0.01/GB in each direction), EBS volumes
#     and S3 Express buckets cannot follow them, and a zone without cluster subnets or
#     capacity reservations leaves the pool unable to launch at all. Keeping NodePools
#     inside the cluster's approved zones keeps traffic and capacity where they were
#     planned.
#   examples:
#     bad: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: batch-cpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
#             requirements:
#             - {key: topology.kubernetes.io/zone, operator: In, values: ["us-west-2d"]}
#     good: |
#       apiVersion: karpenter.sh/v1
#       kind: NodePool
#       metadata: {name: batch-cpu}
#       spec:
#         template:
#           spec:
#             nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
#             requirements:
#             - {key: topology.kubernetes.io/zone, operator: In, values: ["us-west-2a", "us-west-2b"]}
#   params:
#     allowedZoneIds: []
#   schema:
#     allowedZoneIds: {type: array, items: {type: string}, description: "zone IDs (e.g. usw2-az1) NodePools may use, in addition to the IDs zoneIdByZone gives for allowedZones"}
package kgate.rules.topology.nodepool_zone_allowlist

import data.kgate.lib
import data.kgate.lib.karpenter

# Allowed zone names: allowedZones, and the names whose zoneIdByZone ID is in
# allowedZoneIds. Allowed zone IDs: allowedZoneIds, and the IDs of allowedZones.
allowed_names := {z | some z in lib.params.allowedZones} | {z |
	some z, id in lib.params.zoneIdByZone
	id in lib.params.allowedZoneIds
}

allowed_ids := {id | some id in lib.params.allowedZoneIds} | {id |
	some z in lib.params.allowedZones
	id := lib.params.zoneIdByZone[z]
}

allowlist[karpenter.zone_key] := allowed_names

allowlist[karpenter.zone_id_key] := allowed_ids

applies if {
	karpenter.nodepool
	count(allowed_names) + count(allowed_ids) > 0
}

name := lib.obj.metadata.name

# A key is checked only when its allowlist is known.
checked(key) if count(allowlist[key]) > 0

allowed_text(key) := concat(", ", sort(allowlist[key]))

param_name(key) := "allowedZones" if key == karpenter.zone_key

else := "allowedZoneIds (or zoneIdByZone)"

violation contains v if {
	applies
	some i, r in karpenter.requirements
	r.key in karpenter.zone_keys
	r.operator == "In"
	checked(r.key)
	some j, value in lib.get(r, "values", [])
	not value in allowlist[r.key]
	v := {
		"msg": sprintf("NodePool %q may launch nodes in %s %q%s, which is not an allowed zone (%s: %s)", [name, r.key, value, region_note(r.key, value), param_name(r.key), allowed_text(r.key)]),
		"path": sprintf("%s/%d/values/%d", [karpenter.requirements_path, i, j]),
		"fix": sprintf("use only allowed zones in the %s requirement (%s), or add the zone to %s if the cluster has subnets there", [r.key, allowed_text(r.key), param_name(r.key)]),
	}
}

violation contains v if {
	applies
	some key in karpenter.zone_keys
	checked(key)
	value := karpenter.template_labels[key]
	not value in allowlist[key]
	v := {
		"msg": sprintf("NodePool %q labels its nodes %s: %q%s, which is not an allowed zone (%s: %s)", [name, key, value, region_note(key, value), param_name(key), allowed_text(key)]),
		"path": concat("", ["/spec/template/metadata/labels/", lib.escape(key)]),
		"fix": sprintf("set the label to an allowed zone (%s) or remove it", [allowed_text(key)]),
	}
}

# region_note points out zones of another region (the allowlist uses lib.params.region).
region_note(key, value) := sprintf(" of another region than %s", [lib.params.region]) if {
	key == karpenter.zone_key
	lib.params.region != ""
	not startswith(value, lib.params.region)
} else := ""

# --- pools without an In constraint on a zone key ---

# pinned: an In requirement or a template label on a zone key limits the pool's zones
# to values checked above.
pinned if {
	some r in karpenter.requirements
	r.key in karpenter.zone_keys
	r.operator == "In"
}

pinned if {
	some k in karpenter.zone_keys
	karpenter.template_labels[k]
}

# subnets of the referenced EC2NodeClass, as its status lists them ({id, zone, zoneID}).
subnets := lib.get(lib.get(karpenter.node_class, "status", {}), "subnets", [])

# excluded_values holds [key, value] pairs a NotIn requirement removes.
excluded_values contains [r.key, v] if {
	some r in karpenter.requirements
	r.key in karpenter.zone_keys
	r.operator == "NotIn"
	some v in lib.get(r, "values", [])
}

subnet_value(s, key) := lib.get(s, "zone", "") if key == karpenter.zone_key

else := lib.get(s, "zoneID", "")

excluded(s) if {
	some [key, v] in excluded_values
	subnet_value(s, key) == v
}

subnet_allowed(s) if lib.get(s, "zone", "") in allowed_names

subnet_allowed(s) if lib.get(s, "zoneID", "") in allowed_ids

# open_zones are the zones of the node class's subnets outside the allowlist that the
# pool does not exclude.
open_zones contains zone_text(s) if {
	applies
	not pinned
	some s in subnets
	not excluded(s)
	not subnet_allowed(s)
}

zone_text(s) := sprintf("%s (%s)", [s.zone, s.zoneID]) if {
	lib.get(s, "zone", "") != ""
	lib.get(s, "zoneID", "") != ""
} else := lib.get(s, "zone", "") if {
	lib.get(s, "zone", "") != ""
} else := lib.get(s, "zoneID", "?")

violation contains v if {
	count(open_zones) > 0
	v := {
		"msg": sprintf("NodePool %q has no In zone requirement%s, so Karpenter may launch its nodes in every zone of EC2NodeClass %q's subnets, including %s, which are not allowed zones (allowedZones: %s)", [name, notin_note, karpenter.node_class_ref.name, concat(", ", sort(open_zones)), concat(", ", sort(allowed_names))]),
		"path": open_path,
		"fix": sprintf("add the requirement {key: %s, operator: In, values: [%s]}, or remove the other zones' subnets from the EC2NodeClass", [karpenter.zone_key, concat(", ", sort(allowed_names))]),
	}
}

notin_note := " (only NotIn)" if count(excluded_values) > 0

else := ""

open_path := sprintf("%s/%d", [karpenter.requirements_path, min(karpenter.zone_requirements)]) if {
	count(karpenter.zone_requirements) > 0
} else := karpenter.existing_path
