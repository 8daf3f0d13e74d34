package report

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifText    `json:"shortDescription"`
	FullDescription  sarifText    `json:"fullDescription"`
	HelpURI          string       `json:"helpUri,omitempty"`
	Default          sarifDefault `json:"defaultConfiguration"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// Suppressions records exemptions the way code-scanning tools understand.
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLevel(a policies.Action) string {
	switch a {
	case policies.ActionDeny:
		return "error"
	case policies.ActionWarn:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes SARIF 2.1.0, which code-scanning tools display inline.
func WriteSARIF(w io.Writer, r *Report) error {
	driver := sarifDriver{Name: "kgate", InformationURI: "https://github.com/kgate-dev/kgate", Rules: []sarifRule{}}
	for _, rule := range r.Rules {
		help := ""
		if len(rule.Related) > 0 {
			help = rule.Related[0]
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.ID, ShortDescription: sarifText{rule.Title}, FullDescription: sarifText{rule.Description},
			HelpURI: help, Default: sarifDefault{sarifLevel(rule.DefaultAction)},
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		msg := objectLabel(f.Kind, f.Namespace, f.Name, f.Doc, f.Item) + " " + f.Path + ": " + f.Message
		if f.Fix != "" {
			msg += "; fix: " + f.Fix
		}
		res := sarifResult{
			RuleID: f.Rule, Level: sarifLevel(f.Action), Message: sarifText{msg},
			Locations: []sarifLocation{{sarifPhysical{sarifArtifact{uri(f.File)}, sarifRegion{max(f.Line, 1)}}}},
		}
		if x := f.Exemption; x != nil {
			res.Level = sarifLevel(x.Action)
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: x.Reason}}
		}
		run.Results = append(run.Results, res)
	}
	for _, e := range r.Errors {
		run.Results = append(run.Results, sarifResult{
			RuleID: "input-error", Level: "error", Message: sarifText{e.Message},
			Locations: []sarifLocation{{sarifPhysical{sarifArtifact{uri(e.File)}, sarifRegion{max(e.Line, 1)}}}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

func uri(path string) string {
	return strings.TrimPrefix(strings.ReplaceAll(path, "\\", "/"), "./")
}
