package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/webhook"
)

// reviewMix is the body of an AdmissionReview for a Deployment, a Service and a
// StorageClass, the mix the load benchmark sends in turn.
func reviewMix() [][]byte {
	objs := []struct{ group, kind, ns, obj string }{
		{"apps", "Deployment", "genai", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"rag","namespace":"genai"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"rag"}},"template":{"metadata":{"labels":{"app":"rag"}},"spec":{"containers":[{"name":"api","image":"rag:1.0","resources":{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"memory":"1Gi"}}}]}}}}`},
		{"", "Service", "genai", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"llama","namespace":"genai","annotations":{"service.beta.kubernetes.io/aws-load-balancer-type":"external"}},"spec":{"type":"LoadBalancer","selector":{"app":"llama"},"ports":[{"port":80}]}}`},
		{"storage.k8s.io", "StorageClass", "", `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"ebs-gp2"},"provisioner":"ebs.csi.aws.com","parameters":{"type":"gp2"}}`},
	}
	var out [][]byte
	for i, o := range objs {
		b, _ := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprint("u", i)), Kind: metav1.GroupVersionKind{Group: o.group, Version: "v1", Kind: o.kind},
				Operation: admissionv1.Create, Namespace: o.ns, Name: "x", Object: runtime.RawExtension{Raw: []byte(o.obj)}},
		})
		out = append(out, b)
	}
	return out
}

// BenchmarkWebhookLoad drives the validating webhook over HTTPS on loopback with
// 64 concurrent connections sending a Deployment/Service/StorageClass mix, and
// reports reviews per second and the p50/p99 latency.
func BenchmarkWebhookLoad(b *testing.B) {
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/validate", &admission.Webhook{Handler: &webhook.Validator{Sources: webhook.Sources{Engines: webhook.Fixed{E: e}}}})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	const conns = 64
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server
		MaxIdleConnsPerHost: conns,
	}}
	bodies := reviewMix()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errors    int
	)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for i := range next {
				t0 := time.Now()
				resp, err := client.Post(srv.URL+"/validate", "application/json", bytes.NewReader(bodies[i%len(bodies)]))
				if err == nil {
					var review admissionv1.AdmissionReview
					err = json.NewDecoder(resp.Body).Decode(&review)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != http.StatusOK || review.Response == nil) {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					errors++
					mu.Unlock()
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	for i := 0; i < b.N; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reviews/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(errors), "errors")
}
