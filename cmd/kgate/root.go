package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitDeny  = 1
	exitUsage = 2
)

// exitError ends the process with code after the command printed its output.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kgate",
		Short: "Cost and networking policies for GenAI workloads on EKS",
		Long: `kgate checks Kubernetes objects against the cost and networking practices for GenAI
workloads on EKS (gp3 volumes, NLB ip targets, topology-aware routing, EFA for
multi-node training, single-AZ training node pools, default-deny ingress, ...).

The same policy engine runs offline on manifests (kgate check), and in the cluster as
an admission webhook.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newCheckCommand(), newPoliciesCommand(), newExplainCommand(), newConfigCommand(), newTestCommand(), newNewCommand(), newAuditCommand(), newServeCommand(), newCertsCommand())
	return root
}
