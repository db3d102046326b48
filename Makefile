# Every target installs what it needs into .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: sandbox test lint typecheck check deploy-check bench stress fuzz serve worker migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

sandbox: $(STAMP)  ## the whole product against local simulators, on SQLite
	$(BIN)/meetbot sandbox

# The tests mostly wait on HTTP, subprocesses and the database, so more workers than cores pay.
TEST_WORKERS ?= 4

test: $(STAMP)  ## the whole test suite (SQLite and PostgreSQL), on TEST_WORKERS workers in parallel
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

deploy-check: $(STAMP)  ## the systemd units, nginx site and Procfile in deploy/, checked by the tools that read them
	MEETBOT=$(BIN)/meetbot deploy/check.sh

bench: $(STAMP)  ## meetbot under modelled load (SQLite and PostgreSQL), ~20 min; BENCH_ARGS="--quick" for a short run
	$(BIN)/python -m bench.run $(BENCH_ARGS)

fuzz: $(STAMP)  ## hostile requests to every route of `meetbot serve`, SQLite and PostgreSQL (SEED=…, COUNT=…)
	$(BIN)/python -m bench.fuzz --count $(or $(COUNT),10000) $(if $(SEED),--seed $(SEED))

stress: $(STAMP)  ## group classes booked and cancelled at once, slow platforms, workers killed; SQLite and PostgreSQL
	$(BIN)/python -m bench.class_stress --database sqlite $(STRESS_ARGS)
	$(BIN)/python -m bench.class_stress --database postgresql $(STRESS_ARGS)

serve: $(STAMP)
	$(BIN)/meetbot serve

worker: $(STAMP)
	$(BIN)/meetbot worker

migrate: $(STAMP)
	$(BIN)/meetbot migrate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
