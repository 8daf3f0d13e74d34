package main

import (
	"context"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/webhook"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/kgate-dev/kgate/webhook/defaultdeny"
	"github.com/kgate-dev/kgate/webhook/inventory"
	"github.com/kgate-dev/kgate/webhook/reload"
)

// addReloader watches the policy directories, the configuration and the
// parameters file, and swaps in a new engine when they change.
func addReloader(mgr ctrl.Manager, f *serveFlags, engines *webhook.Swappable, inv *inventory.Cache, auditNow chan<- struct{}, resync chan<- event.GenericEvent, log logr.Logger) error {
	paths := append([]string{}, f.engine.policyDirs...)
	for _, file := range []string{f.engine.configFile, f.engine.paramsFile} {
		if file != "" {
			paths = append(paths, file)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	rm, err := reload.NewMetrics(metrics.Registry)
	if err != nil {
		return err
	}
	events := mgr.GetEventRecorder("kgate")
	about := eventSubject(f.webhookConfig)
	r := &reload.Reloader{
		Paths: paths, Target: engines, Interval: f.reloadInterval, Log: log.WithName("reload"), Metrics: rm,
		Load: func(ctx context.Context) (*policies.Engine, error) {
			c := &cobra.Command{}
			c.SetContext(ctx)
			e, err := f.engine.build(c)
			if err != nil {
				return nil, err
			}
			// A reloaded engine starts with the cluster's current objects. Kinds a
			// new rule adds to the inventory are watched after a restart.
			return e, inv.ApplyTo(ctx, e)
		},
		// A new configuration changes verdicts: audit again at once.
		OnReload: func(*policies.Engine) {
			select {
			case auditNow <- struct{}{}:
			default:
			}
			// Generation may have been switched on or rescoped: look at every
			// namespace again.
			go resyncNamespaces(mgr.GetClient(), resync, log)
		},
		OnFailure: func(err error) {
			events.Eventf(about, nil, corev1.EventTypeWarning, "PolicyReloadFailed", "Reload",
				"kgate kept its previous policies: %s", truncate(err.Error(), 900))
		},
	}
	return mgr.Add(r)
}

// eventSubject is the object reload Events are about: kgate's own Pod when the
// downward API names it (POD_NAME, POD_NAMESPACE), else the webhook configuration.
func eventSubject(webhookConfig string) runtime.Object {
	if name, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE"); name != "" && ns != "" {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: webhookConfig}}
}

// namespaceLookup reads namespaces from the manager's cache (one informer, started
// on first use). A lookup that fails or takes too long yields nil, and the request
// is evaluated with the namespace name only, rather than timing out.
func namespaceLookup(c client.Reader) webhook.NamespaceLookup {
	return func(ctx context.Context, name string) *policies.Namespace {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var ns corev1.Namespace
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &ns); err != nil {
			return nil
		}
		return &policies.Namespace{Name: name, Labels: ns.Labels, Annotations: ns.Annotations}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// addDefaultDeny runs the default-deny NetworkPolicy generator; the configuration
// file decides, at each reconcile, whether it is on and which namespaces it covers.
func addDefaultDeny(mgr ctrl.Manager, f *serveFlags, engines *webhook.Swappable, resync <-chan event.GenericEvent) error {
	r := &defaultdeny.Reconciler{Client: mgr.GetClient(), Scope: func() defaultdeny.Scope {
		c := f.engine.applied.Load()
		if c == nil {
			return defaultdeny.Scope{}
		}
		sel, err := c.DefaultDenySelector()
		if err != nil || sel == nil {
			return defaultdeny.Scope{}
		}
		params := engines.Engine().Params()
		name, _ := params["defaultDenyName"].(string)
		if name == "" {
			name = "default-deny-ingress"
		}
		var exempt []string
		if list, ok := params["exemptNamespaces"].([]any); ok {
			for _, n := range list {
				if s, ok := n.(string); ok {
					exempt = append(exempt, s)
				}
			}
		}
		return defaultdeny.Scope{Selector: sel, Exempt: exempt, Name: name}
	}}
	return r.SetupWithManager(mgr, resync)
}

func resyncNamespaces(c client.Client, resync chan<- event.GenericEvent, log logr.Logger) {
	var list corev1.NamespaceList
	if err := c.List(context.Background(), &list); err != nil {
		log.Error(err, "list namespaces for the default-deny generator")
		return
	}
	for i := range list.Items {
		resync <- event.GenericEvent{Object: &list.Items[i]}
	}
}
