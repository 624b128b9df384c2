# Set-up and checks on a fresh machine: `make demo` runs the pipeline, `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test check lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/paperradar demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Every test, on every core.
test: lint
	$(BIN)/pytest -n auto

# The edit loop: everything but the tests marked slow (real processes, the browser, whole days).
check: lint
	$(BIN)/pytest -n auto -m "not slow"

bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/pipeline.py
