# METADATA
# title: Test rule that annotates every ConfigMap with a team
# custom:
#   id: TEST-001
#   severity: low
#   kinds: [ConfigMap]
#   default_action: mutate
#   params:
#     testTeam: platform
#   schema:
#     testTeam: {type: string, minLength: 1}
package kgate.rules.test.team

import data.kgate.lib

violation contains {"msg": "no team annotation", "path": "/metadata/annotations", "fix": "add kgate.test/team"} if {
	not lib.annotations["kgate.test/team"]
}

patch contains {"op": "add", "path": lib.annotation_path("kgate.test/team"), "value": lib.params.testTeam} if {
	not lib.annotations["kgate.test/team"]
}
