# kgate: the README's two commands are `make demo` and `make test`.
GO ?= go
BIN := bin/kgate

.PHONY: all build test fmt-check vet unit bench demo dev docs generate manifests clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kgate

## test: everything CI runs (formatting, vet, Go and Rego unit tests, the corpus
## test, the end-to-end webhook tests on a real control plane).
test: fmt-check vet unit

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	@out="$$($(GO) run github.com/open-policy-agent/opa@$$($(GO) list -m -f '{{.Version}}' github.com/open-policy-agent/opa) fmt -l rego/)"; \
	if [ -n "$$out" ]; then echo "opa fmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The end-to-end tests run kgate behind a real kube-apiserver and etcd, built once
# from the Go module proxy into a cache outside the repository (hack/envtest-assets.sh;
# about 15 minutes the first time on 2 cores, instant afterwards). The cache also
# holds a kubectl, used only when none is installed.
unit:
	@assets="$$(hack/envtest-assets.sh)" && \
	echo "KUBEBUILDER_ASSETS=$$assets" && \
	helm="$$(hack/helm.sh)" && \
	KUBEBUILDER_ASSETS="$$assets" KGATE_HELM="$$helm" PATH="$$PATH:$$assets" $(GO) test -count=1 ./...

## docs: regenerate docs/rules.md from the rules' METADATA (a test fails when it is stale).
docs: generate
	$(GO) run ./cmd/kgate policies -o markdown > docs/rules.md

## generate: rewrite policies/compiled/, the planned built-in library every kgate
## binary starts from, after a change to rego/ (a test fails when it is stale).
generate:
	$(GO) test ./policies/ -run '^TestCompiledLibraryIsCurrent$$' -count=1 -update

## manifests: render deploy/kgate.yaml (cert-manager) and deploy/kgate-self-signed.yaml
## (no cert-manager) from the Helm chart; a test fails when they are stale.
manifests:
	@mkdir -p deploy/chart/kgate/crds && \
	dir="$$($(GO) list -m -f '{{.Dir}}' github.com/openreports/reports-api)" && \
	for f in "$$dir"/config/crd/openreports.io_*.yaml; do cp "$$f" deploy/chart/kgate/crds/ && chmod 644 deploy/chart/kgate/crds/$$(basename "$$f"); done && \
	helm="$$(hack/helm.sh)" && \
	"$$helm" template kgate deploy/chart/kgate --include-crds --namespace kgate-system --set createNamespace=true > deploy/kgate.yaml && \
	"$$helm" template kgate deploy/chart/kgate --include-crds --namespace kgate-system --set createNamespace=true --set certificates.certManager=false > deploy/kgate-self-signed.yaml

## bench: the engine and CLI benchmarks recorded in docs/performance.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./policies/ ./test/bench/

## demo: start a local control plane with kgate as its admission webhook, apply the
## examples with kubectl and show what kgate mutated, warned about and rejected;
## then check the same manifests offline and show what --fix changes.
demo: build
	@assets="$$(hack/envtest-assets.sh)" && \
	KUBEBUILDER_ASSETS="$$assets" PATH="$$PATH:$$assets" $(GO) run ./hack/demo $(BIN)
	@hack/demo.sh $(BIN)

## dev: like demo, but leave the control plane and kgate running (prints KUBECONFIG).
dev: build
	@assets="$$(hack/envtest-assets.sh)" && \
	KUBEBUILDER_ASSETS="$$assets" PATH="$$PATH:$$assets" $(GO) run ./hack/demo -keep $(BIN)

clean:
	rm -rf bin
