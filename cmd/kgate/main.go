// Command kgate checks Kubernetes manifests against kgate's policies and serves
// them as an admission webhook. This package only wires flags, output streams and
// exit codes; the work happens in the policies and webhook packages.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	cmd := newRootCommand(os.Stdin, os.Stdout, os.Stderr)
	err := cmd.Execute()
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "kgate:", err)
		os.Exit(exitUsage)
	}
}
