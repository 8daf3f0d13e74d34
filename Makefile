# kgate: the README's two commands are `make demo` and `make test`.
GO ?= go
BIN := bin/kgate

.PHONY: all build test fmt-check vet unit bench demo docs clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kgate

## test: everything CI runs (formatting, vet, Go and Rego unit tests, the corpus test).
test: fmt-check vet unit

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

## docs: regenerate docs/rules.md from the rules' METADATA (a test fails when it is stale).
docs:
	$(GO) run ./cmd/kgate policies -o markdown > docs/rules.md

## bench: the engine and CLI benchmarks recorded in docs/performance.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./policies/ ./test/bench/

## demo: check the book's example manifests and show what --fix changes.
demo: build
	@hack/demo.sh $(BIN)

clean:
	rm -rf bin
