// Package report holds the result of checking manifests (the JSON contract of
// `kgate check -o json`) and writes it as text, JSON, JUnit, SARIF or GitHub
// annotations.
package report

import (
	"sort"

	"github.com/kgate-dev/kgate/policies"
)

// Finding is one violation located in a manifest.
type Finding struct {
	Rule       string             `json:"rule"`
	Action     policies.Action    `json:"action"`
	Severity   string             `json:"severity"`
	File       string             `json:"file"`
	Doc        int                `json:"doc"`
	Item       *int               `json:"item,omitempty"`
	Line       int                `json:"line"`
	Kind       string             `json:"kind"`
	APIVersion string             `json:"apiVersion"`
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	Path       string             `json:"path"`
	Message    string             `json:"message"`
	Fix        string             `json:"fix"`
	Patch      []policies.PatchOp `json:"patch"`
	// Exemption is set on findings an annotation waived (action exempted).
	Exemption *policies.Exemption `json:"exemption,omitempty"`
	// DryRun marks a deny the configuration's dry-run switch turned into a warning.
	DryRun bool `json:"dryRun,omitempty"`
	// Note explains an exemption annotation that was not honoured.
	Note string `json:"note,omitempty"`
	// Explain is the rule's evaluation trace and print() output (check --explain).
	Explain *policies.Explanation `json:"explain,omitempty"`
}

// Error is an input that could not be checked. Doc is null for errors about a
// whole file (unreadable, not found).
type Error struct {
	File    string `json:"file"`
	Doc     *int   `json:"doc"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Pass records that a rule considered an object and found nothing wrong; listed
// only when requested (kgate check --passes).
type Pass struct {
	Rule      string `json:"rule"`
	File      string `json:"file"`
	Doc       int    `json:"doc"`
	Item      *int   `json:"item,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Summary counts objects, findings by action and errors.
type Summary struct {
	Objects  int `json:"objects"`
	Findings int `json:"findings"`
	Deny     int `json:"deny"`
	Warn     int `json:"warn"`
	Mutate   int `json:"mutate"`
	Audit    int `json:"audit"`
	// Exempted counts findings waived by exemption annotations.
	Exempted int `json:"exempted"`
	Errors   int `json:"errors"`
}

// Report is the outcome of one check run.
type Report struct {
	Findings []Finding `json:"findings"`
	Errors   []Error   `json:"errors"`
	Passes   []Pass    `json:"passes,omitempty"`
	Summary  Summary   `json:"summary"`
	// Rules describes every rule that was loaded, for formats that list them (SARIF).
	Rules []*policies.Rule `json:"-"`
	// Live is true for audits of a cluster: findings name objects, not files,
	// and have no document index or line.
	Live bool `json:"-"`
}

// Finish sorts the entries into a stable order and fills the summary.
func (r *Report) Finish(objects int) {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Errors == nil {
		r.Errors = []Error{}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		return less(place{a.File, a.Doc, item(a.Item), a.Rule, a.Path}, place{b.File, b.Doc, item(b.Item), b.Rule, b.Path})
	})
	sort.SliceStable(r.Errors, func(i, j int) bool {
		a, b := r.Errors[i], r.Errors[j]
		return less(place{file: a.File, doc: item(a.Doc)}, place{file: b.File, doc: item(b.Doc)})
	})
	sort.SliceStable(r.Passes, func(i, j int) bool {
		a, b := r.Passes[i], r.Passes[j]
		return less(place{a.File, a.Doc, item(a.Item), a.Rule, ""}, place{b.File, b.Doc, item(b.Item), b.Rule, ""})
	})
	s := Summary{Objects: objects, Findings: len(r.Findings), Errors: len(r.Errors)}
	for _, f := range r.Findings {
		switch f.Action {
		case policies.ActionDeny:
			s.Deny++
		case policies.ActionWarn:
			s.Warn++
		case policies.ActionMutate:
			s.Mutate++
		case policies.ActionAudit:
			s.Audit++
		case policies.ActionExempted:
			s.Exempted++
		}
	}
	r.Summary = s
}

// place orders report entries: by file, document, list item, rule and path.
type place struct {
	file      string
	doc, item int
	rule      string
	path      string
}

func less(a, b place) bool {
	switch {
	case a.file != b.file:
		return a.file < b.file
	case a.doc != b.doc:
		return a.doc < b.doc
	case a.item != b.item:
		return a.item < b.item
	case a.rule != b.rule:
		return a.rule < b.rule
	}
	return a.path < b.path
}

func item(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
