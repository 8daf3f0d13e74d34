package policies

import (
	"context"
	"strings"
	"testing"
)

// TestSetInventory checks that rules see the objects of the inventory, in
// namespaces and at cluster scope, that the Inventory keeps its objects as given,
// and that an object with no JSON form is refused with its name.
func TestSetInventory(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{})
	deny := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "default-deny-ingress", "namespace": "genai"},
		"spec":     map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}}
	deployment := &Input{Operation: "CREATE", Kind: GVK{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "genai", Name: "rag-app", Object: benchDeployment}
	netpol001 := func() bool {
		t.Helper()
		d, err := e.Evaluate(ctx, deployment)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range d.Findings {
			if f.RuleID == "NETPOL-001" {
				return true
			}
		}
		return false
	}

	inv := NewInventory()
	inv.Add("StorageClass", "", "gp3", map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "gp3"}})
	if err := e.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if !netpol001() {
		t.Error("NETPOL-001 not reported without a default-deny policy in the inventory")
	}
	inv.Add("NetworkPolicy", "genai", "default-deny-ingress", deny)
	if err := e.SetInventory(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if netpol001() {
		t.Error("NETPOL-001 reported although the inventory holds a default-deny policy")
	}
	if _, ok := inv.Namespaced["genai"]["NetworkPolicy"]["default-deny-ingress"].(map[string]any); !ok {
		t.Errorf("SetInventory changed the Inventory's object to %T", inv.Namespaced["genai"]["NetworkPolicy"]["default-deny-ingress"])
	}

	inv.Add("ConfigMap", "genai", "broken", map[string]any{"data": make(chan int)})
	err := e.SetInventory(ctx, inv)
	if err == nil || !strings.Contains(err.Error(), "ConfigMap genai/broken") {
		t.Errorf("SetInventory with an object that has no JSON form: got %v, want an error naming it", err)
	}
}
