# clustermesh-lab: everyday targets. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin/clustermesh-lab
PKGS    := ./...

.PHONY: all build run test test-unit test-integration bench lint golden e2e e2e-images e2e-stage0 clean k8sbins fuzz

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
	KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) CLUSTERMESH_LAB_INTEGRATION=1 $(GO) test -race -count=1 -timeout 45m -tags integration -run '^TestIntegration' ./cluster/real/

## k8sbins: build etcd, kube-apiserver, kube-controller-manager and kube-scheduler from Go modules into K8SBINS_DIR (about 6 min cold, instant when built)
k8sbins:
	hack/k8sbins/build.sh $(K8SBINS_DIR)

## bench: benchmarks (lab, probe, concurrency ratio, TUI View)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: each fuzz test in turn for FUZZTIME (their corpora in testdata/fuzz replay in every test run)
FUZZTIME ?= 60s
FUZZERS  := .:FuzzParseScenario ./labdir:FuzzParseMeta ./steps:FuzzJournal ./cluster/sim:FuzzState \
	./cluster:FuzzClassifyAnswer ./cluster/real:FuzzProbeStream ./cluster/real:FuzzAgentStatus \
	./cluster/real:FuzzKVStoreMeshStatus ./cluster/real:FuzzKubeconfig ./cluster/real:FuzzBundle
fuzz:
	@set -e; for f in $(FUZZERS); do \
		echo "== $${f#*:} ($${f%%:*}, $(FUZZTIME))"; \
		nice -n 10 $(GO) test -run '^$$' -fuzz "^$${f#*:}$$" -fuzztime $(FUZZTIME) "$${f%%:*}"; \
	done

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

## e2e: the whole real lab headless on this machine's Docker engine, every image built here from Go modules and Debian packages (hack/e2e/README.md)
e2e: e2e-images
	hack/e2e/run.sh

## e2e-images: make the engine start kind nodes, then build what is missing or stale of the e2e binaries and images
e2e-images:
	hack/e2e/engine.sh
	hack/e2e/build-bins.sh
	hack/e2e/build-images.sh

## e2e-stage0: what this machine's engine allows (systemd, nested containerd, bpffs, vxlan, a user network)
e2e-stage0:
	hack/e2e/stage0.sh
