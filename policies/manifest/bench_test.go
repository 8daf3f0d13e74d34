package manifest

import (
	"strings"
	"testing"
)

// benchDoc is a typical Deployment.
const benchDoc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: team-01
  labels: {app: app}
spec:
  replicas: 3
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: api
        image: 111122223333.dkr.ecr.us-west-2.amazonaws.com/app:1.0.0
        ports:
        - containerPort: 8080
        resources:
          requests: {cpu: 500m, memory: 1Gi}
          limits: {memory: 1Gi}
`

// BenchmarkParse reads a 100-document file of Deployments with go-yaml, keeping
// the node trees that --fix patches.
func BenchmarkParse(b *testing.B) {
	data := []byte(strings.Repeat(benchDoc+"---\n", 100))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f := Parse("bench.yaml", data)
		if len(f.Docs) != 100 {
			b.Fatal(len(f.Docs))
		}
	}
}

// BenchmarkParseRange reads the same file as kgate check does when not fixing:
// with the fast reader, forgetting the documents after use.
func BenchmarkParseRange(b *testing.B) {
	data := []byte(strings.Repeat(benchDoc+"---\n", 100))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f := Split("bench.yaml", data)
		if docs, _ := f.ParseRange(0, f.NumChunks(), nil, false); len(docs) != 100 {
			b.Fatal(len(docs))
		}
	}
}
