// Package e2e runs kgate serve behind a real kube-apiserver and etcd (built by
// hack/envtest-assets.sh, found through KUBEBUILDER_ASSETS) and drives it with
// kubectl. Cluster is shared by the end-to-end tests and by make demo.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	karpenter "sigs.k8s.io/karpenter/pkg/apis"
)

// Cluster is a running control plane with kgate registered as its mutating and
// validating webhooks, served by a kgate serve process.
type Cluster struct {
	// Kubeconfig is the path of an admin kubeconfig for the control plane.
	Kubeconfig string
	// Bin is the kgate binary that serves the webhooks.
	Bin string
	// Logs collects the output of kgate serve.
	Logs *bytes.Buffer
	// ServeArgs are extra arguments of kgate serve (e.g. --config, --policies),
	// used from the next StartKgate on.
	ServeArgs []string

	env   *envtest.Environment
	serve *exec.Cmd
	dir   string
}

// ErrNoAssets means KUBEBUILDER_ASSETS is not set.
var ErrNoAssets = errors.New("KUBEBUILDER_ASSETS is not set: run hack/envtest-assets.sh (make test does) to build kube-apiserver and etcd")

// Start starts kube-apiserver and etcd with kgate's webhook configurations and
// Karpenter's NodePool CRD, writes an admin kubeconfig into dir and starts
// bin serve with the serving certificate envtest generated.
func Start(bin, dir string) (*Cluster, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, ErrNoAssets
	}
	reports, err := moduleDir("github.com/openreports/reports-api")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Bin: bin, dir: dir, env: &envtest.Environment{
		// Karpenter's own module ships the NodePool CRD the training-pool rules need;
		// OpenReports' module the Report CRDs the in-cluster audit writes.
		CRDs:              []*apiextensionsv1.CustomResourceDefinition{karpenter.CRDs[0]},
		CRDDirectoryPaths: []string{filepath.Join(reports, "config", "crd")},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost:   "127.0.0.1",
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mutatingConfig()},
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{validatingConfig()},
		},
	}}
	if _, err := c.env.Start(); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	user, err := c.env.AddUser(envtest.User{Name: "kgate-admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		var kc []byte
		if kc, err = user.KubeConfig(); err == nil {
			c.Kubeconfig = filepath.Join(dir, "kubeconfig")
			err = os.WriteFile(c.Kubeconfig, kc, 0o600)
		}
	}
	if err == nil {
		err = c.StartKgate()
	}
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// StartKgate starts kgate serve and waits until it is ready.
func (c *Cluster) StartKgate() error {
	o := c.env.WebhookInstallOptions
	health, err := freeAddr()
	if err != nil {
		return err
	}
	c.Logs = &bytes.Buffer{}
	c.serve = exec.Command(c.Bin, "serve", "--kubeconfig", c.Kubeconfig, "--host", o.LocalServingHost, "--port", fmt.Sprint(o.LocalServingPort),
		"--cert-dir", o.LocalServingCertDir, "--health-addr", health, "--metrics-addr", "0")
	c.serve.Args = append(c.serve.Args, c.ServeArgs...)
	c.serve.Stdout, c.serve.Stderr = c.Logs, c.Logs
	if err := c.serve.Start(); err != nil {
		return fmt.Errorf("start kgate serve: %w", err)
	}
	if err := waitReady(health); err != nil {
		return fmt.Errorf("%w\n%s", err, c.Logs.String())
	}
	return nil
}

// waitReady polls a kgate serve /readyz until it answers 200, for 30 seconds.
func waitReady(health string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kgate serve not ready after 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StopKgate stops kgate serve gracefully (SIGTERM) and waits for it to exit.
func (c *Cluster) StopKgate() error {
	if c.serve == nil || c.serve.ProcessState != nil {
		return nil
	}
	if err := c.serve.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := c.serve.Wait(); err != nil {
		return fmt.Errorf("kgate serve did not exit cleanly on SIGTERM: %w", err)
	}
	return nil
}

// Stop stops kgate, then the control plane (kube-apiserver before etcd).
func (c *Cluster) Stop() error {
	return errors.Join(c.StopKgate(), c.env.Stop())
}

// Kubectl runs kubectl against the control plane.
func (c *Cluster) Kubectl(stdin string, args ...string) (string, string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
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

// moduleDir finds a dependency's source directory in the module cache, for the
// CRD manifests a module ships beside its Go types.
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		return "", fmt.Errorf("locate module %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}
