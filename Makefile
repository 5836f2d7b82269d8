# voucherd — the Makefile is the contract: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt bench bench-quick soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps ## set up and serve the API on SQLite at ./var/voucherd.db (127.0.0.1:8000)
	@mkdir -p var
	$(BIN)/voucherd serve

test: $(VENV)/.test-deps ## set up, lint, and run the whole suite on SQLite and PostgreSQL
	scripts/ensure-postgres
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-deps ## ruff, ruff format --check, mypy (strict), import-linter contracts
	$(BIN)/ruff check voucherd tests bench
	$(BIN)/ruff format --check voucherd tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(VENV)/.test-deps ## format and auto-fix
	$(BIN)/ruff format voucherd tests bench
	$(BIN)/ruff check --fix voucherd tests bench

$(VENV)/.bench-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@ $(VENV)/.test-deps $(VENV)/.run-deps

BENCH_DB ?= sqlite
# (f) lists one customer's redemptions with this many stored (BENCH_REDEMPTIONS=0: none).
BENCH_REDEMPTIONS ?= 1000000
bench: $(VENV)/.bench-deps ## benchmark voucherd serve, 2 workers (BENCH_DB=postgresql); writes bench/results/
	scripts/ensure-wrk
	@if [ "$(BENCH_DB)" = "postgresql" ]; then scripts/ensure-postgres; fi
	$(BIN)/python -m bench --db $(BENCH_DB) --redemptions $(BENCH_REDEMPTIONS)

bench-quick: $(VENV)/.bench-deps ## the same at 8 clients, 3 s per point (for development)
	scripts/ensure-wrk
	@if [ "$(BENCH_DB)" = "postgresql" ]; then scripts/ensure-postgres; fi
	$(BIN)/python -m bench --db $(BENCH_DB) --quick

soak: $(VENV)/.test-deps ## longer hardening runs: fuzzing with fresh examples, more crash rounds
	scripts/ensure-postgres
	VOUCHERD_SOAK=1 VOUCHERD_FUZZ_EXAMPLES=$${VOUCHERD_FUZZ_EXAMPLES:-200} \
	VOUCHERD_CRASH_ROUNDS=$${VOUCHERD_CRASH_ROUNDS:-12} \
	$(BIN)/pytest tests/hardening $(PYTEST_ARGS)

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
