// Package e2e runs kgate serve behind a real kube-apiserver and etcd (built by
// hack/envtest-assets.sh, found through KUBEBUILDER_ASSETS) and drives it with the
// kubectl installed on the machine.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	karpenter "sigs.k8s.io/karpenter/pkg/apis"
)

// cluster is a running control plane with kgate registered as its webhooks.
type cluster struct {
	env        *envtest.Environment
	kubeconfig string
	bin        string // the kgate binary under test
	// root is the test that owns the cluster: a kgate restarted inside a subtest
	// must keep running after that subtest ends.
	root  *testing.T
	serve *exec.Cmd
	logs  *bytes.Buffer
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with make test, which builds the control plane")
		}
		t.Skip("KUBEBUILDER_ASSETS is not set: run make test (it builds kube-apiserver and etcd once)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kgate").CombinedOutput(); err != nil {
		t.Fatalf("build kgate: %v\n%s", err, out)
	}
	c := &cluster{env: &envtest.Environment{
		// Karpenter's own module ships the NodePool CRD the training-pool rules need.
		CRDs: []*apiextensionsv1.CustomResourceDefinition{karpenter.CRDs[0]},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost:   "127.0.0.1",
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mutatingConfig()},
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{validatingConfig()},
		},
	}}
	if _, err := c.env.Start(); err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(func() { _ = c.env.Stop() })
	user, err := c.env.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	c.bin, c.root = bin, t
	c.startKgate(t, bin)
	return c
}

func (c *cluster) startKgate(t *testing.T, bin string) {
	t.Helper()
	o := c.env.WebhookInstallOptions
	health := freeAddr(t)
	c.logs = &bytes.Buffer{}
	c.serve = exec.Command(bin, "serve", "--host", o.LocalServingHost, "--port", fmt.Sprint(o.LocalServingPort),
		"--cert-dir", o.LocalServingCertDir, "--health-addr", health, "--metrics-addr", "0")
	c.serve.Stdout, c.serve.Stderr = c.logs, c.logs
	if err := c.serve.Start(); err != nil {
		t.Fatal(err)
	}
	serve, logs := c.serve, c.logs
	c.root.Cleanup(func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
		if c.root.Failed() {
			c.root.Logf("kgate serve logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kgate serve not ready after 30s: %v\n%s", err, c.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopKgate stops kgate serve gracefully (SIGTERM) and waits for it to exit.
func (c *cluster) stopKgate(t *testing.T) {
	t.Helper()
	if err := c.serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.serve.Wait(); err != nil {
		t.Fatalf("kgate serve did not exit cleanly on SIGTERM: %v\n%s", err, c.logs.String())
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// kubectl runs the machine's kubectl against the test control plane.
func (c *cluster) kubectl(stdin string, args ...string) (string, string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (c *cluster) get(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, stderr, err := c.kubectl("", append([]string{"get", "-o", "json"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl get %v: %v\n%s", args, err, stderr)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func mutatingConfig() *admissionregistrationv1.MutatingWebhookConfiguration {
	none := admissionregistrationv1.SideEffectClassNone
	ignore := admissionregistrationv1.Ignore
	ifNeeded := admissionregistrationv1.IfNeededReinvocationPolicy
	timeout := int32(3)
	path := "/mutate"
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kgate-mutating"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "mutate.kgate.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "kgate", Namespace: "kgate-system", Path: &path}},
			Rules:                   rules(admissionregistrationv1.Create, admissionregistrationv1.Update),
			SideEffects:             &none,
			FailurePolicy:           &ignore,
			ReinvocationPolicy:      &ifNeeded,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       exemptNamespaces(),
		}},
	}
}

func validatingConfig() *admissionregistrationv1.ValidatingWebhookConfiguration {
	none := admissionregistrationv1.SideEffectClassNone
	// Ignore, like deploy/: a kgate outage must not stop every deployment in the
	// cluster; kgate check in the pipeline stays the gate of record.
	ignore := admissionregistrationv1.Ignore
	timeout := int32(3)
	path := "/validate"
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kgate-validating"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.kgate.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "kgate", Namespace: "kgate-system", Path: &path}},
			Rules:                   rules(admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete),
			SideEffects:             &none,
			FailurePolicy:           &ignore,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       exemptNamespaces(),
		}},
	}
}

func rules(ops ...admissionregistrationv1.OperationType) []admissionregistrationv1.RuleWithOperations {
	rule := func(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources}}
	}
	return []admissionregistrationv1.RuleWithOperations{
		rule("", "pods", "services", "namespaces", "persistentvolumeclaims", "persistentvolumes"),
		rule("apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
		rule("batch", "jobs", "cronjobs"),
		rule("storage.k8s.io", "storageclasses"),
		rule("networking.k8s.io", "ingresses", "networkpolicies"),
		rule("karpenter.sh", "nodepools"),
	}
}

// exemptNamespaces keeps kgate away from the control plane's own namespaces, so
// a kgate outage can never lock the cluster out of repairing itself.
func exemptNamespaces() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn,
		Values: []string{"kube-system", "kube-node-lease", "kgate-system"},
	}}}
}
