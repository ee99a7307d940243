# embedlab: `make run` to try it, `make test` to check it.
GO       ?= go
WASM     := web/app.wasm
# Brotli 9 encodes in about 1 s (1.74 MB); 11, which make bench uses, takes
# about 20 s for 1.54 MB.
BROTLI_QUALITY ?= 9
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)
export PATH := $(PATH):/usr/local/go/bin

# The Databricks App build (make app; make test checks its size): Linux, no
# emulator (with it and its SQLite engine the binary is 17.6 MB) and no HTTP/2 (net/http's
# bundled HTTP/2 is about 530 KB, and the app needs none: the Apps proxy speaks
# HTTP/1.1 to it, and the workspace's endpoints answer HTTP/1.1 as they do
# Databricks' own Python SDK). Databricks Apps refuse any file over 10 MB.
APP_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags noemulator,nethttpomithttp2 -trimpath -ldflags='-s -w'
APP_FILE_LIMIT := 10000000

.PHONY: run test fuzz bench build wasm vet fmt-check browser clean app app-size

## run: build the Wasm and serve http://localhost:3000 (with the emulator unless a workspace is configured)
run: wasm
	$(GO) run ./backend

## test: vet, check the Databricks App binary's size, build the Wasm and run
## every test, browser tests included, then a short fuzz pass
## (-timeout 30m: the browser tests of backend/e2e alone take over 10 minutes
## on 2 busy cores, e.g. 200 viewer switches per page and a page held open 60 s)
test: vet app-size wasm browser
	EMBEDLAB_CHROMIUM=$(CHROMIUM) $(GO) test -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz

## fuzz: each fuzz target for FUZZTIME (3s; e.g. FUZZTIME=2m for a real hunt)
## beyond its seed corpus, which plain go test runs. A failing input is saved
## under the package's testdata/fuzz: commit it, it becomes a seed.
## Minimizing a new input is capped at 100 runs: by default it may take a
## minute, and for the large .lvdash.json seeds FuzzParse spent all its time
## minimizing one input (17 runs in 60 s; about 6,000 a second with the cap).
FUZZTIME ?= 3s
FUZZ_TARGETS := shared/claims:FuzzDecode backend/broker:FuzzPackToken shared/wire:FuzzValidateViewer shared/wire:FuzzParseCustomClaim \
	backend/viewers:FuzzParse backend/emulator/dashboard:FuzzParse backend/emulator/dashboard:FuzzBind \
	backend/emulator/dashboard:FuzzRowsStayWithTheirViewer
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=./$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x $$pkg || exit 1; \
	done

## build: the Wasm and bin/embedlab
build: wasm
	$(GO) build -o bin/embedlab ./backend

## wasm: web/app.wasm, and its precompressed forms app.wasm.gz and app.wasm.br
## (skipped while the Wasm is unchanged)
wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WASM) ./app/wasm
	$(GO) run ./backend/bench/compress -brotli-quality $(BROTLI_QUALITY) $(WASM)

## app: dist/, what to upload as a Databricks App (see app.yaml): a Linux
## binary without the emulator, web/ and app.yaml; no file may exceed 10 MB
app: wasm
	rm -rf dist && mkdir -p dist/web
	$(APP_BUILD) -o dist/embedlab ./backend
	cp app.yaml dist/ && cp web/*.css web/*.png web/*.svg $(WASM) $(WASM).br $(WASM).gz dist/web/
	cp backend/viewers/viewers.json dist/viewers.json
	@big=$$(find dist -type f -size +$(APP_FILE_LIMIT)c); if [ -n "$$big" ]; then echo "over Databricks Apps' 10 MB file limit: $$big"; exit 1; fi
	@ls -l dist dist/web | awk 'NF>5 {print $$5, $$9}'

## bench: the Wasm's sizes, embed-token speed, upstream calls and memory: a table,
## and .bench/results.json (about a minute; not part of make test, which only vets it)
bench: wasm
	$(GO) run ./backend/bench/compress -force -brotli-quality 11 $(WASM)
	$(GO) run ./backend/bench -web web -out .bench/results.json

vet: fmt-check
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./app/... ./shared/...

## app-size: build the Databricks App binary as make app does, and fail when it
## is over the 10 MB file limit (it was 10,268,834 bytes at aa8970e, unnoticed)
app-size:
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && $(APP_BUILD) -o "$$out/embedlab" ./backend && \
	size=$$(wc -c < "$$out/embedlab") && \
	if [ "$$size" -gt $(APP_FILE_LIMIT) ]; then \
	  echo "the Databricks App binary is $$size bytes, over the $(APP_FILE_LIMIT)-byte file limit"; exit 1; \
	else echo "the Databricks App binary is $$size bytes, $$(( $(APP_FILE_LIMIT) - size )) under the limit"; fi; \
	if [ "$$size" -gt $$(( $(APP_FILE_LIMIT) - 1000000 )) ]; then \
	  echo "note: less than 1 MB of headroom left (the goal): see README, Deploying embedlab itself"; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# browser installs Debian's Chromium for the end-to-end tests when it is missing.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core; \
	  else echo "Chromium is needed for the browser tests: sudo apt-get install chromium"; exit 1; fi; \
	fi

clean:
	rm -rf bin dist $(WASM) $(WASM).gz $(WASM).br web/.app.wasm.* artifacts .bench
