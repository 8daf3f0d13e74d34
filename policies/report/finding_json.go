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

// findingField starts a member of a finding after its first.
const findingField = ",\n" + findingPrefix + findingIndent

// appendFinding appends f exactly as json.MarshalIndent(f, findingPrefix,
// findingIndent) would. Reflection cost about 0.1 s of a 1.5 s `kgate check -o
// json` run on 10,000 objects; the report's own fields are written directly and
// only free-form values (patch values, exemptions, traces) go through
// encoding/json. TestAppendFindingMatchesMarshal and FuzzAppendFinding hold it
// to the same bytes.
func appendFinding(b []byte, f *Finding) ([]byte, error) {
	b = append(b, "{\n"+findingPrefix+findingIndent+`"rule": `...)
	b = appendString(b, f.Rule)
	b = appendStringField(b, "action", string(f.Action))
	b = appendStringField(b, "severity", f.Severity)
	b = appendStringField(b, "file", f.File)
	b = appendIntField(b, "doc", f.Doc)
	if f.Item != nil {
		b = appendIntField(b, "item", *f.Item)
	}
	b = appendIntField(b, "line", f.Line)
	b = appendStringField(b, "kind", f.Kind)
	b = appendStringField(b, "apiVersion", f.APIVersion)
	b = appendStringField(b, "namespace", f.Namespace)
	b = appendStringField(b, "name", f.Name)
	b = appendStringField(b, "path", f.Path)
	b = appendStringField(b, "message", f.Message)
	b = appendStringField(b, "fix", f.Fix)
	b = appendKey(b, "patch")
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
		if b, err = appendNested(appendKey(b, "exemption"), f.Exemption); err != nil {
			return nil, err
		}
	}
	if f.DryRun {
		b = append(appendKey(b, "dryRun"), "true"...)
	}
	if f.Note != "" {
		b = appendStringField(b, "note", f.Note)
	}
	if f.Explain != nil {
		if b, err = appendNested(appendKey(b, "explain"), f.Explain); err != nil {
			return nil, err
		}
	}
	return append(b, "\n"+findingPrefix+"}"...), nil
}

// findingFields is the number of Finding's fields appendFinding writes; a test
// fails when Finding gains one.
const findingFields = 19

// appendKey starts the member name of a finding after its first.
func appendKey(b []byte, name string) []byte {
	b = append(b, findingField+`"`...)
	b = append(b, name...)
	return append(b, `": `...)
}

func appendStringField(b []byte, name, s string) []byte {
	return appendString(appendKey(b, name), s)
}

func appendIntField(b []byte, name string, n int) []byte {
	return strconv.AppendInt(appendKey(b, name), int64(n), 10)
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
