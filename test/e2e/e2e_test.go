package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cluster wraps Cluster with test helpers.
type cluster struct {
	*Cluster
	bin string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(ErrNoAssets)
		}
		t.Skip(ErrNoAssets.Error())
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kgate").CombinedOutput(); err != nil {
		t.Fatalf("build kgate: %v\n%s", err, out)
	}
	c, err := Start(bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kgate serve logs:\n%s", c.Logs.String())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &cluster{Cluster: c, bin: bin}
}

func (c *cluster) kubectl(stdin string, args ...string) (string, string, error) {
	return c.Kubectl(stdin, args...)
}

func (c *cluster) startKgate(t *testing.T, _ string) {
	t.Helper()
	if err := c.StartKgate(); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) stopKgate(t *testing.T) {
	t.Helper()
	if err := c.StopKgate(); err != nil {
		t.Fatal(err)
	}
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
