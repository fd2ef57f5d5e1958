# autograd_mini — every command a fresh machine needs. `make test` and `make demo` set up .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# PyTorch is only a test oracle. The CPU build, when a local wheel provides it, keeps the
# oracle tests running without the multi-GB CUDA download; otherwise they are skipped.
TORCH_SPEC ?= torch==2.13.0+cpu
# An editable install that static checkers follow, without setuptools' warning box: pyproject's
# package-dir = {"" = "."} makes setuptools write a plain .pth file naming the repository (mypy
# and IDEs read it; the default import hook they cannot, and editable_mode=strict warns on every
# install). Edits, added and removed modules show at once, without a reinstall.
EDITABLE := $(PIP) install -e
# pytest-xdist: one worker per core; a worker that runs out of tests takes some of the other's
# (worksteal: the suite has a few tests of 10 s among thousands of milliseconds). Every test
# writes into its own tmp_path, so workers never collide; the docs site is built once per run.
XDIST := -n auto --dist worksteal

.PHONY: help venv dot chromium test test-fast demo lint format bench docs clean

help:
	@echo "make demo      - train a network on two moons, pictures in out/moons (sets up .venv;"
	@echo "                 as root installs graphviz's dot if missing, for network.svg)"
	@echo "make test      - the whole test suite on every core (sets up .venv with every extra,"
	@echo "                 ~2 GB; as root installs dot and chromium if missing)"
	@echo "make test-fast - the tests not marked slow (sets up .venv)"
	@echo "make lint      - ruff check, ruff format --check, mypy --strict"
	@echo "make format    - ruff's fixes and formatting, in place"
	@echo "make docs      - the documentation site with the API reference, in site/"
	@echo "make bench     - side-by-side benchmarks; writes their tables into docs/speed.md"
	@echo "make venv      - only set up .venv with every extra the tests need"
	@echo "make dot       - install graphviz's dot with apt-get if missing (as root)"
	@echo "make chromium  - install chromium with apt-get if missing (as root), for browser tests"
	@echo "make clean     - remove .venv, site/, build files and caches"
	@echo "make help      - this list"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.dev: pyproject.toml | $(PY)
	$(EDITABLE) '.[dev,demo,docs,browser,notebook]'
	@$(EDITABLE) '.[jax]' 2>/dev/null \
	  && echo "jax installed: the JAX backend's tests will run" \
	  || echo "note: jax could not be installed here; tests of the JAX backend will be skipped"
	@$(PIP) install '$(TORCH_SPEC)' 2>/dev/null \
	  && echo "torch installed: oracle tests will run" \
	  || echo "note: $(TORCH_SPEC) not available here; tests marked 'torch' will be skipped"
	touch $@

$(VENV)/.demo: pyproject.toml | $(PY)
	$(EDITABLE) '.[demo]'
	touch $@

$(VENV)/.bench: pyproject.toml | $(PY)
	$(EDITABLE) '.[bench,demo]'
	@$(EDITABLE) '.[jax]' 2>/dev/null || echo "note: jax not installed; no JAX rows in the bench"
	touch $@

$(VENV)/.docs: pyproject.toml | $(PY)
	$(EDITABLE) '.[docs]'
	touch $@

venv: $(VENV)/.dev

# graphviz (the Python package) needs the system `dot` program to render pictures. What is missing
# without it is said once: by `make test` here, by the demo itself under `make demo`.
DOT_MISSING := Tests that render pictures will be skipped.
demo: DOT_MISSING :=
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing graphviz (the dot program) with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	elif [ -n "$(DOT_MISSING)" ]; then \
	  echo "The graphviz 'dot' program is missing and I cannot install it (not root)."; \
	  echo "Install it with: sudo apt-get install graphviz   (macOS: brew install graphviz)"; \
	  echo "$(DOT_MISSING)"; \
	fi

# The browser tests drive the step-through page in Debian's chromium (Playwright only talks to
# it; it never downloads a browser of its own).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium (for the browser tests) with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "The chromium browser is missing and I cannot install it (not root)."; \
	  echo "Install it with: sudo apt-get install chromium"; \
	  echo "Tests marked 'browser' will be skipped."; \
	fi

# The hypothesis profile follows CI (see tests/conftest.py). pytest exits 5 when no test ran:
# make fails then, as it should. PYTEST_ARGS passes more (e.g. PYTEST_ARGS="-k cli -n 0").
test: $(VENV)/.dev dot chromium
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: $(VENV)/.dev
	$(PY) -m pytest $(XDIST) -m "not slow" -q $(PYTEST_ARGS)

# Trains MLP(2, [16, 16, 1]) on two moons (~10 s) and writes the pictures, model and metrics
# to out/moons (python -m autograd_mini.demos.moons --help for the flags; DEMO_ARGS passes them).
demo: $(VENV)/.demo dot
	$(PY) -m autograd_mini.demos.moons $(DEMO_ARGS)

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy --strict autograd_mini

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Side by side with micrograd (extra `bench`), PyTorch when installed and a hand-written floor;
# writes out/bench.json and out/bench.png (and what hooks / anomaly mode cost, on and off, to
# out/bench_calculus.json), then the tables of docs/speed.md from this run's results.
# BENCH_ARGS=--quick for a short run (the page says so).
bench: $(VENV)/.bench
	$(PY) -m benchmarks.run --json out/bench.json --chart out/bench.png $(BENCH_ARGS)
	$(PY) -m benchmarks.bench_trace --json out/bench_trace.json $(BENCH_ARGS)
	$(PY) -m benchmarks.bench_calculus --json out/bench_calculus.json $(BENCH_ARGS)
	$(PY) -m benchmarks.speed_page --eager out/bench.json --trace out/bench_trace.json \
	  --page docs/speed.md

# MkDocs (Material) with the API reference from the docstrings (mkdocstrings); --strict turns
# every warning (a broken link, a docstring it cannot render) into a failure. The pages are
# README.md (the home page) and docs/*.md; the site is written to site/.
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) site build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
