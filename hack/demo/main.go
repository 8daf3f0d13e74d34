// Command demo is make demo and make dev: it starts a local kube-apiserver and
// etcd with kgate serving their admission webhooks, applies the example manifests
// with kubectl and shows for each object what kgate did.
//
//	go run ./hack/demo [-keep] KGATE_BINARY
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/kgate-dev/kgate/test/e2e"
)

func main() {
	keep := flag.Bool("keep", false, "leave the control plane and kgate running until Ctrl-C (make dev)")
	examples := flag.String("examples", "examples", "directory of manifests to apply")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: demo [-keep] [-examples DIR] KGATE_BINARY")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *examples, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n\033[1m== %s\033[0m\n", fmt.Sprintf(format, args...))
}

func run(bin, examples string, keep bool) error {
	bin, _ = filepath.Abs(bin)
	dir, err := os.MkdirTemp("", "kgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("starting kube-apiserver and etcd, and kgate serve with a generated serving certificate")
	c, err := e2e.Start(bin, dir)
	if err != nil {
		return err
	}
	defer func() {
		step("shutting down kgate and the control plane")
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}()
	fmt.Printf("kubeconfig: %s\n", c.Kubeconfig)

	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		step("kubectl apply -f %s", f)
		out, stderr, err := c.Kubectl("", "apply", "-f", f)
		fmt.Print(out)
		fmt.Print(indentWarnings(stderr))
		if err != nil {
			fmt.Println("→ rejected by kgate: nothing was stored")
		}
		showMutations(c, out)
	}
	if keep {
		step("the control plane keeps running: press Ctrl-C to stop")
		fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
	}
	return nil
}

// indentWarnings keeps kubectl's error and warning lines, without the version-skew
// notice of an older kubectl.
func indentWarnings(stderr string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l == "" || strings.Contains(l, "version difference between client") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// showMutations prints, for every object kubectl reports as created or
// configured, which rules kgate applied and the fields they set.
func showMutations(c *e2e.Cluster, applied string) {
	for _, line := range strings.Split(applied, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !(fields[1] == "created" || fields[1] == "configured") {
			continue
		}
		ref := fields[0] // e.g. storageclass.storage.k8s.io/ebs-gp2
		args := []string{"get", ref, "-o", "json"}
		if !strings.HasPrefix(ref, "storageclass") && !strings.HasPrefix(ref, "nodepool") && !strings.HasPrefix(ref, "namespace") {
			args = append(args, "-n", "genai")
		}
		out, _, err := c.Kubectl("", args...)
		if err != nil {
			continue
		}
		var obj map[string]any
		if json.Unmarshal([]byte(out), &obj) != nil {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		ann, _ := meta["annotations"].(map[string]any)
		rules, _ := ann["kgate.dev/mutated"].(string)
		if rules == "" {
			fmt.Printf("→ %s stored as written\n", ref)
			continue
		}
		fmt.Printf("→ %s stored, mutated by kgate (%s):\n", ref, rules)
		for _, f := range changedFields(obj) {
			fmt.Printf("    %s\n", f)
		}
	}
}

// changedFields lists the fields kgate's rules set, as they are stored.
func changedFields(obj map[string]any) []string {
	var out []string
	get := func(path ...string) (any, bool) {
		var v any = obj
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[p]; !ok {
				return nil, false
			}
		}
		return v, true
	}
	for _, p := range [][]string{
		{"parameters", "type"}, {"parameters", "encrypted"}, {"volumeBindingMode"},
		{"metadata", "annotations", "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"},
		{"spec", "trafficDistribution"}, {"spec", "loadBalancerClass"}, {"allowVolumeExpansion"},
		{"metadata", "labels", "goldilocks.fairwinds.com/enabled"},
		{"metadata", "labels", "elbv2.k8s.aws/pod-readiness-gate-inject"},
	} {
		if v, ok := get(p...); ok {
			out = append(out, fmt.Sprintf("%s: %v", strings.Join(p, "."), v))
		}
	}
	return out
}
