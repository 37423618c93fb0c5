# stockdrift: `make demo` and `make test` create the environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test-library demo test dev lint typecheck manifest clean env test-spark bench test-faults bench-extract bench-detect bench-scaling

env: $(STAMP)

# First run only: says what it does and how long it takes, then pip shows each package.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> stockdrift: installing the pinned stack (constraints.txt) into $(VENV):" \
		"about a minute on a fast link, ~1.2 GB on disk; later runs skip this step"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [1/2] upgrading pip"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> [2/2] installing stockdrift[dev]: Dagster, dbt-duckdb, Great Expectations, ..."
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	touch $(STAMP)
	@echo "==> ready: the command is $(BIN)/stockdrift (or run '. $(BIN)/activate' first)"

manifest: $(STAMP)
	cd dbt && ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: manifest
	$(BIN)/stockdrift demo

test: manifest
	$(BIN)/ruff check .
	$(BIN)/mypy stockdrift extractors alerts expectations
	$(BIN)/python -m pytest -q

# Scaling series 10k/30k/100k SKUs x 10 locations x 6 systems, then the growth line (21 cycles
# at 10k); figures vs targets (bench/README.md)
bench: manifest
	$(BIN)/python -m bench.run

# The whole reliability suite (3x7 fault matrix, kill -9, concurrent cycles); `make test` runs
# its fast part. The summary table is written into docs/RELIABILITY.md.
test-faults: manifest
	STOCKDRIFT_FAULTS_FULL=1 STOCKDRIFT_FAULTS_SUMMARY=docs/RELIABILITY.md \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/faults

# The dbt project on DuckDB and on Spark (dbt-spark session mode, needs Java 17+) from the
# same Parquet raw snapshots; every mart must match row for row (docs/SCALING.md).
test-spark: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	STOCKDRIFT_TEST_SPARK=1 $(BIN)/python -m pytest -q -s tests/spark

dev: manifest
	$(BIN)/stockdrift dev

# The leadership report for the last 7 days of out/stockdrift.duckdb (after `make demo`).
.PHONY: report
report: $(STAMP)
	$(BIN)/stockdrift report --last 7d

# DuckDB vs local Spark from the same Parquet, 1k/10k/100k SKUs x 10 x 6 (docs/SCALING.md);
# needs Java 17+. BENCH_SCALING_ARGS, e.g. "--series 1000,10000 --cap 240".
bench-scaling: manifest
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	$(BIN)/python -m bench.scaling $(BENCH_SCALING_ARGS)

bench-extract: $(STAMP)
	$(BIN)/python -m bench.extract

# Detection quality vs the sandbox's ground truth (issue 4): 3 seeds (the scenario library
# twice, the demo's faults across a DST night) x 48 simulated hours at 5-minute cycles, all
# at once: 17 min 57 s to 19 min 31 s on 2 cores across four runs before issue 15, 20 min
# 32 s after it on a day its unchanged extraction ran 10-17 % slower (README). Two seeds,
# one per core (BENCH_DETECT_ARGS="--seeds 0,1 --jobs 2"), took 11 min 22 s
# (figures: bench/README.md).
BENCH_DETECT_ARGS ?= --seeds 0,1,2 --hours 48 --jobs 3
bench-detect: manifest
	$(BIN)/python -m bench.detect $(BENCH_DETECT_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

typecheck: $(STAMP)
	$(BIN)/mypy stockdrift extractors alerts expectations

clean:
	rm -rf out dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache

# The scenario library through Dagster (24 cycles, ~4-6 min): every injected cause found.
test-library: manifest
	STOCKDRIFT_E2E_LIBRARY=1 $(BIN)/python -m pytest -q tests/e2e/test_demo_library.py
