# clustermesh-lab: everyday targets. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/clustermesh-lab
PKGS    := ./...

.PHONY: all build run test test-unit test-integration bench lint golden e2e clean k8sbins

# Control-plane binaries for the integration suite (hack/k8sbins); the
# suite reads them from KUBEBUILDER_ASSETS, this directory unless set.
K8SBINS_DIR        ?= $(CURDIR)/.cache/k8sbins/v1.37.2
KUBEBUILDER_ASSETS ?= $(K8SBINS_DIR)

all: build

build:
	$(GO) build -o $(BIN) .

## run: start the lab (interactive on a terminal; simulated mesh where no Docker engine answers)
run:
	$(GO) run .

## test: the whole suite, on a fresh machine too: the unit tests, the control-plane binaries (built when missing), the integration suite; what CI runs via .ci/run
test: test-unit k8sbins test-integration

## test-unit: the quick suite for iteration: unit tests with the race detector
test-unit:
	$(GO) test -race -count=1 $(PKGS)

## test-integration: the real backend against two real control planes; builds them first when missing (k8sbins), and fails rather than skips without them
test-integration: k8sbins
	KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) CLUSTERMESH_LAB_INTEGRATION=1 $(GO) test -race -count=1 -timeout 20m -tags integration -run '^TestIntegration' ./cluster/real/

## k8sbins: build etcd, kube-apiserver, kube-controller-manager and kube-scheduler from Go modules into K8SBINS_DIR (about 6 min cold, instant when built)
k8sbins:
	hack/k8sbins/build.sh $(K8SBINS_DIR)

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
