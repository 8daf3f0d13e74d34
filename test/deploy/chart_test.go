package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/config"
)

const (
	namespace      = "kgate-system"
	serviceAccount = "kgate"
	chartDir       = "../../deploy/chart/kgate"
)

// renderedFiles are the plain manifests of deploy/, checked as shipped.
var renderedFiles = []string{"../../deploy/kgate.yaml", "../../deploy/kgate-self-signed.yaml"}

// inventoryResources maps each kind the referential rules read from the cluster
// (policies.Engine.InventoryKinds, the inventory of `kgate policies -o json`) to
// its API group and resource. A rule that adds a kind fails
// TestRBACGrantsInventoryKinds until the kind is added here and granted in
// deploy/chart/kgate/templates/rbac.yaml.
var inventoryResources = map[string]groupResource{
	"DaemonSet":               {"apps", "daemonsets"},
	"EC2NodeClass":            {"karpenter.k8s.aws", "ec2nodeclasses"},
	"HorizontalPodAutoscaler": {"autoscaling", "horizontalpodautoscalers"},
	"Ingress":                 {"networking.k8s.io", "ingresses"},
	"IngressClass":            {"networking.k8s.io", "ingressclasses"},
	"IngressClassParams":      {"elbv2.k8s.aws", "ingressclassparams"},
	"LimitRange":              {"", "limitranges"},
	"Namespace":               {"", "namespaces"},
	"NetworkPolicy":           {"networking.k8s.io", "networkpolicies"},
	"Node":                    {"", "nodes"},
	"NodePool":                {"karpenter.sh", "nodepools"},
	"PersistentVolume":        {"", "persistentvolumes"},
	"PersistentVolumeClaim":   {"", "persistentvolumeclaims"},
	"Pod":                     {"", "pods"},
	"ReplicaSet":              {"apps", "replicasets"},
	"Service":                 {"", "services"},
	"StatefulSet":             {"apps", "statefulsets"},
	"Deployment":              {"apps", "deployments"},
	"StorageClass":            {"storage.k8s.io", "storageclasses"},
	"VerticalPodAutoscaler":   {"autoscaling.k8s.io", "verticalpodautoscalers"},
}

type groupResource struct{ group, resource string }

// object is one document of a rendered manifest.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	raw []byte
}

type manifest []object

// parse splits a multi-document manifest; documents holding only comments are
// skipped.
func parse(t *testing.T, name string, data []byte) manifest {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var m manifest
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, doc)
		}
		if o.Kind == "" {
			continue
		}
		o.raw = doc
		m = append(m, o)
	}
	return m
}

// get decodes the object of the given kind and name into out, strictly: a field
// the API does not know fails.
func (m manifest) get(t *testing.T, kind, name string, out any) bool {
	t.Helper()
	for _, o := range m {
		if o.Kind == kind && o.Metadata.Name == name {
			if err := yaml.UnmarshalStrict(o.raw, out); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

func readManifest(t *testing.T, file string) manifest {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, file, b)
}

// helmTemplate renders the chart with the values file given as YAML text.
func helmTemplate(t *testing.T, values string) ([]byte, error) {
	t.Helper()
	helm := os.Getenv("KGATE_HELM")
	if helm == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KGATE_HELM is not set: run make test, which provides helm")
		}
		t.Skip("KGATE_HELM is not set: run make test (it builds helm once)")
	}
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helm, "template", "kgate", chartDir, "--namespace", namespace, "-f", f)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var (
	engineOnce sync.Once
	engine     *policies.Engine
	engineErr  error
)

// builtinEngine loads the built-in rules once.
func builtinEngine(t *testing.T) *policies.Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = policies.New(context.Background(), policies.Options{}) })
	if engineErr != nil {
		t.Fatalf("load policies: %v", engineErr)
	}
	return engine
}

// kgateContainer returns the Deployment's kgate container and pod spec.
func kgateContainer(t *testing.T, m manifest) (*corev1.Container, *corev1.PodSpec) {
	t.Helper()
	var d appsv1.Deployment
	if !m.get(t, "Deployment", "kgate", &d) {
		t.Fatal("no Deployment kgate")
	}
	spec := &d.Spec.Template.Spec
	for i := range spec.Containers {
		if spec.Containers[i].Name == "kgate" {
			return &spec.Containers[i], spec
		}
	}
	t.Fatal("Deployment kgate has no container kgate")
	return nil, nil
}

// flags returns the values of each --flag of the container's args, in order.
func flags(c *corev1.Container) map[string][]string {
	out := map[string][]string{}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok && i+1 < len(c.Args) && !strings.HasPrefix(c.Args[i+1], "--") {
			value = c.Args[i+1]
			i++
		}
		out[name] = append(out[name], value)
	}
	return out
}

// mountOf returns the volume mount holding path (the deepest one) and its volume.
func mountOf(t *testing.T, c *corev1.Container, spec *corev1.PodSpec, path string) (*corev1.VolumeMount, *corev1.Volume) {
	t.Helper()
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		if (path == m.MountPath || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")) &&
			(best == nil || len(m.MountPath) > len(best.MountPath)) {
			best = m
		}
	}
	if best == nil {
		t.Fatalf("%s is in no volume mount of container kgate", path)
	}
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == best.Name {
			return best, &spec.Volumes[i]
		}
	}
	t.Fatalf("volume mount %s names no volume", best.Name)
	return nil, nil
}

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
				t.Fatalf("ConfigMap kgate-config has no key %s (keys: %v)", key, keys(cm.Data))
			}
			checkConfig(t, "kgate-config/"+key, text)
		})
	}
}

// Reload Events are about the Pod the downward API names.
func TestPodIdentityEnv(t *testing.T) {
	want := map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
	for _, file := range renderedFiles {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, _ := kgateContainer(t, readManifest(t, file))
			got := map[string]string{}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
					got[e.Name] = e.ValueFrom.FieldRef.FieldPath
				}
			}
			for name, path := range want {
				if got[name] != path {
					t.Errorf("env %s: fieldRef %q, want %q", name, got[name], path)
				}
			}
		})
	}
}

// boundRules returns the rules of every ClusterRole bound to kgate's
// ServiceAccount, by ClusterRole name.
func boundRules(t *testing.T, m manifest) map[string][]rbacv1.PolicyRule {
	t.Helper()
	out := map[string][]rbacv1.PolicyRule{}
	for _, o := range m {
		if o.Kind != "ClusterRoleBinding" {
			continue
		}
		var b rbacv1.ClusterRoleBinding
		m.get(t, o.Kind, o.Metadata.Name, &b)
		bound := false
		for _, s := range b.Subjects {
			bound = bound || (s.Kind == "ServiceAccount" && s.Name == serviceAccount && s.Namespace == namespace)
		}
		if !bound || b.RoleRef.Kind != "ClusterRole" {
			continue
		}
		var r rbacv1.ClusterRole
		if !m.get(t, "ClusterRole", b.RoleRef.Name, &r) {
			t.Errorf("ClusterRoleBinding %s refers to ClusterRole %s, which is not in the manifest", b.Name, b.RoleRef.Name)
			continue
		}
		out[r.Name] = r.Rules
	}
	return out
}

// grants reports whether the rules allow verb on every object of group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 {
			continue
		}
		if contains(r.APIGroups, group) && contains(r.Resources, resource) && contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s || x == "*" {
			return true
		}
	}
	return false
}

// kgate's ServiceAccount may list and watch every kind a referential rule reads,
// read namespaces, and record Events, in both certificate setups; apart from
// Events the role is read-only.
func TestRBACGrantsInventoryKinds(t *testing.T) {
	e := builtinEngine(t)
	readers := map[string][]string{}
	for _, r := range e.Rules() {
		for _, k := range r.Inventory {
			readers[k] = append(readers[k], r.ID)
		}
	}
	kinds := e.InventoryKinds()
	if len(kinds) == 0 {
		t.Fatal("the engine reports no inventory kinds")
	}
	type need struct {
		groupResource
		verbs []string
		why   string
	}
	var needs []need
	for _, k := range kinds {
		gr, ok := inventoryResources[k]
		if !ok {
			t.Errorf("inventory kind %s (read by %v) has no API group and resource in inventoryResources: add it there and grant get, list and watch on it in deploy/chart/kgate/templates/rbac.yaml", k, readers[k])
			continue
		}
		needs = append(needs, need{gr, []string{"get", "list", "watch"}, "inventory kind " + k + " of " + strings.Join(readers[k], ", ")})
	}
	needs = append(needs,
		need{groupResource{"", "namespaces"}, []string{"get", "list", "watch"}, "namespace labels and annotations (cached client)"},
		need{groupResource{"", "events"}, []string{"create", "patch"}, "reload Events (core API)"},
		need{groupResource{"events.k8s.io", "events"}, []string{"create", "patch"}, "reload Events (events.k8s.io)"},
	)
	for _, file := range renderedFiles {
		t.Run(filepath.Base(file), func(t *testing.T) {
			m := readManifest(t, file)
			roles := boundRules(t, m)
			var all []rbacv1.PolicyRule
			for _, rules := range roles {
				all = append(all, rules...)
			}
			for _, n := range needs {
				for _, verb := range n.verbs {
					if !grants(all, n.group, n.resource, verb) {
						t.Errorf("ServiceAccount %s/%s may not %s %s in API group %q (%s)", namespace, serviceAccount, verb, n.resource, n.group, n.why)
					}
				}
			}
			rules, ok := roles["kgate"]
			if !ok {
				t.Fatalf("no ClusterRole kgate bound to ServiceAccount %s/%s", namespace, serviceAccount)
			}
			read := map[string]bool{"get": true, "list": true, "watch": true}
			for _, r := range rules {
				events := len(r.Resources) == 1 && r.Resources[0] == "events"
				for _, v := range r.Verbs {
					if !read[v] && !(events && (v == "create" || v == "patch")) {
						t.Errorf("ClusterRole kgate grants %s on %v in %v: it is read-only apart from creating Events", v, r.Resources, r.APIGroups)
					}
				}
			}
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

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
