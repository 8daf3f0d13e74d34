package deploy

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/config"
)

// checkConfigMount checks that --config points into a whole-directory mount of
// the ConfigMap wantConfigMap, and returns the file's key in it.
func checkConfigMount(t *testing.T, c *corev1.Container, spec *corev1.PodSpec, wantConfigMap string) string {
	t.Helper()
	f := flags(c)
	if len(f["config"]) != 1 {
		t.Fatalf("args %v: want one --config, got %v", c.Args, f["config"])
	}
	if _, ok := f["params"]; ok {
		t.Errorf("args %v: --params and --config exclude each other; parameters belong in the configuration", c.Args)
	}
	path := f["config"][0]
	if !filepath.IsAbs(path) {
		t.Fatalf("--config %s is not an absolute path", path)
	}
	m, v := mountOf(t, c, spec, path)
	if m.SubPath != "" || m.SubPathExpr != "" {
		t.Fatalf("--config %s is mounted with subPath %q: the kubelet never updates subPath mounts, so the configuration would not reload", path, m.SubPath+m.SubPathExpr)
	}
	if !m.ReadOnly {
		t.Errorf("mount %s of the configuration is not readOnly", m.MountPath)
	}
	if v.ConfigMap == nil || v.ConfigMap.Name != wantConfigMap {
		t.Fatalf("--config %s is in volume %s, want a volume of ConfigMap %s", path, v.Name, wantConfigMap)
	}
	rel, err := filepath.Rel(m.MountPath, path)
	if err != nil || rel == "." || strings.Contains(rel, "/") {
		t.Fatalf("--config %s: want a file directly in the mount %s (a ConfigMap key)", path, m.MountPath)
	}
	for _, it := range v.ConfigMap.Items {
		if it.Path == rel {
			return it.Key
		}
	}
	if len(v.ConfigMap.Items) > 0 {
		t.Fatalf("--config %s: the volume's items do not project it", path)
	}
	return rel
}

// checkConfig parses a configuration file text and applies it to the built-in
// rules, as kgate serve does.
func checkConfig(t *testing.T, name, text string) *config.Config {
	t.Helper()
	c, err := config.Parse(name, []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if _, err := c.Apply(context.Background(), builtinEngine(t)); err != nil {
		t.Fatalf("%s does not apply: %v\n%s", name, err, text)
	}
	return c
}

// The configuration ConfigMap is mounted as a directory (kubelet updates reach
// the pod, so kgate serve can reload it), --config points into it, and the
// rendered configuration is valid.
func TestConfigMounted(t *testing.T) {
	for _, file := range renderedFiles {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m := readManifest(t, file)
			c, spec := kgateContainer(t, m)
			key := checkConfigMount(t, c, spec, "kgate-config")
			var cm corev1.ConfigMap
			if !m.get(t, "ConfigMap", "kgate-config", &cm) {
				t.Fatal("no ConfigMap kgate-config")
			}
			if cm.Namespace != namespace {
				t.Errorf("ConfigMap kgate-config in namespace %q, want %s", cm.Namespace, namespace)
			}
			text, ok := cm.Data[key]
			if !ok {
				t.Fatalf("ConfigMap kgate-config has no key %s (keys: %v)", key, slices.Sorted(maps.Keys(cm.Data)))
			}
			checkConfig(t, "kgate-config/"+key, text)
		})
	}
}

// With existingConfigMap and policies.configMaps the chart mounts the user's
// ConfigMaps as directories and passes them to kgate serve; rbac.extraRules
// grants what user policies read.
func TestChartUserConfigMaps(t *testing.T) {
	out, err := helmTemplate(t, `
existingConfigMap: my-config
policies:
  configMaps: [team-a, platform.policies]
rbac:
  extraRules:
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [get, list, watch]
`)
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, "helm template", out)
	if m.get(t, "ConfigMap", "kgate-config", &corev1.ConfigMap{}) {
		t.Error("ConfigMap kgate-config rendered although existingConfigMap is set")
	}
	// A user policy reading another kind from the cluster gets it granted.
	rules := boundRules(t, m)["kgate"]
	for _, verb := range []string{"get", "list", "watch"} {
		if !grants(rules, "policy", "poddisruptionbudgets", verb) {
			t.Errorf("rbac.extraRules: ClusterRole kgate does not grant %s on poddisruptionbudgets", verb)
		}
	}
	c, spec := kgateContainer(t, m)
	if key := checkConfigMount(t, c, spec, "my-config"); key != "kgate.yaml" {
		t.Errorf("the configuration is read from key %s of my-config, want kgate.yaml (the documented key)", key)
	}
	dirs := flags(c)["policies"]
	want := []string{"/etc/kgate/policies/team-a", "/etc/kgate/policies/platform.policies"}
	if strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Errorf("--policies %v, want %v", dirs, want)
	}
	for i, dir := range dirs {
		mnt, v := mountOf(t, c, spec, dir)
		if mnt.MountPath != dir {
			t.Errorf("--policies %s is inside mount %s, want a mount of its own", dir, mnt.MountPath)
		}
		if mnt.SubPath != "" || mnt.SubPathExpr != "" {
			t.Errorf("--policies %s is mounted with a subPath: the kubelet would never update it", dir)
		}
		if !mnt.ReadOnly {
			t.Errorf("--policies %s is not mounted readOnly", dir)
		}
		name := filepath.Base(want[i])
		if v.ConfigMap == nil || v.ConfigMap.Name != name || len(v.ConfigMap.Items) > 0 {
			t.Errorf("--policies %s: volume %s, want all of ConfigMap %s", dir, v.Name, name)
		}
	}
}

// config renders into the configuration file, with the legacy params merged into
// config.params (config's own value wins); params cannot silently vanish with
// existingConfigMap.
func TestChartConfigValues(t *testing.T) {
	out, err := helmTemplate(t, `
config:
  dryRun: true
  params:
    region: eu-west-1
params:
  region: us-east-1
  gpuThreshold: 4
`)
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, "helm template", out)
	var cm corev1.ConfigMap
	if !m.get(t, "ConfigMap", "kgate-config", &cm) {
		t.Fatal("no ConfigMap kgate-config")
	}
	c := checkConfig(t, "kgate-config/kgate.yaml", cm.Data["kgate.yaml"])
	if !c.DryRun {
		t.Error("config.dryRun was not rendered")
	}
	if c.Params["region"] != "eu-west-1" {
		t.Errorf("params.region = %v, want config's eu-west-1", c.Params["region"])
	}
	if n, _ := c.Params["gpuThreshold"].(int); n != 4 {
		t.Errorf("params.gpuThreshold = %v (%T), want 4 from the legacy params value", c.Params["gpuThreshold"], c.Params["gpuThreshold"])
	}

	if _, err := helmTemplate(t, "existingConfigMap: mine\nparams: {region: us-east-1}\n"); err == nil || !strings.Contains(err.Error(), "existingConfigMap") {
		t.Errorf("params with existingConfigMap: want a helm error naming existingConfigMap, got %v", err)
	}
	if _, err := helmTemplate(t, "policies: {configMaps: [a, a]}\n"); err == nil {
		t.Error("a ConfigMap listed twice in policies.configMaps: want a helm error")
	}
}

// A policy ConfigMap mounted as a directory looks like this to kgate serve: the
// kubelet writes the keys into a hidden ..<timestamp> directory, points the
// ..data symlink at it and links each key to ..data/<key>. kgate must load each
// policy once from such a directory, before and after an update.
func TestPolicyDirFromConfigMapVolume(t *testing.T) {
	dir := t.TempDir()
	const rule = `# METADATA
# title: Test rule from a ConfigMap volume
# custom:
#   id: TEST-CM-001
#   severity: low
#   kinds: [ConfigMap]
#   default_action: warn
package kgate.rules.test.configmapvolume

violation contains {"msg": "from a ConfigMap", "path": "/metadata", "fix": "none"} if {
	false
}
`
	previous := ""
	update := func(version string) {
		ts := filepath.Join(dir, "..2025_01_01_00_00_0"+version)
		if err := os.MkdirAll(ts, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ts, "team.rego"), []byte(rule), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "team.rego")); err != nil {
			if err := os.Symlink(filepath.Join("..data", "team.rego"), filepath.Join(dir, "team.rego")); err != nil {
				t.Fatal(err)
			}
		}
		if previous != "" {
			if err := os.RemoveAll(previous); err != nil {
				t.Fatal(err)
			}
		}
		previous = ts
	}
	for _, version := range []string{"1", "2"} {
		update(version)
		e, err := policies.New(context.Background(), policies.Options{PolicyDirs: []string{dir}})
		if err != nil {
			t.Fatalf("version %s: load policies from a ConfigMap volume: %v", version, err)
		}
		if _, ok := e.Rule("TEST-CM-001"); !ok {
			t.Errorf("version %s: the rule of the ConfigMap was not loaded", version)
		}
	}
}
