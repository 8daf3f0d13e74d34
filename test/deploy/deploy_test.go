// Package deploy checks the rendered manifests in deploy/ against the Helm chart.
package deploy

import (
	"os"
	"os/exec"
	"testing"
)

// The plain manifests in deploy/ are rendered from the chart by make manifests;
// a chart change without re-rendering fails here.
func TestRenderedManifestsAreCurrent(t *testing.T) {
	helm := os.Getenv("KGATE_HELM")
	if helm == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KGATE_HELM is not set: run make test, which provides helm")
		}
		t.Skip("KGATE_HELM is not set: run make test (it builds helm once)")
	}
	for file, extra := range map[string][]string{
		"../../deploy/kgate.yaml":             nil,
		"../../deploy/kgate-self-signed.yaml": {"--set", "certificates.certManager=false"},
	} {
		args := append([]string{"template", "kgate", "../../deploy/chart/kgate", "--namespace", "kgate-system", "--set", "createNamespace=true"}, extra...)
		out, err := exec.Command(helm, args...).Output()
		if err != nil {
			t.Fatalf("helm %v: %v", args, err)
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(want) {
			t.Errorf("%s is stale: run make manifests", file)
		}
	}
}
