package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// selfSignedWebhooks registers a second pair of webhook configurations without a
// CA bundle and with failurePolicy Fail, for labelled objects only, and serves
// them with kgate serve --self-signed: the request only succeeds if kgate created
// its certificate and wrote the CA into the configurations.
func selfSignedWebhooks(t *testing.T, c *cluster) {
	port := strings.TrimPrefix(mustFreeAddr(t), "127.0.0.1:")
	configs := `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: kgate-selfsigned}
webhooks:
- name: mutate.selfsigned.kgate.dev
  clientConfig: {url: "https://127.0.0.1:PORT/mutate"}
  rules: [{operations: [CREATE], apiGroups: [storage.k8s.io], apiVersions: ["*"], resources: [storageclasses]}]
  objectSelector: {matchLabels: {kgate.dev/self-signed-test: "true"}}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kgate-selfsigned}
webhooks:
- name: validate.selfsigned.kgate.dev
  clientConfig: {url: "https://127.0.0.1:PORT/validate"}
  rules: [{operations: [CREATE], apiGroups: [storage.k8s.io], apiVersions: ["*"], resources: [storageclasses]}]
  objectSelector: {matchLabels: {kgate.dev/self-signed-test: "true"}}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
`
	if _, stderr, err := c.kubectl(strings.ReplaceAll(configs, "PORT", port), "apply", "-f", "-"); err != nil {
		t.Fatalf("create webhook configurations: %v\n%s", err, stderr)
	}
	health := mustFreeAddr(t)
	var logs bytes.Buffer
	serve := exec.Command(c.bin, "serve", "--self-signed", "--webhook-configuration", "kgate-selfsigned",
		"--kubeconfig", c.Kubeconfig, "--cert-dir", t.TempDir(), "--cert-host", "127.0.0.1",
		"--host", "127.0.0.1", "--port", port, "--health-addr", health, "--metrics-addr", "0")
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("kgate serve --self-signed logs:\n%s", logs.String())
		}
	}()
	if err := waitReady(health); err != nil {
		t.Fatal(err)
	}

	bundle, _, err := c.kubectl("", "get", "mutatingwebhookconfiguration", "kgate-selfsigned", "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}")
	if err != nil || len(bundle) < 100 {
		t.Fatalf("the CA bundle was not injected: %q %v", bundle, err)
	}
	sc := strings.Replace(gp2Class, "name: ebs-gp2", "name: self-signed-gp2\n  labels: {kgate.dev/self-signed-test: \"true\"}", 1)
	if _, stderr, err := c.kubectl(sc, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply through the self-signed webhook (failurePolicy Fail): %v\n%s", err, stderr)
	}
	if got := c.get(t, "storageclass", "self-signed-gp2")["parameters"].(map[string]any)["type"]; got != "gp3" {
		t.Errorf("type = %v, want gp3", got)
	}
}

func mustFreeAddr(t *testing.T) string {
	a, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}
