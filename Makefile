# Every target bootstraps itself: uv (if missing) into .uv-bootstrap/, then the venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.uv-bootstrap/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test test-lake test-lake-all lake-env lint clean stack-up stack-down stack-up-lake stack-down-lake system-deps bench bench-workers bench-10m bench-dedupe bench-splink

$(CURDIR)/.uv-bootstrap/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.uv-bootstrap
	$(CURDIR)/.uv-bootstrap/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

## Generate sample data and run a full daily refresh on it (the main job).
demo: .venv/.synced
	$(UV) run --frozen segments demo

## Run the whole test suite: the main environment's, then the DuckLake backend's in the lake environment,
## each in two pytest processes (a test module stays in one: its fixtures are set up once); the 25
## slowest tests are listed at the end (what to look at when the suite grows slow).
PYTEST_PARALLEL ?= -n 2 --dist loadfile
PYTEST_REPORT ?= --durations=25
test: .venv/.synced system-deps
	$(UV) run --frozen pytest $(PYTEST_PARALLEL) $(PYTEST_REPORT)
	$(MAKE) test-lake

## The lake environment (envs/lake/.venv): the project on DuckDB 1.5.5 with the signed DuckLake and
## PostgreSQL extensions, the only DuckDB the package index has them for.
lake-env: envs/lake/.venv/.synced
envs/lake/.venv/.synced: $(UV) pyproject.toml envs/lake/pyproject.toml envs/lake/uv.lock
	$(UV) sync --frozen --project envs/lake --python $(PYTHON)
	touch $@

## The DuckLake backend's tests (real PostgreSQL catalogs), in the lake environment.
test-lake: envs/lake/.venv/.synced system-deps
	envs/lake/.venv/bin/python -m pytest $(PYTEST_PARALLEL) tests/lake

## The whole suite on the DuckLake backend: every config a test writes gets its own lake (a PostgreSQL
## catalog and Parquet files) instead of a DuckDB file; tests of the file itself are skipped (file_backend).
## The stack tests start `deployments/stack.sh`, which runs the main environment's Prefect (.venv).
test-lake-all: envs/lake/.venv/.synced .venv/.synced system-deps
	SEGMENTS_TEST_BACKEND=lake envs/lake/.venv/bin/python -m pytest $(PYTEST_PARALLEL)

# Programs the tests use for real: Chromium (the Prefect UI and the HTML report), the Noto CJK fonts
# (without them Chromium draws Chinese as empty boxes) and a PostgreSQL server (a database source).
# Installed with apt-get when missing and this user may (root or password-less sudo); otherwise a
# clear message.
system-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "The tests need:$$missing. Install with: sudo apt-get install$$missing"; exit 1; fi; \
	  echo "Installing$$missing (Debian packages) for the tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

## Local Prefect stack: server on 127.0.0.1:4200, work pool, both deployments, a worker.
stack-up: .venv/.synced
	deployments/stack.sh up

stack-down:
	deployments/stack.sh down

## The same stack on a DuckLake warehouse: a PostgreSQL catalog, the Prefect server, a work pool with two
## workers, on loopback, run with the lake environment (config: demo-data/lake.yaml, from make demo).
stack-up-lake: envs/lake/.venv/.synced
	deployments/stack.sh up-lake

stack-down-lake:
	deployments/stack.sh down-lake

## Benchmark the refresh (not a test): sample data at SIZES persons, RUNS runs each (LARGE_RUNS from 1M
## on): the floor (every source read once + per-customer aggregates), full and incremental refreshes, and a
## 30-day backfill at 100k (BENCH_ARGS='--backfill-sizes ""' leaves it out); at 1M also the full and
## incremental refresh on a DuckLake and two workers of the lake stack against one (--lake-sizes,
## --workers-sizes; the lake environment); appends the figures to BENCHMARKS.md. Needs the bench
## dependency group (pandas, splink, pyinstrument).
SIZES ?= 100000 1000000
RUNS ?= 3
LARGE_RUNS ?= 1
BENCH_ARGS ?=
bench: .venv/.synced envs/lake/.venv/.synced
	$(UV) sync --frozen --group bench --python $(PYTHON)
	$(UV) run --frozen --group bench python -m bench --sizes "$(SIZES)" --runs $(RUNS) --large-runs $(LARGE_RUNS) $(BENCH_ARGS)

## The lake stack with two workers (customer features in two shards) against one, through the deployments
## (bench/workers.py; PERSONS persons, default 1M; also part of make bench); appends to BENCHMARKS.md.
PERSONS ?= 1000000
bench-workers: envs/lake/.venv/.synced
	envs/lake/.venv/bin/python -m bench.workers --persons $(PERSONS)

## 10M customers / 100M sessions: one full refresh through the flow, then one new day and an incremental
## refresh (BENCH_ARGS=--skip-incremental leaves it out), DuckDB bounded to 8 GB and spilling to disk
## (needs ~40 GB free disk); appends its figures to BENCHMARKS.md.
bench-10m: .venv/.synced
	$(UV) sync --frozen --group bench --python $(PYTHON)
	$(UV) run --frozen --group bench python -m bench.large --persons 10000000 --memory-limit 8GB $(BENCH_ARGS)

## Time identity resolution of 1,000,000 generated customer records (data in bench-data/, not in git).
bench-dedupe: .venv/.synced
	$(UV) run --frozen python -m bench.dedupe --records 1000000 --dir bench-data

## Our matcher against a standard Splink model on FEBRL, fake_1000 and generated data.
bench-splink: .venv/.synced
	$(UV) sync --frozen --group bench
	$(UV) run --frozen --group bench python bench/splink_compare.py

lint: .venv/.synced
	$(UV) run --frozen ruff check .

clean:
	rm -rf demo-data .venv envs/lake/.venv .uv-bootstrap .pytest_cache .stack .stack-lake
