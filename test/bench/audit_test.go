package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/audit"
)

// auditObjects is the size of the cluster BenchmarkAudit builds.
const auditObjects = 2000

// BenchmarkAudit loads a real API server (envtest) with the mixed workload and
// audits it: objects per second, and the heap the audit keeps. Without
// KUBEBUILDER_ASSETS it is skipped.
func BenchmarkAudit(b *testing.B) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("KUBEBUILDER_ASSETS is not set: run hack/envtest-assets.sh")
	}
	env := &envtest.Environment{}
	// The default range holds 254 Service IPs; the workload has more Services.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	cfg, err := env.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	cfg.QPS, cfg.Burst = 500, 1000
	if err := load(cfg, b.TempDir(), auditObjects); err != nil {
		b.Fatal(err)
	}
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var objects int
	var took time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rep, err := audit.Run(context.Background(), cfg, e, audit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		objects = rep.Summary.Objects
	}
	b.ReportMetric(float64(objects*b.N)/took.Seconds(), "objects/s")
	b.ReportMetric(float64(objects), "objects")
}

// BenchmarkInventoryMemory measures what the webhook's inventory costs per cached
// object: NetworkPolicies and Services as the informers keep them, installed in
// the engine's store.
func BenchmarkInventoryMemory(b *testing.B) {
	const n = 5000
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var perObject float64
	for i := 0; i < b.N; i++ {
		if err := e.SetInventory(context.Background(), policies.NewInventory()); err != nil {
			b.Fatal(err)
		}
		before := heap()
		inv := policies.NewInventory()
		for j := 0; j < n; j++ {
			ns := fmt.Sprintf("team-%02d", j%50)
			inv.Add("NetworkPolicy", ns, fmt.Sprintf("allow-%d", j), map[string]any{
				"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
				"metadata": map[string]any{"name": fmt.Sprintf("allow-%d", j), "namespace": ns, "uid": "8d1f6c2e-4b0a-4c47-9a55-1b2f3c4d5e6f",
					"resourceVersion": "123456", "labels": map[string]any{"app.kubernetes.io/part-of": "rag"}},
				"spec": map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "rag-api"}},
					"policyTypes": []any{"Ingress"},
					"ingress": []any{map[string]any{"from": []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "chatbot-ui"}}}},
						"ports": []any{map[string]any{"port": int64(8080), "protocol": "TCP"}}}}},
			})
		}
		if err := e.SetInventory(context.Background(), inv); err != nil {
			b.Fatal(err)
		}
		inv = nil
		perObject = (float64(heap()) - float64(before)) / n
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perObject, "B/object")
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// load creates the namespaces and n objects of the mixed workload.
func load(cfg *rest.Config, dir string, n int) error {
	if _, err := WriteWorkload(dir, n, n); err != nil {
		return err
	}
	data, err := os.ReadFile(dir + "/workload-0000.yaml")
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": fmt.Sprintf("team-%02d", i)}}}
		if _, err := dyn.Resource(gvr("Namespace")).Create(ctx, ns, createOpts); err != nil {
			return err
		}
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytesReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(objs))
	sem := make(chan struct{}, 16)
	for _, u := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func(u *unstructured.Unstructured) {
			defer wg.Done()
			defer func() { <-sem }()
			ri := dyn.Resource(gvr(u.GetKind()))
			var err error
			if ns := u.GetNamespace(); ns != "" {
				_, err = ri.Namespace(ns).Create(ctx, u, createOpts)
			} else {
				_, err = ri.Create(ctx, u, createOpts)
			}
			if err != nil {
				errs <- fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

var createOpts = metav1.CreateOptions{}

func gvr(kind string) schema.GroupVersionResource {
	switch kind {
	case "Namespace":
		return schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	case "Service":
		return schema.GroupVersionResource{Version: "v1", Resource: "services"}
	case "Deployment":
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	case "StorageClass":
		return schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	case "NetworkPolicy":
		return schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	}
	panic("no resource for kind " + kind)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
