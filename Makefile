# stockdrift: `make demo` and `make test` create the environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test dev lint typecheck manifest clean env

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

manifest: $(STAMP)
	cd dbt && ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: manifest
	$(BIN)/stockdrift demo

test: manifest
	$(BIN)/ruff check .
	$(BIN)/mypy stockdrift extractors alerts expectations
	$(BIN)/python -m pytest -q

dev: manifest
	$(BIN)/stockdrift dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true

typecheck: $(STAMP)
	$(BIN)/mypy stockdrift extractors alerts expectations

clean:
	rm -rf out dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache
