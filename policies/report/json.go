package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// WriteJSON writes the report in the documented JSON contract, indented by two
// spaces. Its bytes are those of encoding/json's indenting Encoder, but findings
// and passes are encoded on every CPU: for a large repository encoding was a
// tenth of a `kgate check` run, all of it on one core after the checking ended.
func WriteJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"findings\": ")
	if err := writeArray(bw, r.Findings); err != nil {
		return fmt.Errorf("encode findings: %w", err)
	}
	bw.WriteString(",\n  \"errors\": ")
	if err := writeArray(bw, r.Errors); err != nil {
		return fmt.Errorf("encode errors: %w", err)
	}
	if len(r.Passes) > 0 {
		bw.WriteString(",\n  \"passes\": ")
		if err := writeArray(bw, r.Passes); err != nil {
			return fmt.Errorf("encode passes: %w", err)
		}
	}
	bw.WriteString(",\n  \"summary\": ")
	b, err := json.MarshalIndent(r.Summary, "  ", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	bw.Write(b)
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeArray writes items as a member value at depth one of the report object;
// like encoding/json, a nil slice as null (Finish makes the contract's arrays
// non-nil).
func writeArray[T any](w *bufio.Writer, items []T) error {
	if items == nil {
		_, err := w.WriteString("null")
		return err
	}
	if len(items) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	const prefix = "\n    "
	parts := make([]bytes.Buffer, min(runtime.GOMAXPROCS(0), len(items)))
	errs := make([]error, len(parts))
	per := (len(items) + len(parts) - 1) / len(parts)
	var wg sync.WaitGroup
	for c := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c * per; i < min((c+1)*per, len(items)); i++ {
				b, err := json.MarshalIndent(items[i], "    ", "  ")
				if err != nil {
					errs[c] = err
					return
				}
				if i > 0 {
					parts[c].WriteByte(',')
				}
				parts[c].WriteString(prefix)
				parts[c].Write(b)
			}
		}()
	}
	wg.Wait()
	w.WriteByte('[')
	for c := range parts {
		if errs[c] != nil {
			return errs[c]
		}
		w.Write(parts[c].Bytes())
	}
	_, err := w.WriteString("\n  ]")
	return err
}
