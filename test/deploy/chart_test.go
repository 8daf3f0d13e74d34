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
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kgate-dev/kgate/policies"
)

const (
	namespace      = "kgate-system"
	serviceAccount = "kgate"
	chartDir       = "../../deploy/chart/kgate"
)

// renderedFiles are the plain manifests of deploy/, checked as shipped.
var renderedFiles = []string{"../../deploy/kgate.yaml", "../../deploy/kgate-self-signed.yaml"}

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
