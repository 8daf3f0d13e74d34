package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kgate-dev/kgate/policies"
)

// fakeState serves a stale inventory until Recheck installs the live one.
type fakeState struct {
	e        *policies.Engine
	live     *policies.Inventory
	rechecks [][]string
}

func (s *fakeState) Fresh(context.Context) {}

func (s *fakeState) Recheck(ctx context.Context, ns string, kinds []string) error {
	s.rechecks = append(s.rechecks, append([]string{ns}, kinds...))
	return s.e.SetInventory(ctx, s.live)
}

func (s *fakeState) Age() time.Duration { return 1500 * time.Millisecond }

const defaultDeny = `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny-ingress","namespace":"genai"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`

// A deny that depends on cached state is re-checked against the cluster before
// it is returned: deleting the namespace's default-deny policy is denied by
// NETPOL-001 on the stale cache, but the live state holds a second default-deny
// policy, so the delete is allowed.
func TestReferentialDenyIsRechecked(t *testing.T) {
	ctx := context.Background()
	e, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetInventory(ctx, policies.NewInventory()); err != nil {
		t.Fatal(err)
	}
	live := policies.NewInventory()
	other := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "deny-all", "namespace": "genai"},
		"spec":     map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}}
	live.Add("NetworkPolicy", "genai", "deny-all", other)
	state := &fakeState{e: e, live: live}
	v := &Validator{Sources{Engines: Fixed{e}, State: state}}
	req := request(admissionv1.Delete, "networking.k8s.io", "v1", "NetworkPolicy", "genai", "default-deny-ingress", "", defaultDeny)

	stale := (&Validator{Sources{Engines: Fixed{e}}}).Handle(ctx, req)
	if stale.Allowed || !strings.Contains(stale.Result.Message, "NETPOL-001") {
		t.Fatalf("without re-check the stale cache must deny the delete, got %+v", stale.Result)
	}
	resp := v.Handle(ctx, req)
	if !resp.Allowed {
		t.Errorf("the live state has another default-deny policy: the delete must be allowed, got %s", resp.Result.Message)
	}
	if len(state.rechecks) != 1 || state.rechecks[0][0] != "genai" || !strings.Contains(strings.Join(state.rechecks[0], ","), "NetworkPolicy") {
		t.Errorf("re-checks = %v, want one of namespace genai reading NetworkPolicy", state.rechecks)
	}

	// With the live state confirming the deny, it stands and tells its age.
	if err := e.SetInventory(ctx, policies.NewInventory()); err != nil {
		t.Fatal(err)
	}
	state.live = policies.NewInventory()
	resp = v.Handle(ctx, req)
	if resp.Allowed || !strings.Contains(resp.Result.Message, "cluster state read 1.5s ago") {
		t.Errorf("a confirmed deny must stand and tell the state's age, got allowed=%v %q", resp.Allowed, resp.Result.Message)
	}
}
