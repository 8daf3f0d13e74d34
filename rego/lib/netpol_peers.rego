# METADATA
# title: kgate NetworkPolicy selector helpers
# description: |
#   Label-selector semantics of NetworkPolicy podSelector, namespaceSelector and peers,
#   shared by NETPOL-004 and NETPOL-005: whether a selector selects a set of labels,
#   and whether one podSelector selects at least every pod another one selects.
package kgate.lib.netpol_peers

import data.kgate.lib

# matches is true when the label selector sel selects an object with these labels.
# An absent, null or empty selector selects everything (NetworkPolicy semantics for
# podSelector and namespaceSelector).
matches(sel, _) if not is_object(sel)

matches(sel, labels) if {
	is_object(sel)
	every k, v in lib.get(sel, "matchLabels", {}) {
		labels[k] == v
	}
	every e in lib.get(sel, "matchExpressions", []) {
		expression_matches(e, labels)
	}
}

expression_matches(e, labels) if {
	e.operator == "In"
	labels[e.key] in lib.get(e, "values", [])
}

# NotIn also matches objects without the key.
expression_matches(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in lib.get(e, "values", [])
}

expression_matches(e, labels) if {
	e.operator == "Exists"
	e.key in object.keys(labels)
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not e.key in object.keys(labels)
}

# covers is true when the podSelector wide selects every pod that narrow selects: each
# constraint of wide is one of narrow's or follows from narrow's matchLabels. It is a
# sufficient test (selectors that cover each other by coincidence of labels are not
# recognised).
covers(wide, narrow) if {
	labels := selector_labels(narrow)
	exprs := lib.get(narrow, "matchExpressions", [])
	every k, v in selector_labels(wide) {
		labels[k] == v
	}
	every e in lib.get(wide, "matchExpressions", []) {
		implied(e, labels, exprs)
	}
}

selector_labels(sel) := lib.get(sel, "matchLabels", {}) if is_object(sel)

else := {}

# implied: narrow's own expression, or a constraint its matchLabels fix (NotIn and
# DoesNotExist hold for pods without the key, which narrow does not rule out).
implied(e, _, exprs) if e in exprs

implied(e, labels, _) if {
	e.operator in {"In", "Exists"}
	expression_matches(e, labels)
}

implied(e, labels, _) if {
	e.operator == "NotIn"
	e.key in object.keys(labels)
	expression_matches(e, labels)
}
