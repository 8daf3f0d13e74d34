package check

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kgate-dev/kgate/policies/report"
)

// input is one file's or standard input's content.
type input struct {
	name string
	data []byte
}

// collect reads every input; unreadable paths become report errors so that the
// other inputs are still checked.
func collect(opts Options) ([]input, []report.Error) {
	var inputs []input
	var errs []report.Error
	fail := func(path string, err error) {
		errs = append(errs, report.Error{File: path, Message: err.Error()})
	}
	for _, p := range opts.Paths {
		if p == "-" {
			if opts.Stdin == nil {
				fail(StdinName, fmt.Errorf("no standard input"))
				continue
			}
			b, err := io.ReadAll(opts.Stdin)
			if err != nil {
				fail(StdinName, fmt.Errorf("read standard input: %w", err))
				continue
			}
			inputs = append(inputs, input{name: StdinName, data: b})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			fail(p, fmt.Errorf("cannot read: %w", unwrapPathError(err)))
			continue
		}
		var paths []string
		if st.IsDir() {
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					fail(path, unwrapPathError(err))
					return nil
				}
				if !d.IsDir() && manifestExt(path) {
					paths = append(paths, path)
				}
				return nil
			})
			if err != nil {
				fail(p, err)
			}
			sort.Strings(paths)
		} else {
			paths = []string{p}
		}
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				fail(path, fmt.Errorf("cannot read: %w", unwrapPathError(err)))
				continue
			}
			inputs = append(inputs, input{name: path, data: b})
		}
	}
	return inputs, errs
}

func manifestExt(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
