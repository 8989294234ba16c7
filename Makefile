# FaceSign. `make demo` runs the whole stack in simulator mode; `make test` runs every test.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
PKGS      := ./...
# Node peers used by interop and conformance tests: every */testdata/node/package.json.
NODE_DIRS := $(patsubst %/package.json,%,$(wildcard */testdata/node/package.json */*/testdata/node/package.json */*/*/testdata/node/package.json))
# Reproducible builds: no cgo, no paths, no VCS stamps.
REPRO     := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags='-s -w -buildid='

# The client SDK as browsers run it: WebAssembly, tested under node. Tests that
# start processes (os/exec) cannot run there; they run natively above.
WASM_PKGS := ./client/js ./client/wallet ./wire ./attest ./internal/cborenc ./internal/base58
WASM_SKIP := TestNoSimulatorImport|TestInteropJS

.PHONY: all build wasm page test test-page test-arm64 test-short lint vulncheck bench bench-faiss bench-scale crash crash-fleet bench-fleet eval demo run eif node-deps tools clean

all: build

# build also builds the browser SDK: facesign sim serves the enrolment page
# from bin/facesign.wasm and bin/wasm_exec.js, beside bin/facesign. It also
# cross-builds the enclave binary for arm64 (Graviton hosts).
build: wasm
	$(REPRO) -o bin/facesign ./cmd/facesign
	$(REPRO) -o bin/facesign-enclave ./cmd/facesign-enclave
	GOOS=linux GOARCH=arm64 $(REPRO) -o bin/facesign-enclave-arm64 ./cmd/facesign-enclave

# wasm builds the browser SDK (client/js): bin/facesign.wasm and Go's loader.
wasm:
	GOOS=js GOARCH=wasm $(REPRO) -o bin/facesign.wasm ./cmd/facesign-wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" bin/

# page writes the enrolment page as static files for an app's own origin
# (docs/page.md). PAGE_FLAGS say what it trusts and where the API is, e.g.
#   make page PAGE_FLAGS="--api https://api.example --page-pcr 0=HEX --page-pcr 1=HEX --page-pcr 2=HEX"
# Without PAGE_FLAGS: a SIMULATOR page (banner) for "facesign sim" on its
# default address, trusting the root that simulator serves.
PAGE_FLAGS ?= --simulator --api http://127.0.0.1:8080
page: build
	rm -rf bin/page
	./bin/facesign page build --out bin/page $(PAGE_FLAGS)

# node-deps installs the pinned npm peers (package-lock.json, integrity checked).
node-deps:
	@for d in $(NODE_DIRS); do \
		if [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules ]; then \
			echo "npm ci in $$d"; (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
		fi; \
	done

# test runs every package, among them the fleet's: internal/fleettest (16 concurrent enrolments of
# one face over three enclaves, the rolling image upgrade, the engine migration, a foreign image
# refused) and internal/crashtest's TestCrashFleet (3 cycles; make crash-fleet runs 200).
test: node-deps
	# cmd/facesign takes 5–10 min under -race on two loaded cores (its engine scripts); 25m is a hang guard, not a budget
	$(GO) test -race -count=1 -timeout 25m $(PKGS)
	# the pure-Go twins of the assembly kernels, as the code in use
	$(GO) test -count=1 -tags purego ./vectors/internal/scan/ ./vectors/internal/nn/ ./vectors/
	# the kernel level capped at start by FACESIGN_CPU (docs/engine-perf.md), also under the graph
	# executor and the detector and engines it runs (their fallbacks when a kernel declines)
	FACESIGN_CPU=generic $(GO) test -count=1 ./vectors/internal/isa/ ./vectors/internal/scan/ ./vectors/internal/nn/ \
		./vectors/internal/graph/ ./vectors/detect/ ./vectors/faceengine/
	$(MAKE) test-arm64
	# the browser SDK and what it links, compiled to WebAssembly and run by node
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -skip '$(WASM_SKIP)' $(WASM_PKGS)

# test-page runs the enrolment page's whole browser flow (docs/page.md): A
# enrols and comes back, B enrols and deletes, a printed photo and a screen
# replay, a denied camera. make test runs the shorter flow.
test-page: node-deps
	FACESIGN_PAGE_FULL=1 $(GO) test -count=1 -timeout 30m -run TestPageInBrowser -v ./client/page

# test-arm64 runs the vectors, enclave and attest tests built for linux/arm64
# under qemu-user (Debian qemu-user; .ci/run installs it): the NEON kernels
# and the Go twins, each test at levels generic and neon (bit for bit where
# the kernels promise it), the engines' forward passes on the NEON kernels
# against their reference runtimes once (-short: a few crops and images;
# arcfacemfn and frfeature, the default engine's two networks, included),
# the enclave pipeline on the fake engine (its real-engine tests, which run
# the CNN dozens of times, stay native), sealed state and attestation.
# enclave/kms stays native: stdlib RSA for the KMS recipient, minutes under
# emulation and no kernel of ours.
QEMU_ARM64 ?= qemu-aarch64
ARM64_PKGS := ./vectors/internal/... ./vectors/align/ ./vectors/imageio/ ./attest/... ./enclave/ ./enclave/state/ ./enclave/stateboot/
test-arm64: node-deps
	@command -v $(QEMU_ARM64) >/dev/null || { echo "test-arm64: $(QEMU_ARM64) not found (Debian: apt-get install qemu-user)"; exit 1; }
	GOARCH=arm64 $(GO) test -short -count=1 -timeout 10m -exec $(QEMU_ARM64) -skip 'RealEngine' $(ARM64_PKGS)
	GOARCH=arm64 $(GO) test -short -count=1 -timeout 10m -exec $(QEMU_ARM64) -run 'Conformance' ./vectors/dlibresnet/ ./vectors/mobilefacenet/ ./vectors/arcfacemfn/ ./vectors/frfeature/ ./vectors/detect/
	# the level capped at start by FACESIGN_CPU on arm64 (neon → generic)
	FACESIGN_CPU=generic GOARCH=arm64 $(GO) test -short -count=1 -timeout 10m -exec $(QEMU_ARM64) ./vectors/internal/isa/ ./vectors/internal/scan/ ./vectors/internal/nn/

test-short:
	$(GO) test -short -count=1 $(PKGS)

tools:
	@command -v staticcheck >/dev/null 2>&1 || test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GOOS=js GOARCH=wasm $(GO) vet ./client/js ./cmd/facesign-wasm
	PATH=$(GOBIN):$$PATH staticcheck $(PKGS)

# govulncheck needs the vulnerability database, which is not reachable everywhere.
vulncheck:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@latest $(PKGS)

bench: node-deps
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# eval scores the default engine on the labelled faces beside the repository.
eval: build
	mkdir -p out && ./bin/facesign eval --dataset ../shared/testdata/faces --plot out/eval.png

# crash runs the issue's 200 SIGKILL cycles against the simulator (make test runs 5).
crash:
	FACESIGN_CRASH_CYCLES=200 $(GO) test -count=1 -run TestCrash -timeout 3h -v ./internal/crashtest

# crash-fleet runs the issue's 200 cycles across a fleet of three enclaves on one store (make test runs 3).
crash-fleet:
	FACESIGN_CRASH_FLEET_CYCLES=200 $(GO) test -count=1 -run TestCrashFleet -timeout 6h -v ./internal/crashtest

# bench-fleet measures login throughput of a simulator fleet at N = 1, 2, 3 enclaves (docs/fleet.md).
bench-fleet: build
	./scripts/bench-fleet.sh

# bench-scale times one search at N = 10^5, 10^6 and 4·10^6.
bench-scale:
	./bench/search-scale.sh

# bench-faiss runs FAISS (Debian python3-faiss) beside our search kernels on the same vectors.
bench-faiss: build
	./scripts/bench-faiss.sh

demo run: build
	./scripts/demo.sh

# eif builds the enclave image; ARCH=aarch64 builds the Graviton one.
ARCH ?= x86_64
eif: build
	ARCH=$(ARCH) ./scripts/eif.sh

clean:
	rm -rf bin
