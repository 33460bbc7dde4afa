# cutover — the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...
FUNCS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))

.PHONY: all up test build cli emulator lint format unit fuzz frontend frontend-test chromium lambdas lambdasize real-exports deploy-site bench bench-final bench-memory bench-anysize clean

## all (the default): build everything, and the analyst's CLI into bin/cutover.
all: build cli

## up: build the site, then run the whole service locally on the embedded emulator (kumo) and print where to open it.
## DESTINATION=receiver make up delivers TEST and LIVE to the reference receiver (the product being joined) instead.
## FUNCTION_CONCURRENCY=N make up lets each function run N processes at once (default 4).
up: frontend
	$(GO) run ./infra/cmd/up $(if $(DESTINATION),-destination $(DESTINATION)) $(if $(FUNCTION_CONCURRENCY),-concurrency $(FUNCTION_CONCURRENCY))

## test: every check and test: format, vet, template lint, front-end type checks and tests, Go tests (unit and end to end on the emulator, and the whole journey in headless Chromium), fuzzing, arm64 Lambda builds and their size, import and init budgets.
test: lint frontend-test unit fuzz lambdas lambdasize real-exports

## frontend: install the site's npm packages (from package-lock.json) and build it into frontend/dist/.
frontend: frontend/node_modules/.installed
	cd frontend && npm run build

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

## chromium: Debian's Chromium for the browser journey (installs it with apt-get when it is missing).
chromium:
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then exit 0; fi; \
	  echo "installing Debian's chromium"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null

## build: compile everything (the local stack builds its own binaries into .build/).
build:
	$(GO) build $(PKGS)

## cli: the offline mapping tool, bin/cutover (`bin/cutover inspect FILE`, `bin/cutover map --preset P FILE`).
cli:
	$(GO) build -o bin/cutover ./cmd/cutover

## lint: formatting (gofumpt, a stricter gofmt; `make format` fixes it), go vet,
## staticcheck and the template's cfn-lint. gofumpt and staticcheck are Go tools pinned in
## go.mod, so a fresh clone needs nothing installed by hand; files come from
## `git ls-files`, which leaves out .build/ and frontend/node_modules.
lint:
	@unformatted=$$($(GO) tool gofumpt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.build/*' -not -path './frontend/node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofumpt would change (run: make format): $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	cfn-lint template.yaml

## format: rewrite every tracked Go file with gofumpt. Not `gofumpt -w .`: that would
## also rewrite the emulator's sources the local stack unpacks into .build/.
format:
	$(GO) tool gofumpt -w $$(git ls-files '*.go')

## emulator: build kumo (with our Step Functions patch) once, so parallel test packages reuse it.
emulator:
	$(GO) run ./infra/cmd/emulator

unit: emulator frontend chromium
	$(GO) test -count=1 -timeout 20m $(PKGS)

## fuzz: a short run of every fuzz target (the seed corpus also runs in `unit`).
## Budgets are execution counts, not durations: Go 1.26's fuzz coordinator
## can fail a duration-bounded run with a spurious "context deadline
## exceeded" on a busy machine (go.dev/issue/75804, fixed in Go 1.27).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzPipelineBalances$$' -fuzztime 20000x -fuzzminimizetime 200x ./internal/pipeline
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime 300000x -fuzzminimizetime 200x ./internal/tabular
	$(GO) test -run '^$$' -fuzz '^FuzzDetectEncoding$$' -fuzztime 5000x -fuzzminimizetime 200x ./internal/tabular
	$(GO) test -run '^$$' -fuzz '^FuzzParseSpec$$' -fuzztime 50000x -fuzzminimizetime 200x ./internal/mapspec
	$(GO) test -run '^$$' -fuzz '^FuzzAmount$$' -fuzztime 30000x -fuzzminimizetime 200x ./internal/mapspec
	$(GO) test -run '^$$' -fuzz '^FuzzInferDate$$' -fuzztime 50000x -fuzzminimizetime 200x ./internal/mapspec
	$(GO) test -run '^$$' -fuzz '^FuzzMap$$' -fuzztime 60000x -fuzzminimizetime 200x ./internal/mapspec/presets
	$(GO) test -run '^$$' -fuzz '^FuzzPropose$$' -fuzztime 20000x -fuzzminimizetime 200x ./internal/mapspec/presets
	$(GO) test -run '^$$' -fuzz '^FuzzChunks$$' -fuzztime 100000x -fuzzminimizetime 200x ./internal/chunk
	$(GO) test -run '^$$' -fuzz '^FuzzCompare$$' -fuzztime 30000x -fuzzminimizetime 200x ./internal/delta
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime 30000x -fuzzminimizetime 200x ./internal/shuffle
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRecord$$' -fuzztime 50000x -fuzzminimizetime 200x ./internal/mapspec

## real-exports: score the CLI on the real vendor exports kept beside the
## checkout (../shared/conformance/real-exports, files nobody here wrote):
## at least REAL_EXPORTS_MIN of them must hold. Skipped, saying so, where
## that folder is absent (a clone outside the workplace).
REAL_EXPORTS     ?= ../shared/conformance/real-exports/run.sh
REAL_EXPORTS_MIN ?= 23
real-exports:
	@if [ -f "$(REAL_EXPORTS)" ]; then MIN_HOLD=$(REAL_EXPORTS_MIN) bash "$(REAL_EXPORTS)"; \
	  else echo "real-exports: $(REAL_EXPORTS) not found; skipped"; fi

## deploy-site: after `sam deploy`, upload the built site (SITE_BUCKET=<SiteBucketName output>
## SITE_DISTRIBUTION=<SiteDistributionId output>). Hashed assets are immutable and kept (pages
## still cached elsewhere may name them); pages and config.js are revalidated, and invalidated.
deploy-site: frontend
	@test -n "$(SITE_BUCKET)" -a -n "$(SITE_DISTRIBUTION)" || { echo "deploy-site: set SITE_BUCKET and SITE_DISTRIBUTION (the stack's SiteBucketName and SiteDistributionId outputs)" >&2; exit 1; }
	aws s3 sync frontend/dist/assets s3://$(SITE_BUCKET)/assets --cache-control "public, max-age=31536000, immutable"
	aws s3 sync frontend/dist s3://$(SITE_BUCKET) --exclude "assets/*" --cache-control "no-cache"
	aws cloudfront create-invalidation --distribution-id $(SITE_DISTRIBUTION) --paths "/*.html" "/config.js" "/"

## bench: the mapping benchmark (needs Miller: apt-get install miller), the S3
## drop's read-back whole against a part of it, what one step of the id
## shuffle's alias and links rounds allocates at three sizes, and the
## final migration's end-to-end benchmark on the local stack (1,000,000 rows,
## beside a bare BatchWriteItem loader); figures go in BENCHMARKS.md.
## bench-final alone: ROWS=100000 make bench-final for a quicker look.
bench:
	$(GO) test -run '^$$' -bench Pipeline -benchtime 3x ./internal/pipeline
	$(GO) test -run '^$$' -bench DropReadBack -benchtime 16x ./internal/destination/s3drop
	$(GO) test -run '^$$' -bench LinksRoundStep -benchtime 3x ./internal/migration/engine
	bash infra/bench/mapbench.sh
	$(MAKE) bench-memory
	$(MAKE) bench-final
	$(MAKE) bench-anysize

## bench-memory: the CLI's peak memory at 200,000 and 1,000,000 rows, in
## memory and through the shuffle, with the outputs compared byte for byte
## (issue 15 item 2; ROWS_MEMORY="200000 1000000 10000000" adds 10M, shuffled only;
## EXTRACT=agency maps an agency's contacts and tenancies naming people inline).
ROWS_MEMORY ?= 200000 1000000
bench-memory:
	bash infra/bench/membench.sh $(ROWS_MEMORY)

bench-final: emulator
	$(GO) test -run '^$$' -bench '^BenchmarkFinalMigration$$' -benchtime 1x -timeout 60m ./infra/e2e

## bench-anysize: the whole journey at scale on its own local stack (issue
## 15): ROWS generated contacts (500,000) as the test and the final extract,
## the proposed mapping (dedupe on), snapshots compared in key ranges of
## COMPARE_BYTES, beside a bare BatchWriteItem loader (the final extract
## submitted ahead of go-live, as a customer would); every function's peak
## memory, and each step's busy seconds. kumo holds DynamoDB and S3 in
## memory (BENCHMARKS.md); DESTINATION=receiver sends TEST and LIVE to
## the reference receiver; EXTRACT=agency runs an agency's contacts and
## tenancies (people named inline) instead; CHUNK_BYTES cuts the extracts
## into smaller chunks.
bench-anysize: emulator
	$(GO) test -run '^$$' -bench '^BenchmarkAnySize$$' -benchtime 1x -timeout 90m ./infra/e2e

frontend-test: frontend/node_modules/.installed
	cd frontend && npx tsc --noEmit && npm test

## lambdas: build every function exactly as `sam build` does, by running each
## functions/<name>/Makefile's build-<LogicalId> target (functions/lambda.mk:
## linux/arm64, stripped), into .build/arm64/<name>/bootstrap.
lambdas:
	@for f in $(FUNCS); do \
	  mk=functions/$$f/Makefile; \
	  target=$$(sed -n 's/^\(build-[A-Za-z0-9]*\):.*/\1/p' $$mk 2>/dev/null); \
	  if [ -z "$$target" ]; then echo "lambdas: $$mk has no build-<LogicalId> target (sam build needs one)" >&2; exit 1; fi; \
	  $(MAKE) -s --no-print-directory --makefile $$mk $$target ARTIFACTS_DIR=$(CURDIR)/.build/arm64/$$f || exit 1; \
	done; echo "built $(words $(FUNCS)) functions for linux/arm64 into .build/arm64/"

## lambdasize: every function's stripped arm64 size and package init against
## its class's budget (infra/lambdasize: light functions <= 10 MB, init
## < 5 ms beyond their AWS SDK clients' own, no mapping engine; engine
## functions no larger than their dependencies need); prints the table
## BENCHMARKS.md keeps.
lambdasize:
	$(GO) run ./infra/cmd/lambdasize -check

clean:
	rm -rf .build bin frontend/dist frontend/node_modules test-artifacts
