# Cirrus: two commands on a fresh machine.
#   make run   build .venv if needed, start the embedded local stack (moto + the API on :8000) with demo data
#   make test  build .venv if needed, run lint, type checks and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"
	$(BIN)/python -m pip install --quiet -e ".[dev,infra]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m chalicelib.local

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy chalicelib app.py tests/fakes tests/contract

pytest: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/request_costs.py
	$(BIN)/python bench/billing_costs.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/local_scale.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache cdk.out chalice.out
