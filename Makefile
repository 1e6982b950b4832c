# The template repository's own tasks. The generated project has its own Makefile.
#   make demo          generate the default project into .demo/ and serve it on http://localhost:8000
#   make test          template tests: questions, answers, tool parity, bakes and their quality gates
#   make test-newest   the same on the newest releases the version ranges allow (no lock changes)
#   make lock          after editing dependencies: uv.lock and the project's uv.lock.jinja, versions kept
#   make lock-upgrade  both locks on the newest releases the ranges allow
#   make sync-copier   regenerate copier.yml from cookiecutter.json, features.toml and hooks/rules.py
#   make lint          ruff and mypy over the template's tests, hooks and scripts

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := .demo
PYTEST_ARGS ?=
# Two workers: the combinations' project suites run side by side (CI has 2 cores); WORKERS=0 runs in one process.
# One test at a time per worker, longest first (tests/conftest.py), so that both finish together.
WORKERS ?= 2
RUN_PYTEST := -m pytest -v -n $(WORKERS) --maxschedchunk 1 $(PYTEST_ARGS)

# Everything is installed from a lock by this uv: the one on PATH when it is this version, otherwise a copy
# that pip puts into .cache/uv (nothing is installed globally). The project's lock template is written by
# exactly this version; the generated project's Makefile and Dockerfile pin the same one.
UV_VERSION := 0.13.10
UV_HOME := $(CURDIR)/.cache/uv
ifndef UV
UV := $(or $(if $(filter $(UV_VERSION),$(word 2,$(shell uv --version 2>/dev/null))),$(shell command -v uv)),$(UV_HOME)/bin/uv)
endif
export UV  # for the tests, and for the demo project's Makefile

.PHONY: demo test test-newest lock lock-upgrade sync-copier lint clean

$(UV_HOME)/bin/uv:
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(UV_HOME) uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra dev --python $(PYTHON)
	touch $@

demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO) $(CURDIR)
	$(MAKE) -C $(DEMO)/my_app run

test: $(VENV)/.installed
	$(BIN)/python $(RUN_PYTEST)

# The template's tools come from a copy of uv.lock upgraded in .cache/newest (uv prints what changed), the
# bakes' dependencies from their pyproject ranges (TEMPLATE_TESTS_NEWEST, see tests/project_venv.py).
test-newest: | $(UV)
	rm -rf .cache/newest .cache/bake-venv-newest
	mkdir -p .cache/newest
	cp pyproject.toml uv.lock .cache/newest/
	$(UV) lock --project .cache/newest --upgrade --python $(PYTHON)
	$(UV) sync --project .cache/newest --frozen --extra dev --python $(PYTHON)
	TEMPLATE_TESTS_NEWEST=1 .cache/newest/.venv/bin/python $(RUN_PYTEST)

lock: | $(UV)
	$(UV) lock --python $(PYTHON)
	$(MAKE) $(VENV)/.installed
	$(BIN)/python -m scripts.lock

lock-upgrade: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)
	$(MAKE) $(VENV)/.installed
	$(BIN)/python -m scripts.lock --upgrade

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
