package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

const gp2Class = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ebs-gp2
provisioner: ebs.csi.aws.com
parameters:
  type: gp2
`

const llamaService = `apiVersion: v1
kind: Service
metadata:
  name: my-llama-svc
  namespace: genai
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
spec:
  type: LoadBalancer
  selector: {app: my-llama}
  ports: [{port: 80, targetPort: 5000}]
`

const pretrainJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: llama3-pretrain
  namespace: genai
  labels: {kgate.dev/role: training}
spec:
  parallelism: 4
  completions: 4
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {node.kubernetes.io/instance-type: p5.48xlarge}
      containers:
      - name: worker
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/nemo:24.07
        resources:
          limits: {nvidia.com/gpu: 8, memory: 32000Mi}
          requests: {nvidia.com/gpu: 8, memory: 32000Mi, cpu: "90"}
`

// genaiNamespace carries the cost allocation labels COST-001 requires of new
// namespaces and the label of the catalog's strict GenAI profile; tools is an
// ordinary namespace.
const genaiNamespace = `apiVersion: v1
kind: Namespace
metadata:
  name: genai
  labels: {team: ml-platform, project: chatbot, environment: test, kgate.dev/genai: "true"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: tools
  labels: {team: platform, project: tooling, environment: test}
`

// genaiProfile is the catalog's profile (section 2.2): the strict rules apply in
// namespaces labelled kgate.dev/genai=true.
const genaiProfile = `apiVersion: kgate.dev/v1alpha1
kind: Config
params:
  genaiNamespaceSelector: {matchLabels: {kgate.dev/genai: "true"}}
`

func TestWebhook(t *testing.T) {
	c := startCluster(t)
	cfg := filepath.Join(t.TempDir(), "kgate.yaml")
	writeFile(t, cfg, genaiProfile)
	if err := c.StopKgate(); err != nil {
		t.Fatal(err)
	}
	c.ServeArgs = []string{"--config", cfg}
	if err := c.StartKgate(); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.kubectl("", "create", "namespace", "unlabelled")
	if err == nil || !strings.Contains(stderr, "COST-001") {
		t.Errorf("a namespace without cost allocation labels must be denied by COST-001, got err=%v\n%s", err, stderr)
	}
	if _, stderr, err := c.kubectl(genaiNamespace, "apply", "-f", "-"); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, stderr)
	}

	t.Run("a Deployment without requests outside the GenAI profile is stored with the COMPUTE-001 warning", func(t *testing.T) {
		d := strings.Replace(noRequests, "namespace: genai", "namespace: tools", 1)
		_, stderr, err := c.kubectl(d, "apply", "-f", "-")
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, `Warning: COMPUTE-001 /spec/template/spec/containers/0/resources: container "api" of Deployment "no-requests" sets no requests.cpu, requests.memory, limits.memory`) {
			t.Errorf("kubectl did not print the COMPUTE-001 warning:\n%s", stderr)
		}
		c.get(t, "deployment", "no-requests", "-n", "tools")
		_, stderr, err = c.kubectl(noRequests, "apply", "-f", "-")
		if err == nil || !strings.Contains(stderr, "COMPUTE-001 /spec/template/spec/containers/0/resources") {
			t.Errorf("in the GenAI namespace the same Deployment must be denied by COMPUTE-001, got err=%v\n%s", err, stderr)
		}
	})
	t.Run("gp2 StorageClass is stored as gp3", func(t *testing.T) {
		if _, stderr, err := c.kubectl(gp2Class, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		sc := c.get(t, "storageclass", "ebs-gp2")
		if got := sc["parameters"].(map[string]any)["type"]; got != "gp3" {
			t.Errorf("stored type = %v, want gp3", got)
		}
		ann := sc["metadata"].(map[string]any)["annotations"].(map[string]any)
		if !strings.Contains(ann["kgate.dev/mutated"].(string), "STORAGE-001") {
			t.Errorf("kgate.dev/mutated = %v", ann["kgate.dev/mutated"])
		}
	})

	t.Run("external NLB Service gets ip targets", func(t *testing.T) {
		if _, stderr, err := c.kubectl(llamaService, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		svc := c.get(t, "-n", "genai", "service", "my-llama-svc")
		ann := svc["metadata"].(map[string]any)["annotations"].(map[string]any)
		if ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] != "ip" {
			t.Errorf("annotations = %v", ann)
		}
		if got := svc["spec"].(map[string]any)["trafficDistribution"]; got != "PreferSameZone" {
			t.Errorf("trafficDistribution = %v, want PreferSameZone", got)
		}
	})

	t.Run("ClusterIP Service gets topology-aware routing", func(t *testing.T) {
		svc := "apiVersion: v1\nkind: Service\nmetadata: {name: rag-app, namespace: genai}\nspec:\n  selector: {app: rag}\n  ports: [{port: 80, targetPort: 8080}]\n"
		if _, stderr, err := c.kubectl(svc, "apply", "-f", "-"); err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		stored := c.get(t, "-n", "genai", "service", "rag-app")
		if got := stored["spec"].(map[string]any)["trafficDistribution"]; got != "PreferSameZone" {
			t.Errorf("trafficDistribution = %v, want PreferSameZone (TOPO-001 on Kubernetes 1.34+)", got)
		}
		if got := stored["metadata"].(map[string]any)["annotations"].(map[string]any)["kgate.dev/mutated"]; got != "TOPO-001" {
			t.Errorf("kgate.dev/mutated = %v, want TOPO-001", got)
		}
	})

	for _, dryRun := range []bool{true, false} {
		name := "multi-node GPU Job without EFA is rejected"
		args := []string{"apply", "-f", "-"}
		if dryRun {
			name += " (server dry run)"
			args = append(args, "--dry-run=server")
		}
		t.Run(name, func(t *testing.T) {
			_, stderr, err := c.kubectl(pretrainJob, args...)
			if err == nil {
				t.Fatal("the Job was admitted")
			}
			for _, want := range []string{"denied the request", "EFA-001", "/spec/template/spec/containers/0/resources", "fix: add vpc.amazonaws.com/efa: 32"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("kubectl error does not contain %q:\n%s", want, stderr)
				}
			}
			if out, _, err := c.kubectl("", "get", "-n", "genai", "job", "llama3-pretrain", "--ignore-not-found", "-o", "name"); err != nil || out != "" {
				t.Errorf("the rejected Job was stored: %q %v", out, err)
			}
		})
	}

	nodePoolsAndWarnings(t, c)
	t.Run("the book's manifests end as kgate check predicts", func(t *testing.T) { bookManifests(t, c, c.bin, cfg) })
	t.Run("kgate serve --self-signed creates its certificate and injects the CA", func(t *testing.T) { selfSignedWebhooks(t, c) })
	t.Run("the rendered deploy/ manifests apply (server dry run)", func(t *testing.T) { deployManifests(t, c) })
	dryRunAndOutage(t, c)
}

const trainingPool = `apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: training-p5
  labels: {kgate.dev/pool-type: training}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: p5-efa}
      requirements:
      - {key: karpenter.k8s.aws/instance-family, operator: In, values: ["p5"]}
      - {key: topology.kubernetes.io/zone, operator: In, values: ["us-west-2a", "us-west-2b", "us-west-2c"]}
`

const sizedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: chatbot-ui
  namespace: genai
spec:
  selector: {matchLabels: {app: chatbot-ui}}
  template:
    metadata: {labels: {app: chatbot-ui}}
    spec:
      containers:
      - name: ui
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/chatbot-ui:1.4.2
        resources:
          requests: {cpu: 250m, memory: 512Mi}
          limits: {memory: 768Mi}
`

// nodePoolsAndWarnings runs on the cluster of TestWebhook: one control plane for
// the whole suite.
func nodePoolsAndWarnings(t *testing.T, c *cluster) {
	t.Run("training NodePool over three zones is rejected", func(t *testing.T) {
		_, stderr, err := c.kubectl(trainingPool, "apply", "-f", "-")
		if err == nil {
			t.Fatal("the NodePool was admitted")
		}
		for _, want := range []string{"TOPO-002", "/spec/template/spec/requirements/1", "fix: use operator In with exactly one value on topology.kubernetes.io/zone"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("kubectl error does not contain %q:\n%s", want, stderr)
			}
		}
		if out, _, _ := c.kubectl("", "get", "nodepool", "training-p5", "--ignore-not-found", "-o", "name"); out != "" {
			t.Errorf("the rejected NodePool was stored: %q", out)
		}
	})

	t.Run("warnings reach kubectl and the object is stored", func(t *testing.T) {
		_, stderr, err := c.kubectl(sizedDeployment, "apply", "-f", "-")
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		if !strings.Contains(stderr, "Warning: NETPOL-001") || !strings.Contains(stderr, `namespace "genai" has no default-deny ingress NetworkPolicy`) {
			t.Errorf("kubectl did not print the NETPOL-001 warning:\n%s", stderr)
		}
		c.get(t, "-n", "genai", "deployment", "chatbot-ui")
	})
}

func dryRunAndOutage(t *testing.T, c *cluster) {
	rename := func(doc, name string) string { return strings.Replace(doc, "name: ebs-gp2", "name: "+name, 1) }

	t.Run("server dry run prints the mutated object and stores nothing", func(t *testing.T) {
		out, stderr, err := c.kubectl(rename(gp2Class, "dry-gp2"), "apply", "--dry-run=server", "-o", "json", "-f", "-")
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, stderr)
		}
		if !strings.Contains(out, `"type": "gp3"`) || !strings.Contains(out, "kgate.dev/mutated") {
			t.Errorf("dry run output is not the mutated object:\n%s", out)
		}
		if out, _, _ := c.kubectl("", "get", "storageclass", "dry-gp2", "--ignore-not-found", "-o", "name"); out != "" {
			t.Errorf("the dry run stored %q", out)
		}
	})

	t.Run("with kgate stopped objects are admitted unchanged, and enforcement resumes on restart", func(t *testing.T) {
		c.stopKgate(t)
		if _, stderr, err := c.kubectl(rename(gp2Class, "while-down"), "apply", "-f", "-"); err != nil {
			t.Fatalf("apply while kgate is down: %v\n%s", err, stderr)
		}
		if got := c.get(t, "storageclass", "while-down")["parameters"].(map[string]any)["type"]; got != "gp2" {
			t.Errorf("type = %v, want the unchanged gp2", got)
		}
		c.startKgate(t, c.bin)
		if _, stderr, err := c.kubectl(rename(gp2Class, "after-restart"), "apply", "-f", "-"); err != nil {
			t.Fatalf("apply after restart: %v\n%s", err, stderr)
		}
		if got := c.get(t, "storageclass", "after-restart")["parameters"].(map[string]any)["type"]; got != "gp3" {
			t.Errorf("type = %v, want gp3 once kgate is back", got)
		}
	})
}

// deployManifests applies the rendered deploy/ manifests with a server-side dry
// run: without cert-manager's CRDs only its Issuer and Certificate may fail.
func deployManifests(t *testing.T, c *cluster) {
	if _, stderr, err := c.kubectl("", "create", "namespace", "kgate-system"); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, stderr)
	}
	if out, stderr, err := c.kubectl("", "apply", "--dry-run=server", "-f", "../../deploy/kgate-self-signed.yaml"); err != nil {
		t.Errorf("deploy/kgate-self-signed.yaml does not apply: %v\n%s\n%s", err, out, stderr)
	}
	out, stderr, err := c.kubectl("", "apply", "--dry-run=server", "-f", "../../deploy/kgate.yaml")
	if err == nil {
		t.Fatal("deploy/kgate.yaml applied without cert-manager's CRDs: the Issuer and Certificate are missing")
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		switch {
		case line == "", strings.HasPrefix(line, "Warning:"), line == "ensure CRDs are installed first":
		case !strings.Contains(line, `"cert-manager.io/v1"`):
			t.Errorf("deploy/kgate.yaml: unexpected failure %q", line)
		}
	}
	for _, kind := range []string{`kind "Issuer"`, `kind "Certificate"`} {
		if !strings.Contains(stderr, kind) {
			t.Errorf("deploy/kgate.yaml: expected the missing cert-manager %s to be reported:\n%s", kind, stderr)
		}
	}
	for _, want := range []string{"deployment.apps/kgate created (server dry run)", "mutatingwebhookconfiguration.admissionregistration.k8s.io/kgate created (server dry run)"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy/kgate.yaml: %q missing from\n%s", want, out)
		}
	}
}

const noRequests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: no-requests, namespace: genai}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/api@sha256:0d2f1e5c1a7ad8c0a1c3e9b4d8e6c0f5b2a7c9d1e3f5a7b9c1d3e5f7a9b1c3d5
`
