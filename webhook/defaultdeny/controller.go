// Package defaultdeny creates the default-deny ingress NetworkPolicy NETPOL-001
// asks for in every in-scope namespace, when the configuration switches
// generation on. It recreates a policy it created if that policy is deleted, and
// never changes or deletes a policy it did not create.
package defaultdeny

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// ManagedBy marks the policies the generator created; only those are its own.
const ManagedBy = "kgate"

// Scope is the generator's configuration at the moment of a reconcile.
type Scope struct {
	// Selector matches the namespaces that get the policy; nil switches
	// generation off.
	Selector labels.Selector
	// Exempt lists namespaces that never get one (exemptNamespaces).
	Exempt []string
	// Name is the policy's name (NETPOL-001's defaultDenyName).
	Name string
}

// Reconciler makes sure each in-scope namespace has the policy.
type Reconciler struct {
	Client client.Client
	// Scope returns the configuration in force (it changes on reload).
	Scope func() Scope
}

// SetupWithManager registers the controller: it reconciles a namespace when the
// namespace or one of its NetworkPolicies changes, and every namespace when
// resync receives (after a configuration reload).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, resync <-chan event.GenericEvent) error {
	byNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.GetNamespace()}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("default-deny-ingress").
		For(&corev1.Namespace{}).
		Watches(&networkingv1.NetworkPolicy{}, byNamespace).
		WatchesRawSource(source.Channel(resync, &handler.EnqueueRequestForObject{})).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler for one namespace.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	scope := r.Scope()
	if scope.Selector == nil || slices.Contains(scope.Exempt, req.Name) {
		return reconcile.Result{}, nil
	}
	var ns corev1.Namespace
	if err := r.Client.Get(ctx, req.NamespacedName, &ns); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if ns.DeletionTimestamp != nil || !scope.Selector.Matches(labels.Set(ns.Labels)) {
		return reconcile.Result{}, nil
	}
	var existing networkingv1.NetworkPolicy
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: scope.Name}, &existing)
	if err == nil || !apierrors.IsNotFound(err) {
		// Present (ours or the user's, which we leave as it is) or unreadable.
		return reconcile.Result{}, err
	}
	policy := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Name: scope.Name, Namespace: ns.Name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": ManagedBy},
			Annotations: map[string]string{
				"kgate.dev/generated-by": "NETPOL-001: kgate creates this policy while generation is on; allow flows with separate policies",
			},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if err := r.Client.Create(ctx, policy); err != nil && !apierrors.IsAlreadyExists(err) {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("created default-deny ingress NetworkPolicy", "namespace", ns.Name, "name", scope.Name)
	return reconcile.Result{}, nil
}
