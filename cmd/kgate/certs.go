package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kgate-dev/kgate/webhook/certs"
)

func newCertsCommand() *cobra.Command {
	var (
		o           certs.Options
		dir         string
		renewBefore time.Duration
	)
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create a CA and a serving certificate for the webhook (when cert-manager is not installed)",
		Long: `Create a private CA and a serving certificate for the webhook Service's DNS names
(SERVICE.NAMESPACE.svc and SERVICE.NAMESPACE.svc.cluster.local, plus --host) and write
tls.crt, tls.key and ca.crt into --cert-dir, where kgate serve reads them.

It prints the base64 CA bundle to put into the caBundle of kgate's webhook
configurations. An existing certificate is kept unless it expires within
--renew-before, so the command can run at every start; kgate serve reloads a
renewed certificate without a restart.`,
		Example: `  kgate certs --cert-dir /tmp/kgate-certs --host 127.0.0.1`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if !certs.NeedsRenewal(dir, renewBefore, time.Now()) {
				ca, err := os.ReadFile(filepath.Join(dir, certs.CAFile))
				if err != nil {
					return fmt.Errorf("certificate in %s is current but its CA is unreadable: %w", dir, err)
				}
				fmt.Fprintln(out, base64.StdEncoding.EncodeToString(ca))
				return nil
			}
			b, err := certs.Generate(o)
			if err != nil {
				return err
			}
			if err := b.Write(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s, %s and %s to %s (serving certificate valid until %s)\n",
				certs.CertFile, certs.KeyFile, certs.CAFile, dir, b.NotAfter.Format(time.RFC3339))
			fmt.Fprintln(out, base64.StdEncoding.EncodeToString(b.CA))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "`DIR` to write tls.crt, tls.key and ca.crt to")
	fl.StringVar(&o.Service, "service", "kgate", "name of the webhook Service")
	fl.StringVar(&o.Namespace, "namespace", "kgate-system", "namespace of the webhook Service")
	fl.StringArrayVar(&o.Hosts, "host", nil, "extra DNS name or IP address (repeatable)")
	fl.DurationVar(&o.Validity, "validity", 90*24*time.Hour, "lifetime of the serving certificate")
	fl.DurationVar(&renewBefore, "renew-before", 30*24*time.Hour, "replace a certificate that expires within this window")
	return cmd
}
