package defaultdeny

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func ns(name string, l map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

func TestReconcile(t *testing.T) {
	selected := map[string]string{"kgate.dev/genai": "true"}
	users := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny-ingress", Namespace: "owned"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "legacy"}}}}
	c := fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(
		ns("genai", selected), ns("owned", selected), ns("other", nil), ns("kube-system", selected), users).Build()
	scope := Scope{Selector: labels.SelectorFromSet(selected), Exempt: []string{"kube-system"}, Name: "default-deny-ingress"}
	r := &Reconciler{Client: c, Scope: func() Scope { return scope }}
	ctx := context.Background()
	get := func(namespace string) (*networkingv1.NetworkPolicy, bool) {
		var p networkingv1.NetworkPolicy
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "default-deny-ingress"}, &p)
		return &p, err == nil
	}
	for _, name := range []string{"genai", "owned", "other", "kube-system", "gone"} {
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}); err != nil {
			t.Fatalf("reconcile %s: %v", name, err)
		}
	}
	p, ok := get("genai")
	if !ok || p.Labels["app.kubernetes.io/managed-by"] != ManagedBy || len(p.Spec.PodSelector.MatchLabels) != 0 ||
		len(p.Spec.PolicyTypes) != 1 || p.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress || len(p.Spec.Ingress) != 0 {
		t.Errorf("genai: want a kgate-managed default-deny ingress policy, got %v %+v", ok, p)
	}
	if p, _ := get("owned"); p.Labels["app.kubernetes.io/managed-by"] == ManagedBy || p.Spec.PodSelector.MatchLabels["app"] != "legacy" {
		t.Errorf("owned: the team's policy must be left as it is, got %+v", p)
	}
	for _, name := range []string{"other", "kube-system"} {
		if _, ok := get(name); ok {
			t.Errorf("%s: no policy may be created outside the selector or in an exempt namespace", name)
		}
	}
	scope.Selector = nil // generation switched off
	if err := c.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "genai"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := get("genai"); ok {
		t.Error("with generation off a deleted policy must not be recreated")
	}
}
