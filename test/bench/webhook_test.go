package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// webhookConns is the number of concurrent connections the webhook benchmarks
// keep open, as the target states it.
const webhookConns = 64

// rateEnv overrides the open-loop arrival rate, in reviews per second.
const rateEnv = "KGATE_BENCH_RATE"

// defaultRate is the open-loop arrival rate the latency target is set
// for, in reviews per second.
const defaultRate = 3000

// reviewMix is an AdmissionReview for a Deployment, a Service and a
// StorageClass, the mix the load benchmarks send in turn.
func reviewMix() []review {
	objs := []struct{ group, kind, ns, obj string }{
		{"apps", "Deployment", "genai", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"rag","namespace":"genai"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"rag"}},"template":{"metadata":{"labels":{"app":"rag"}},"spec":{"containers":[{"name":"api","image":"rag:1.0","resources":{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"memory":"1Gi"}}}]}}}}`},
		{"", "Service", "genai", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"llama","namespace":"genai","annotations":{"service.beta.kubernetes.io/aws-load-balancer-type":"external"}},"spec":{"type":"LoadBalancer","selector":{"app":"llama"},"ports":[{"port":80}]}}`},
		{"storage.k8s.io", "StorageClass", "", `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"ebs-gp2"},"provisioner":"ebs.csi.aws.com","parameters":{"type":"gp2"}}`},
	}
	var out []review
	for i, o := range objs {
		uid := fmt.Sprint("u", i)
		b, _ := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: types.UID(uid), Kind: metav1.GroupVersionKind{Group: o.group, Version: "v1", Kind: o.kind},
				Operation: admissionv1.Create, Namespace: o.ns, Name: "x", Object: runtime.RawExtension{Raw: []byte(o.obj)}},
		})
		out = append(out, review{body: b, uid: uid})
	}
	return out
}

// BenchmarkWebhookLoad is the webhook's highest throughput: it drives the
// validating webhook, served over HTTPS on loopback by a separate process, with
// 64 connections in a closed loop (each sends its next review of the
// Deployment/Service/StorageClass mix as soon as the last is answered). It
// reports reviews per second, p50/p99 latency from the send, errors, the
// server's peak RSS (start-up included) and the CPU time the server and the load
// generator each spend per review. b.N is the number of reviews; the server's
// CPU profile is written to $KGATE_BENCH_SERVER_CPUPROFILE if set.
//
// The latency says little: with 64 reviews always in flight, its mean is 64
// divided by the throughput. BenchmarkWebhookLatency measures latency.
func BenchmarkWebhookLoad(b *testing.B) {
	benchWebhook(b, func(g *loadGen) *loadResult { return g.closedLoop(b.N) })
}

// BenchmarkWebhookLatency is the webhook's latency under a given load: it sends
// the same mix over 64 connections at a fixed arrival rate (3,000 reviews/s, or
// $KGATE_BENCH_RATE) and measures each review's latency from the time it was
// due, so that time spent queued behind a slow server counts. It reports the
// offered and achieved reviews per second and the same figures as
// BenchmarkWebhookLoad. b.N is the number of reviews: -benchtime 180000x runs
// 60 s at 3,000/s. A server slower than the offered rate falls further behind
// with every review, and its latency grows with the length of the run.
func BenchmarkWebhookLatency(b *testing.B) {
	rate := float64(defaultRate)
	if v := os.Getenv(rateEnv); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			b.Fatalf("%s=%q: want a positive number of reviews per second", rateEnv, v)
		}
		rate = r
	}
	benchWebhook(b, func(g *loadGen) *loadResult { return g.openLoop(b.N, rate) })
	b.ReportMetric(rate, "offered-reviews/s")
}

// benchWebhook starts a webhook server process, opens the connections, times
// drive and reports what it measured.
func benchWebhook(b *testing.B, drive func(*loadGen) *loadResult) {
	srv := startServer(b)
	g, err := newLoadGen(srv.URL+"/validate", webhookConns, reviewMix())
	if err != nil {
		b.Fatal(err)
	}
	// The CPU each side spends per review tells a slow server from a load
	// generator that starves it: on two cores they share the machine.
	srvCPU0, err := srv.cpu()
	if err != nil {
		b.Fatal(err)
	}
	genCPU0 := selfCPU()
	b.ResetTimer()
	res := drive(g)
	b.StopTimer()
	genCPU := selfCPU() - genCPU0
	srvCPU, err := srv.cpu()
	if err != nil {
		b.Fatal(err)
	}
	srvCPU -= srvCPU0
	g.close()
	rss := srv.stop(b)
	b.ReportMetric(res.rate(), "reviews/s")
	b.ReportMetric(res.percentile(0.50), "p50-ms")
	b.ReportMetric(res.percentile(0.99), "p99-ms")
	b.ReportMetric(float64(res.errors), "errors")
	if res.late != nil {
		// How much of the latency is the generator sending late.
		b.ReportMetric(percentile(res.late, 0.50), "late-p50-ms")
		b.ReportMetric(percentile(res.late, 0.99), "late-p99-ms")
	}
	b.ReportMetric(rss, "peak-RSS-MiB")
	b.ReportMetric(float64(srvCPU.Microseconds())/float64(res.reviews), "server-CPU-us/review")
	b.ReportMetric(float64(genCPU.Microseconds())/float64(res.reviews), "loadgen-CPU-us/review")
	if res.errors > 0 {
		b.Logf("%d of %d reviews failed; the first: %v", res.errors, res.reviews, res.firstErr)
	}
}

// selfCPU is the CPU time, user and system, this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
