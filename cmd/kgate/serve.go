package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/webhook"
	"github.com/kgate-dev/kgate/webhook/certs"
)

type serveFlags struct {
	host, certDir           string
	port                    int
	healthAddr, metricsAddr string
	policyDirs              []string
	paramsFile              string
	development             bool
	// Self-signed certificates, for clusters without cert-manager.
	selfSigned    bool
	webhookConfig string
	kubeconfig    string
	certOptions   certs.Options
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the policies as a mutating and a validating admission webhook",
		Long: `Serve the policies over HTTPS as admission webhooks (AdmissionReview v1):

  /mutate    applies the patches of mutate findings and records the rules in the
             kgate.dev/mutated annotation
  /validate  denies deny findings (HTTP 403, one message naming every rule, field
             and fix) and returns warn findings as warnings, which kubectl prints

The serving certificate and key are read from --cert-dir (tls.crt, tls.key) and
reloaded when they change, so rotated certificates need no restart. /healthz and
/readyz (ready once the policies are compiled and the server listens) are served
on --health-addr, Prometheus metrics on --metrics-addr. SIGTERM drains requests in
flight before exiting.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "", "address to serve the webhooks on (default: all)")
	fl.IntVar(&f.port, "port", 9443, "port to serve the webhooks on")
	fl.StringVar(&f.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "`DIR` holding tls.crt and tls.key")
	fl.StringVar(&f.healthAddr, "health-addr", ":8081", "address of /healthz and /readyz")
	fl.StringVar(&f.metricsAddr, "metrics-addr", ":8080", "address of /metrics (\"0\" disables it)")
	fl.StringArrayVar(&f.policyDirs, "policies", nil, "add the Rego policies of `DIR` (repeatable)")
	fl.StringVar(&f.paramsFile, "params", "", "YAML `FILE` of rule parameters overriding the defaults")
	fl.BoolVar(&f.development, "development", false, "human-readable console logs instead of JSON")
	fl.BoolVar(&f.selfSigned, "self-signed", false, "create (and renew) a CA and serving certificate in --cert-dir and write the CA into the webhook configurations, for clusters without cert-manager")
	fl.StringVar(&f.webhookConfig, "webhook-configuration", "kgate", "`NAME` of the mutating and validating webhook configurations --self-signed updates")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --self-signed (default: in-cluster, then $KUBECONFIG)")
	fl.StringVar(&f.certOptions.Service, "service", "kgate", "webhook Service name, for the certificate's DNS names")
	fl.StringVar(&f.certOptions.Namespace, "namespace", "kgate-system", "webhook Service namespace, for the certificate's DNS names")
	fl.StringArrayVar(&f.certOptions.Hosts, "cert-host", nil, "extra DNS name or IP address in the certificate (repeatable)")
	return cmd
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	// One zap logger, structured JSON unless --development, shared with
	// controller-runtime so its webhook logs look like ours.
	logger := ctrlzap.New(ctrlzap.UseDevMode(f.development), ctrlzap.WriteTo(cmd.ErrOrStderr()))
	ctrllog.SetLogger(logger)

	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	engine, err := newEngine(cmd, f.policyDirs, f.paramsFile)
	if err != nil {
		return err
	}
	logger.Info("policies compiled", "rules", len(engine.Rules()), "took", time.Since(start).String())

	if f.selfSigned {
		if err := selfSign(ctx, f, logger); err != nil {
			return err
		}
	}
	m, err := webhook.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	server := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: f.host, Port: f.port, CertDir: f.certDir})
	server.Register("/mutate", &admission.Webhook{Handler: &webhook.Mutator{Engine: engine, Metrics: m}})
	server.Register("/validate", &admission.Webhook{Handler: &webhook.Validator{Engine: engine, Metrics: m}})

	started := server.StartedChecker()
	health := http.NewServeMux()
	health.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	health.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := started(r); err != nil {
			http.Error(w, "webhook server not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Start(ctx) })
	g.Go(func() error { return serveHTTP(ctx, f.healthAddr, health) })
	if f.metricsAddr != "0" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		g.Go(func() error { return serveHTTP(ctx, f.metricsAddr, mux) })
	}
	logger.Info("serving admission webhooks", "host", f.host, "port", f.port, "certDir", f.certDir)
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// selfSign makes sure --cert-dir holds a current certificate, publishes its CA to
// the webhook configurations, and renews it in the background before it expires;
// the webhook server's certificate watcher picks renewed files up.
func selfSign(ctx context.Context, f *serveFlags, log logr.Logger) error {
	var cfg *rest.Config
	var err error
	if f.kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	} else {
		cfg, err = ctrlconfig.GetConfig()
	}
	if err != nil {
		return fmt.Errorf("--self-signed needs cluster access: %w", err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return fmt.Errorf("--self-signed: %w", err)
	}
	const renewBefore = 30 * 24 * time.Hour
	ensure := func() error {
		if certs.NeedsRenewal(f.certDir, renewBefore, time.Now()) {
			b, err := certs.Generate(f.certOptions)
			if err != nil {
				return err
			}
			if err := b.Write(f.certDir); err != nil {
				return err
			}
			log.Info("serving certificate created", "certDir", f.certDir, "notAfter", b.NotAfter)
		}
		ca, err := os.ReadFile(filepath.Join(f.certDir, certs.CAFile))
		if err != nil {
			return fmt.Errorf("read CA: %w", err)
		}
		return certs.InjectCABundle(ctx, c, f.webhookConfig, ca)
	}
	if err := ensure(); err != nil {
		return err
	}
	go func() {
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := ensure(); err != nil {
					log.Error(err, "renew serving certificate")
				}
			}
		}
	}()
	return nil
}

// serveHTTP serves plain HTTP until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}
