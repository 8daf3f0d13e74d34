package policies

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

var benchDeployment = map[string]any{
	"apiVersion": "apps/v1", "kind": "Deployment",
	"metadata": map[string]any{"name": "rag-app", "namespace": "genai", "labels": map[string]any{"app": "rag"}},
	"spec": map[string]any{
		"replicas": int64(3),
		"selector": map[string]any{"matchLabels": map[string]any{"app": "rag"}},
		"template": map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"app": "rag"}},
			"spec": map[string]any{"containers": []any{
				map[string]any{"name": "api", "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/rag:1.0",
					"ports": []any{map[string]any{"containerPort": int64(8080)}},
					"resources": map[string]any{
						"requests": map[string]any{"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": int64(1)},
						"limits":   map[string]any{"memory": "1Gi", "nvidia.com/gpu": int64(1)},
					}},
				map[string]any{"name": "istio-proxy", "image": "istio/proxyv2:1.22"},
			}},
		},
	},
}

// benchStoredDeployment is benchDeployment as the API server sends it on UPDATE:
// with managedFields, status and the last-applied annotation, which no rule reads.
var benchStoredDeployment = func() map[string]any {
	d := map[string]any{}
	for k, v := range benchDeployment {
		d[k] = v
	}
	fields := map[string]any{}
	for _, f := range []string{"f:replicas", "f:selector", "f:strategy", "f:template", "f:revisionHistoryLimit", "f:progressDeadlineSeconds"} {
		fields[f] = map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{".": map[string]any{}, "f:app": map[string]any{}}}, "f:spec": map[string]any{"f:containers": map[string]any{`k:{"name":"api"}`: map[string]any{".": map[string]any{}, "f:image": map[string]any{}, "f:name": map[string]any{}, "f:resources": map[string]any{}}}}}
	}
	meta := map[string]any{"name": "rag-app", "namespace": "genai", "labels": map[string]any{"app": "rag"},
		"uid": "0d5c8e8a-8f8a-4b8e-9a57-3c1f0b1b2c3d", "resourceVersion": "123456", "generation": int64(4),
		"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"rag"},"name":"rag-app","namespace":"genai"},"spec":{"replicas":3}}`},
		"managedFields": []any{
			map[string]any{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:spec": fields}},
			map[string]any{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:status": fields}},
		}}
	d["metadata"] = meta
	d["status"] = map[string]any{"observedGeneration": int64(4), "replicas": int64(3), "readyReplicas": int64(3), "availableReplicas": int64(3),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet \"rag-app-7d9c\" has successfully progressed."},
		}}
	return d
}()

var benchService = map[string]any{
	"apiVersion": "v1", "kind": "Service",
	"metadata": map[string]any{"name": "llama", "namespace": "genai", "annotations": map[string]any{
		"service.beta.kubernetes.io/aws-load-balancer-type": "external"}},
	"spec": map[string]any{"type": "LoadBalancer", "selector": map[string]any{"app": "llama"},
		"ports": []any{map[string]any{"port": int64(80), "targetPort": int64(8080)}}},
}

// BenchmarkEvaluate measures one evaluation of an object against every built-in
// rule for its kind (docs/performance.md).
func BenchmarkEvaluate(b *testing.B) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		in   *Input
	}{
		{"Deployment", &Input{Operation: "CREATE", Kind: GVK{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "genai", Name: "rag-app", Object: benchDeployment}},
		{"Service", &Input{Operation: "CREATE", Kind: GVK{Version: "v1", Kind: "Service"}, Namespace: "genai", Name: "llama", Object: benchService}},
		{"StoredDeploymentUpdate", &Input{Operation: "UPDATE", Kind: GVK{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "genai", Name: "rag-app", Object: benchStoredDeployment, OldObject: benchStoredDeployment}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Evaluate(ctx, bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNew measures building an engine: from the compiled built-in library
// shipped in the binary, and from the Rego sources, as when policy directories are
// given (an empty one here) (docs/performance.md, start-up).
func BenchmarkNew(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"CompiledLibrary", Options{}},
		{"FromSources", Options{PolicyDirs: []string{b.TempDir()}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := New(context.Background(), bc.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchPyTorchJob = map[string]any{
	"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
	"metadata": map[string]any{"name": "llama-fsdp", "namespace": "training"},
	"spec": map[string]any{"pytorchReplicaSpecs": map[string]any{
		"Worker": map[string]any{"replicas": int64(4), "template": map[string]any{"spec": map[string]any{
			"nodeSelector": map[string]any{"node.kubernetes.io/instance-type": "p5.48xlarge"},
			"containers": []any{map[string]any{"name": "pytorch", "image": "nemo:24.07",
				"resources": map[string]any{
					"requests": map[string]any{"cpu": "90", "memory": "1000Gi", "nvidia.com/gpu": int64(8), "vpc.amazonaws.com/efa": int64(32)},
					"limits":   map[string]any{"memory": "1000Gi", "nvidia.com/gpu": int64(8), "vpc.amazonaws.com/efa": int64(32)},
				}}}}}},
	}},
}

var benchStorageClass = map[string]any{
	"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
	"metadata":    map[string]any{"name": "ebs-gp2"},
	"provisioner": "ebs.csi.aws.com",
	"parameters":  map[string]any{"type": "gp2"},
}

var benchNodePool = map[string]any{
	"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
	"metadata": map[string]any{"name": "training-p5", "labels": map[string]any{"kgate.dev/pool-type": "training"}},
	"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"nodeClassRef": map[string]any{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "p5"},
		"requirements": []any{
			map[string]any{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": []any{"p5"}},
			map[string]any{"key": "topology.kubernetes.io/zone", "operator": "In", "values": []any{"us-west-2a", "us-west-2b"}},
		}}}},
}

// BenchmarkRule evaluates each rule alone under topdown on a sample object of
// each of its kinds, to find the rules that cost most.
func BenchmarkRule(b *testing.B) {
	e, err := New(context.Background(), Options{TopDown: true})
	if err != nil {
		b.Fatal(err)
	}
	samples := map[string]*Input{
		"Deployment":   {Operation: "CREATE", Kind: GVK{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "genai", Object: benchDeployment},
		"PyTorchJob":   {Operation: "CREATE", Kind: GVK{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"}, Namespace: "training", Object: benchPyTorchJob},
		"Service":      {Operation: "CREATE", Kind: GVK{Version: "v1", Kind: "Service"}, Namespace: "genai", Object: benchService},
		"StorageClass": {Operation: "CREATE", Kind: GVK{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"}, Object: benchStorageClass},
		"NodePool":     {Operation: "CREATE", Kind: GVK{Group: "karpenter.sh", Version: "v1", Kind: "NodePool"}, Object: benchNodePool},
	}
	ctx := context.Background()
	for _, r := range e.Rules() {
		for _, kind := range []string{"Deployment", "PyTorchJob", "Service", "StorageClass", "NodePool"} {
			if !r.AppliesTo(kind) {
				continue
			}
			q, err := e.prepareQuery(ctx, []*Rule{r}, false)
			if err != nil {
				b.Fatal(err)
			}
			in, err := e.inputValue(samples[kind])
			if err != nil {
				b.Fatal(err)
			}
			b.Run(r.ID+"/"+kind, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := q.Eval(ctx, rego.EvalParsedInput(in)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
