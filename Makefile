# Two commands: `make run` (embedded default) and `make test` (set-up + the whole suite).
# Both create .venv with a Python 3.11+ and install what they need on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export NUMBA_CACHE_DIR := $(CURDIR)/.numba_cache
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages the tests start as real servers / drive as a real browser.
TEST_DEB_BINS := /usr/bin/redis-server:redis-server /usr/sbin/mosquitto:mosquitto /usr/bin/chromium:chromium
RUN_DEB_BINS := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei

.PHONY: run test lint typecheck unit bench venv system-deps clean

run: $(STAMP)
	$(PY) run.py $(ARGS)

test: $(STAMP)-dev system-deps
	$(PY) -m ruff check .
	$(PY) -m mypy .
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)-dev
	$(PY) -m ruff check .

typecheck: $(STAMP)-dev
	$(PY) -m mypy .

bench: $(STAMP)-bench system-deps
	$(PY) bench/pipeline.py
	$(PY) bench/nab.py
	$(PY) bench/forecast.py
	$(PY) bench/tep.py
	$(PY) bench/batadal.py

$(VENV)/bin/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11+ is required (apt-get install python3 python3-venv)"; exit 1; fi
	$(PYTHON) -m venv $(VENV) || { echo "Creating the venv failed: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	@touch $@

$(STAMP)-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP) $@

$(STAMP)-bench: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev,bench]'
	@touch $(STAMP) $(STAMP)-dev $@

# Install the Debian packages the tests need when they are missing (as root), else say what to install.
system-deps:
	@missing=""; for pair in $(TEST_DEB_BINS) $(RUN_DEB_BINS); do \
	  f=$${pair%%:*}; pkg=$${pair##*:}; [ -e "$$f" ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	      || { echo "apt-get install$$missing failed"; exit 1; }; \
	  else echo "Missing Debian packages:$$missing -- install them with: sudo apt-get install$$missing"; exit 1; fi; \
	fi

clean:
	rm -rf $(VENV) .numba_cache .pytest_cache .mypy_cache .ruff_cache
