// Package deploy checks the rendered manifests in deploy/ against the Helm chart.
package deploy

import (
	"os"
	"os/exec"
	"strings"
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
		args := append([]string{"template", "kgate", "../../deploy/chart/kgate", "--include-crds", "--namespace", "kgate-system", "--set", "createNamespace=true"}, extra...)
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

// The chart ships the OpenReports CRDs of the module version kgate is built with.
func TestChartCRDsMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(string(out))
	for _, name := range []string{"openreports.io_reports.yaml", "openreports.io_clusterreports.yaml"} {
		want, err := os.ReadFile(dir + "/config/crd/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile("../../deploy/chart/kgate/crds/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("deploy/chart/kgate/crds/%s differs from the module's: run make manifests", name)
		}
	}
}
