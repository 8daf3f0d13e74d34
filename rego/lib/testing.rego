# METADATA
# title: kgate test helpers
# description: |
#   Builds the input document the engine gives rules, so that *_test.rego files
#   evaluate rules exactly as kgate does. data.kgate.defaults holds the default
#   parameters collected from every METADATA block; kgate loads it for tests.
package kgate.lib.testing

# data.kgate.cluster_scoped is the engine's list of cluster-scoped kinds.
namespace_of(obj) := "" if obj.kind in data.kgate.cluster_scoped

else := ns if {
	ns := obj.metadata.namespace
	ns != null
} else := "default"

# review is the input for creating obj with the default parameters.
review(obj) := review_with(obj, {})

# review_with is review with some parameters overridden.
review_with(obj, params) := {
	"operation": "CREATE",
	"kind": {"group": group(obj), "version": version(obj), "kind": obj.kind},
	"namespace": namespace_of(obj),
	"name": object.get(obj, ["metadata", "name"], ""),
	"object": obj,
	"oldObject": null,
	"dryRun": false,
	"userInfo": {"username": "test"},
	# The engine replaces a parameter's value as a whole (no deep merge of maps).
	"params": object.union(object.remove(data.kgate.defaults, object.keys(params)), params),
}

# review_update is the input for updating old to obj.
review_update(obj, old) := object.union(review(obj), {"operation": "UPDATE", "oldObject": old})

group(obj) := g if {
	contains(obj.apiVersion, "/")
	g := split(obj.apiVersion, "/")[0]
} else := ""

version(obj) := v if {
	contains(obj.apiVersion, "/")
	v := split(obj.apiVersion, "/")[1]
} else := obj.apiVersion

# apply applies JSON-patch operations the way the engine does (add and replace
# create missing parent maps, remove of a missing path is a no-op), so a test can
# re-evaluate a patched object and prove the patch idempotent.
apply(obj, ops) := json.patch(obj, array.concat(parent_ops(obj, ops), [op | some op in ops; not noop_remove(obj, op)]))

parent_ops(obj, ops) := [{"op": "add", "path": p, "value": {}} | some p in sort(missing_parents(obj, ops))]

missing_parents(obj, ops) := {concat("", ["/", concat("/", array.slice(segs, 0, n))]) |
	some op in ops
	op.op in {"add", "replace"}
	segs := split(trim_prefix(op.path, "/"), "/")
	some n in numbers.range(1, count(segs) - 1)
	not present(obj, array.slice(segs, 0, n))
}

noop_remove(obj, op) if {
	op.op == "remove"
	not present(obj, split(trim_prefix(op.path, "/"), "/"))
}

present(obj, segs) if {
	path := [segment(s) | some s in segs]
	object.get(obj, path, null) != null
}

# segment turns a list index into a number so object.get walks arrays.
segment(s) := to_number(s) if regex.match(`^[0-9]+$`, s)

else := unescape(s)

unescape(s) := replace(replace(s, "~1", "/"), "~0", "~")
