package report

import (
	"encoding/json"
	"strconv"
)

// findingPrefix and findingIndent place a finding at depth two of the report,
// as an element of the findings array.
const (
	findingPrefix = "    "
	findingIndent = "  "
)

// appendFinding appends f exactly as json.MarshalIndent(f, findingPrefix,
// findingIndent) would. Reflection made encoding a large run's findings a sixth
// of `kgate check -o json`; the report's own fields are written directly and only
// free-form values (patch values, exemptions, traces) go through encoding/json.
// TestAppendFindingMatchesMarshal and FuzzAppendFinding hold it to the same bytes.
func appendFinding(b []byte, f *Finding) ([]byte, error) {
	const field = "\n" + findingPrefix + findingIndent
	b = append(b, '{')
	b = appendStringField(b, field, "rule", f.Rule, false)
	b = appendStringField(b, field, "action", string(f.Action), true)
	b = appendStringField(b, field, "severity", f.Severity, true)
	b = appendStringField(b, field, "file", f.File, true)
	b = appendIntField(b, field, "doc", f.Doc)
	if f.Item != nil {
		b = appendIntField(b, field, "item", *f.Item)
	}
	b = appendIntField(b, field, "line", f.Line)
	b = appendStringField(b, field, "kind", f.Kind, true)
	b = appendStringField(b, field, "apiVersion", f.APIVersion, true)
	b = appendStringField(b, field, "namespace", f.Namespace, true)
	b = appendStringField(b, field, "name", f.Name, true)
	b = appendStringField(b, field, "path", f.Path, true)
	b = appendStringField(b, field, "message", f.Message, true)
	b = appendStringField(b, field, "fix", f.Fix, true)
	b = append(b, ","+field+`"patch": `...)
	var err error
	switch {
	case f.Patch == nil:
		b = append(b, "null"...)
	case len(f.Patch) == 0:
		b = append(b, "[]"...)
	default:
		if b, err = appendNested(b, f.Patch); err != nil {
			return nil, err
		}
	}
	if f.Exemption != nil {
		b = append(b, ","+field+`"exemption": `...)
		if b, err = appendNested(b, f.Exemption); err != nil {
			return nil, err
		}
	}
	if f.DryRun {
		b = append(b, ","+field+`"dryRun": true`...)
	}
	if f.Note != "" {
		b = appendStringField(b, field, "note", f.Note, true)
	}
	if f.Explain != nil {
		b = append(b, ","+field+`"explain": `...)
		if b, err = appendNested(b, f.Explain); err != nil {
			return nil, err
		}
	}
	return append(b, "\n"+findingPrefix+"}"...), nil
}

// findingFields is the number of Finding's fields appendFinding writes; a test
// fails when Finding gains one.
const findingFields = 19

func appendStringField(b []byte, field, name, s string, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, field...)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `": `...)
	return appendString(b, s)
}

func appendIntField(b []byte, field, name string, n int) []byte {
	b = append(b, ',')
	b = append(b, field...)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `": `...)
	return strconv.AppendInt(b, int64(n), 10)
}

// appendString quotes s as encoding/json does. Printable ASCII is copied, with
// quotes and backslashes escaped; a string with anything encoding/json treats
// specially (control characters, <, > and & for HTML, non-ASCII for invalid
// UTF-8 and U+2028/U+2029) is left to encoding/json.
func appendString(b []byte, s string) []byte {
	start := len(b)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&':
			q, _ := json.Marshal(s) // a string always encodes
			return append(b[:start], q...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendNested appends a value that sits at depth three of the report, a member
// of a finding.
func appendNested(b []byte, v any) ([]byte, error) {
	q, err := json.MarshalIndent(v, findingPrefix+findingIndent, findingIndent)
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}
