package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/policies"
)

var engine *policies.Engine

func testEngine(t testing.TB) *policies.Engine {
	if engine == nil {
		e, err := policies.New(context.Background(), policies.Options{})
		if err != nil {
			t.Fatal(err)
		}
		engine = e
	}
	return engine
}

func request(op admissionv1.Operation, group, version, kind, ns, name, object, old string) admission.Request {
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "1",
		Kind:      metav1.GroupVersionKind{Group: group, Version: version, Kind: kind},
		Operation: op,
		Namespace: ns,
		Name:      name,
		Object:    runtime.RawExtension{Raw: []byte(object)},
		OldObject: runtime.RawExtension{Raw: []byte(old)},
	}}
}

const gp2Class = `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"ebs-gp2"},"provisioner":"ebs.csi.aws.com","parameters":{"type":"gp2","encrypted":"true"},"volumeBindingMode":"WaitForFirstConsumer","allowVolumeExpansion":true}`

const lbService = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"llama","namespace":"genai","annotations":{"service.beta.kubernetes.io/aws-load-balancer-type":"external"}},"spec":{"type":"LoadBalancer","selector":{"app":"llama"},"ports":[{"port":80}],"trafficDistribution":"PreferSameZone"}}`

const multiZonePool = `{"apiVersion":"karpenter.sh/v1","kind":"NodePool","metadata":{"name":"training-p5","labels":{"kgate.dev/pool-type":"training"}},"spec":{"template":{"spec":{"nodeClassRef":{"group":"karpenter.k8s.aws","kind":"EC2NodeClass","name":"p5"},"requirements":[{"key":"karpenter.k8s.aws/instance-family","operator":"In","values":["p5"]},{"key":"topology.kubernetes.io/zone","operator":"In","values":["us-west-2a","us-west-2b","us-west-2c"]}]}}}}`

func applyResponse(t *testing.T, original string, resp admission.Response) map[string]any {
	t.Helper()
	raw, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply([]byte(original))
	if err != nil {
		t.Fatalf("patch does not apply: %v\n%s", err, raw)
	}
	var obj map[string]any
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestMutator(t *testing.T) {
	m := &Mutator{Sources{Engines: Fixed{testEngine(t)}}}
	tests := []struct {
		name    string
		req     admission.Request
		check   func(t *testing.T, obj map[string]any)
		mutated string
	}{
		{
			name: "gp2 StorageClass becomes gp3",
			req:  request(admissionv1.Create, "storage.k8s.io", "v1", "StorageClass", "", "ebs-gp2", gp2Class, ""),
			check: func(t *testing.T, obj map[string]any) {
				if got := obj["parameters"].(map[string]any)["type"]; got != "gp3" {
					t.Errorf("type = %v, want gp3", got)
				}
			},
			mutated: "STORAGE-001",
		},
		{
			name: "external NLB Service gets ip targets",
			req:  request(admissionv1.Create, "", "v1", "Service", "genai", "llama", lbService, ""),
			check: func(t *testing.T, obj map[string]any) {
				ann := obj["metadata"].(map[string]any)["annotations"].(map[string]any)
				if ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] != "ip" {
					t.Errorf("annotations = %v", ann)
				}
			},
			mutated: "NET-001",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := m.Handle(context.Background(), tc.req)
			if !resp.Allowed || len(resp.Patches) == 0 {
				t.Fatalf("want an allowed response with patches, got %+v", resp)
			}
			obj := applyResponse(t, string(tc.req.Object.Raw), resp)
			tc.check(t, obj)
			ann := obj["metadata"].(map[string]any)["annotations"].(map[string]any)
			if ann[MutatedAnnotation] != tc.mutated {
				t.Errorf("%s = %v, want %s", MutatedAnnotation, ann[MutatedAnnotation], tc.mutated)
			}
			// Reinvocation on the patched object changes nothing.
			again, _ := json.Marshal(obj)
			req := tc.req
			req.Object.Raw = again
			if resp := m.Handle(context.Background(), req); !resp.Allowed || len(resp.Patches) != 0 {
				t.Errorf("second pass must not patch, got %+v", resp.Patches)
			}
		})
	}
}

func TestValidator(t *testing.T) {
	v := &Validator{Sources{Engines: Fixed{testEngine(t)}}}
	deny := v.Handle(context.Background(), request(admissionv1.Create, "karpenter.sh", "v1", "NodePool", "", "training-p5", multiZonePool, ""))
	if deny.Allowed || deny.Result.Code != http.StatusForbidden {
		t.Fatalf("multi-zone training pool: want 403, got %+v", deny.Result)
	}
	msg := deny.Result.Message
	for _, want := range []string{"TOPO-002", "/spec/template/spec/requirements/1", "fix: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("denial %q does not contain %q", msg, want)
		}
	}
	if !strings.HasPrefix(msg, "TOPO-002") {
		t.Errorf("denial must start with the rule ID: %q", msg)
	}

	// A mutate finding that reaches the validating webhook was not fixed: warn.
	warn := v.Handle(context.Background(), request(admissionv1.Create, "storage.k8s.io", "v1", "StorageClass", "", "ebs-gp2", gp2Class, ""))
	if !warn.Allowed || len(warn.Warnings) != 1 || !strings.HasPrefix(warn.Warnings[0], "STORAGE-001") {
		t.Errorf("gp2 class without mutation: want one STORAGE-001 warning, got %+v", warn)
	}

	// Deleting the namespace's default deny is denied (NETPOL-001).
	np := `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"default-deny-ingress","namespace":"genai"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`
	del := v.Handle(context.Background(), request(admissionv1.Delete, "networking.k8s.io", "v1", "NetworkPolicy", "genai", "default-deny-ingress", "", np))
	if del.Allowed || !strings.HasPrefix(del.Result.Message, "NETPOL-001") {
		t.Errorf("delete of the default deny: want a NETPOL-001 denial, got %+v", del.Result)
	}

	bad := v.Handle(context.Background(), request(admissionv1.Create, "", "v1", "Service", "genai", "x", `[1,2]`, ""))
	if bad.Allowed || bad.Result.Code != http.StatusBadRequest {
		t.Errorf("a non-object must be a 400, got %+v", bad.Result)
	}
}

// FuzzAdmissionReview sends arbitrary bodies through controller-runtime's HTTP
// decoding, and NewHTTPHandler's, into both handlers: no input may crash them, and every answer is an
// AdmissionReview or an HTTP error. Minimizing each new input takes up to a
// minute by default, during which the fuzzer reports no executions; run it with
// go test -run '^$' -fuzz FuzzAdmissionReview -fuzztime 1m -fuzzminimizetime 2s ./webhook/
func FuzzAdmissionReview(f *testing.F) {
	seed := func(obj string, kind string) []byte {
		b, _ := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Kind: kind, Version: "v1"},
				Operation: admissionv1.Create, Namespace: "genai", Object: runtime.RawExtension{Raw: []byte(obj)}},
		})
		return b
	}
	f.Add(seed(lbService, "Service"))
	f.Add(seed(gp2Class, "StorageClass"))
	f.Add(seed(multiZonePool, "NodePool"))
	f.Add(seed(`{"kind":"Pod","spec":{"containers":[{"name":"x","resources":{"limits":{"nvidia.com/gpu":"8"}}}]}}`, "Pod"))
	f.Add([]byte(`{"request":null}`))
	f.Add([]byte(`not json`))
	e := testEngine(f)
	mutator, validator := &Mutator{Sources{Engines: Fixed{e}}}, &Validator{Sources{Engines: Fixed{e}}}
	hooks := []http.Handler{&admission.Webhook{Handler: mutator}, &admission.Webhook{Handler: validator},
		NewHTTPHandler(mutator), NewHTTPHandler(validator)}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, h := range hooks {
			req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == http.StatusOK {
				var review admissionv1.AdmissionReview
				if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil {
					t.Fatalf("200 without an AdmissionReview response: %s", rec.Body.String())
				}
			}
		}
	})
}
