# clustermesh-lab: everyday targets. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/clustermesh-lab
PKGS    := ./...

.PHONY: all build run test test-unit bench lint golden e2e clean k8sbins

all: build

build:
	$(GO) build -o $(BIN) .

## run: start the lab (interactive on a terminal; simulated mesh where no Docker engine answers)
run:
	$(GO) run .

## test: unit tests with the race detector
test: test-unit

## test-unit: the quick suite for iteration
test-unit:
	$(GO) test -race -count=1 $(PKGS)

## bench: benchmarks (lab, probe, concurrency ratio, TUI View)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

clean:
	rm -rf bin

## golden: regenerate the TUI golden files after an intended change
golden:
	$(GO) test ./tui -run . -update

## e2e: the whole lab headless on real kind clusters (needs Docker or Podman, ~8 GiB, about 15 minutes)
e2e:
	CLUSTERMESH_LAB_E2E=1 $(GO) test -count=1 -timeout 60m -run '^TestE2E$$' -v ./cluster/real/
