# Two entry points for a fresh clone: `make dev` (the server on the examples) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 2024
BIN := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

.PHONY: install dev test lint bench manifests dashboards
install: $(BIN)/.installed

dev: install
	$(BIN)/lg-deploy dev --config examples/langgraph.json --port $(PORT)

lint: install
	$(BIN)/ruff check shared functions tests examples charts
	$(BIN)/ruff format --check shared functions tests examples charts
	$(BIN)/mypy shared functions charts/lg-deploy/dashboards/generate.py
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest
	# the API suite again, against the production topology of `lg-deploy up` (Kafka, processes)
	LG_DEPLOY_TEST_SERVER=up $(BIN)/pytest tests/api

bench: install
	$(BIN)/python -m tests.bench.bench_core

manifests: install
	$(BIN)/python -m tests.deploy.render

dashboards: install
	$(BIN)/python charts/lg-deploy/dashboards/generate.py
