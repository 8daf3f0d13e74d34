package main

import (
	"context"
	"fmt"
	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/kgate-dev/kgate/policies/audit"
	"github.com/kgate-dev/kgate/webhook"
	"github.com/kgate-dev/kgate/webhook/certs"
	"github.com/kgate-dev/kgate/webhook/inventory"
)

type serveFlags struct {
	host, certDir           string
	port                    int
	healthAddr, metricsAddr string
	engine                  engineFlags
	reloadInterval          time.Duration
	auditInterval           time.Duration
	auditMaxResults         int
	leaderElect             bool
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
flight before exiting.

--policies directories and the --config file are watched: a change is compiled
and validated, then swapped in without a restart. A broken change is logged with
file:line, counted in kgate_policy_reloads_total{result="failure"} and reported as
a Kubernetes Event, and the last good policies stay in force.

Memory: unless GOGC or GOMEMLIMIT is set, garbage is collected when the heap
reaches 32 MiB, or twice the live heap when that is more, instead of every
time it doubles: the live heap of a webhook is small and its garbage comes
with every review.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "", "address to serve the webhooks on (default: all)")
	fl.IntVar(&f.port, "port", 9443, "port to serve the webhooks on")
	fl.StringVar(&f.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "`DIR` holding tls.crt and tls.key")
	fl.StringVar(&f.healthAddr, "health-addr", ":8081", "address of /healthz and /readyz")
	fl.StringVar(&f.metricsAddr, "metrics-addr", ":8080", "address of /metrics (\"0\" disables it)")
	f.engine.register(fl, true)
	fl.DurationVar(&f.reloadInterval, "reload-interval", 2*time.Second, "how often the --policies directories and the --config file are checked for changes")
	fl.BoolVar(&f.development, "development", false, "human-readable console logs instead of JSON")
	fl.BoolVar(&f.selfSigned, "self-signed", false, "create (and renew) a CA and serving certificate in --cert-dir and write the CA into the webhook configurations, for clusters without cert-manager")
	fl.StringVar(&f.webhookConfig, "webhook-configuration", "kgate", "`NAME` of the mutating and validating webhook configurations --self-signed updates")
	fl.DurationVar(&f.auditInterval, "audit-interval", 10*time.Minute, "audit the cluster this often (and after each configuration change) and write OpenReports Reports; 0 disables the in-cluster audit")
	fl.IntVar(&f.auditMaxResults, "audit-max-results", 100, "most results kept in one Report (the summary counts all of them), so reports stay small however large the cluster is")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader among replicas (a Lease in the Pod's namespace, else --namespace) so that one replica audits and generates policies; every replica serves the webhooks")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` of the cluster (default: in-cluster, then $KUBECONFIG)")
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
	engine, err := f.engine.build(cmd)
	if err != nil {
		return err
	}
	logger.Info("policies compiled", "rules", len(engine.Rules()), "took", time.Since(start).String())
	// Compiling and planning the policies leaves tens of MiB of garbage the
	// runtime would keep mapped for a long time; a webhook runs for weeks, so
	// hand it back now rather than carry it in the pod's RSS.
	debug.FreeOSMemory()
	webhook.SetHeapFloor(webhook.ServeHeapFloor)
	engines := webhook.NewSwappable(engine)

	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	if f.selfSigned {
		if err := selfSign(ctx, cfg, f, logger); err != nil {
			return err
		}
	}
	m, err := webhook.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	server := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: f.host, Port: f.port, CertDir: f.certDir})

	// The manager runs the webhook server, the health probes and the metrics
	// endpoint, and stops them in order on SIGTERM, draining requests in flight.
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := openreports.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Logger:                  logger,
		WebhookServer:           server,
		HealthProbeBindAddress:  f.healthAddr,
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "kgate-audit.kgate.dev",
		LeaderElectionNamespace: leaderElectionNamespace(f),
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	inv := &inventory.Cache{Config: cfg, Kinds: engine.InventoryKinds(), Engine: engines.Engine, Log: logger.WithName("inventory")}
	if err := mgr.Add(inv); err != nil {
		return err
	}
	auditNow := make(chan struct{}, 1)
	resync := make(chan event.GenericEvent, 64)
	if err := addReloader(mgr, f, engines, inv, auditNow, resync, logger); err != nil {
		return err
	}
	if err := addDefaultDeny(mgr, f, engines, resync); err != nil {
		return err
	}
	if f.auditInterval > 0 {
		am, err := audit.NewMetrics(metrics.Registry)
		if err != nil {
			return err
		}
		if err := mgr.Add(&audit.Periodic{Config: cfg, Client: mgr.GetClient(), Engine: engines.Engine, Interval: f.auditInterval,
			MaxResults: f.auditMaxResults, Log: logger.WithName("audit"), Metrics: am, Trigger: auditNow}); err != nil {
			return err
		}
	}
	ns := namespaceLookup(mgr.GetClient())
	// GetWebhookServer also hands the server to the manager to start.
	sources := webhook.Sources{Engines: engines, Namespaces: ns, State: inv, Metrics: m}
	mgr.GetWebhookServer().Register("/mutate", webhook.NewHTTPHandler(&webhook.Mutator{Sources: sources}))
	mgr.GetWebhookServer().Register("/validate", webhook.NewHTTPHandler(&webhook.Validator{Sources: sources}))
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	// Ready once the policies are compiled (done above) and the webhook server
	// serves with its certificate.
	if err := mgr.AddReadyzCheck("webhook", server.StartedChecker()); err != nil {
		return err
	}
	// Referential rules must not judge against an empty cluster.
	if err := mgr.AddReadyzCheck("inventory", inv.Synced); err != nil {
		return err
	}
	logger.Info("serving admission webhooks", "host", f.host, "port", f.port, "certDir", f.certDir)
	if err := mgr.Start(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// restConfig finds the cluster kgate serves: --kubeconfig, else in-cluster, else
// $KUBECONFIG or ~/.kube/config.
func restConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = ctrlconfig.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kgate serve needs access to its cluster (in-cluster, $KUBECONFIG or --kubeconfig): %w", err)
	}
	return cfg, nil
}

// selfSign makes sure --cert-dir holds a current certificate, publishes its CA to
// the webhook configurations, and renews it in the background before it expires;
// the webhook server's certificate watcher picks renewed files up.
func selfSign(ctx context.Context, cfg *rest.Config, f *serveFlags, log logr.Logger) error {
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

// leaderElectionNamespace is kgate's own namespace: the Pod's (downward API), else
// --namespace.
func leaderElectionNamespace(f *serveFlags) string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return f.certOptions.Namespace
}
