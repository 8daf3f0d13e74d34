package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// WriteJSON writes the report in the documented JSON contract, indented by two
// spaces. Its bytes are those of encoding/json's indenting Encoder, but findings
// and passes are encoded on every CPU (for a large repository encoding was a
// tenth of a `kgate check` run, all of it on one core after the checking ended),
// and findings without reflection (see appendFinding).
func WriteJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"findings\": ")
	if err := writeArray(bw, r.Findings, appendFinding); err != nil {
		return fmt.Errorf("encode findings: %w", err)
	}
	bw.WriteString(",\n  \"errors\": ")
	if err := writeArray(bw, r.Errors, marshalElement[Error]); err != nil {
		return fmt.Errorf("encode errors: %w", err)
	}
	if len(r.Passes) > 0 {
		bw.WriteString(",\n  \"passes\": ")
		if err := writeArray(bw, r.Passes, marshalElement[Pass]); err != nil {
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

// arrayChunk is how many items one CPU encodes at a time. Chunks are written as
// soon as a round of them is encoded, so the report's bytes are never all in
// memory: whole, they were the peak of a large `kgate check -o json` run.
const arrayChunk = 256

// writeArray writes items as a member value at depth one of the report object,
// each encoded by enc, a round of chunks at a time on every CPU; like
// encoding/json, a nil slice as null (Finish makes the contract's arrays non-nil).
func writeArray[T any](w *bufio.Writer, items []T, enc func([]byte, *T) ([]byte, error)) error {
	if items == nil {
		_, err := w.WriteString("null")
		return err
	}
	if len(items) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	const prefix = "\n    "
	chunks := (len(items) + arrayChunk - 1) / arrayChunk
	bufs := make([][]byte, min(runtime.GOMAXPROCS(0), chunks))
	errs := make([]error, len(bufs))
	w.WriteByte('[')
	for first := 0; first < chunks; first += len(bufs) {
		round := min(len(bufs), chunks-first)
		var wg sync.WaitGroup
		for c := range round {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bufs[c][:0]
				lo := (first + c) * arrayChunk
				for i := lo; i < min(lo+arrayChunk, len(items)); i++ {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, prefix...)
					var err error
					if b, err = enc(b, &items[i]); err != nil {
						errs[c] = err
						return
					}
				}
				bufs[c] = b
			}()
		}
		wg.Wait()
		for c := range round {
			if errs[c] != nil {
				return errs[c]
			}
			w.Write(bufs[c])
		}
	}
	_, err := w.WriteString("\n  ]")
	return err
}

// marshalElement appends v as an element of a report array (depth two), through
// encoding/json.
func marshalElement[T any](b []byte, v *T) ([]byte, error) {
	q, err := json.MarshalIndent(v, findingPrefix, findingIndent)
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}
