# METADATA
# title: Test rule that annotates every ConfigMap with an owner and a label
# custom:
#   id: TEST-002
#   severity: low
#   kinds: [ConfigMap]
#   default_action: mutate
package kgate.rules.test.owner

import data.kgate.lib

violation contains {"msg": "no owner annotation", "path": "/metadata/annotations", "fix": "add kgate.test/owner"} if {
	not lib.annotations["kgate.test/owner"]
}

patch contains {"op": "add", "path": lib.annotation_path("kgate.test/owner"), "value": "me"} if {
	not lib.annotations["kgate.test/owner"]
}

patch contains {"op": "add", "path": "/metadata/labels/owner", "value": "me"} if {
	not lib.labels.owner
}
