// Package bench generates the synthetic workloads kgate's throughput benchmarks
// run on.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteWorkload writes n objects into dir, in files of perFile documents: a mix of
// Deployments, LoadBalancer Services, StorageClasses and NetworkPolicies across 50
// namespaces, about a third of them violating a rule. It returns the number of
// objects written.
func WriteWorkload(dir string, n, perFile int) (int, error) {
	var b strings.Builder
	file := 0
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		name := filepath.Join(dir, fmt.Sprintf("workload-%04d.yaml", file))
		file++
		err := os.WriteFile(name, []byte(b.String()), 0o644)
		b.Reset()
		return err
	}
	for i := 0; i < n; i++ {
		if i > 0 && i%perFile == 0 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		ns := fmt.Sprintf("team-%02d", i%50)
		bad := i%3 == 0
		switch i % 4 {
		case 0:
			deployment(&b, i, ns, bad)
		case 1:
			service(&b, i, ns, bad)
		case 2:
			storageClass(&b, i, bad)
		default:
			networkPolicy(&b, i, ns, bad)
		}
	}
	return n, flush()
}

func deployment(b *strings.Builder, i int, ns string, bad bool) {
	resources := `
        resources:
          requests: {cpu: 500m, memory: 1Gi}
          limits: {memory: 1Gi}`
	if bad {
		resources = ""
	}
	fmt.Fprintf(b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: %s
  labels: {app: app-%d}
spec:
  replicas: 3
  selector:
    matchLabels: {app: app-%d}
  template:
    metadata:
      labels: {app: app-%d}
    spec:
      containers:
      - name: api
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app:1.%d.0
        ports:
        - containerPort: 8080%s
`, i, ns, i, i, i, i, resources)
}

func service(b *strings.Builder, i int, ns string, bad bool) {
	target := "\n    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip"
	traffic := "\n  trafficDistribution: PreferSameZone"
	if bad {
		target, traffic = "", ""
	}
	fmt.Fprintf(b, `apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: %s
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external%s
spec:
  type: LoadBalancer
  selector: {app: app-%d}
  ports:
  - port: 80
    targetPort: 8080%s
`, i, ns, target, i, traffic)
}

func storageClass(b *strings.Builder, i int, bad bool) {
	typ := "gp3"
	if bad {
		typ = "gp2"
	}
	fmt.Fprintf(b, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: sc-%d
provisioner: ebs.csi.aws.com
parameters:
  type: %s
  encrypted: "true"
volumeBindingMode: WaitForFirstConsumer
`, i, typ)
}

func networkPolicy(b *strings.Builder, i int, ns string, bad bool) {
	from := "\n  - from:\n    - podSelector: {matchLabels: {app: ui}}\n    ports:\n    - {protocol: TCP, port: 80}"
	if bad {
		from = "\n  - {}"
	}
	fmt.Fprintf(b, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np-%d
  namespace: %s
spec:
  podSelector: {matchLabels: {app: app-%d}}
  policyTypes: [Ingress]
  ingress:%s
`, i, ns, i, from)
}
