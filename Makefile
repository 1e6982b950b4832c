# The template repository's own tasks. The generated project has its own Makefile.
#   make demo         generate the default project into .demo/ and serve it on http://localhost:8000
#   make test         template tests: questions, answers, tool parity, bakes and their quality gates
#   make sync-copier  regenerate copier.yml from cookiecutter.json, features.toml and hooks/rules.py
#   make lint         ruff and mypy over the template's tests and hooks

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := .demo
PYTEST_ARGS ?=
# Two workers: the combinations' project suites run side by side (CI has 2 cores); WORKERS=0 runs in one process.
# One test at a time per worker, longest first (tests/conftest.py), so that both finish together.
WORKERS ?= 2

.PHONY: demo test sync-copier lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q '.[dev]'
	touch $@

demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO) $(CURDIR)
	$(MAKE) -C $(DEMO)/my_app run

test: $(VENV)/.installed
	$(BIN)/python -m pytest -v -n $(WORKERS) --maxschedchunk 1 $(PYTEST_ARGS)

sync-copier: $(VENV)/.installed
	$(BIN)/python hooks/sync_copier.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) .cache build *.egg-info

.PHONY: bench-compare
bench-compare: $(VENV)/.installed  ## BENCH_ARGS="--smoke", "--rounds 5", "--no-postgresql"
	$(BIN)/python tests/bench/compare.py $(BENCH_ARGS)
