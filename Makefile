# Two commands work on a fresh machine: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)

.PHONY: install test lint unit demo bench synth down rotate clean

install: $(STAMP_PY) $(STAMP_NODE)
	@command -v gpg >/dev/null || { apt-get update -qq && apt-get install -y -qq gnupg; }  # the Go-sops interop test needs it

$(STAMP_PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]' --config-settings editable_mode=compat
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy runtime stacks local app.py scripts

test: install lint
	$(PY) -m runtime secrets check
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m "not integration and not e2e and not load"

demo: install
	$(PY) -m local.demo $(if $(KEEP),--keep,)

bench: install
	$(PY) scripts/bench.py
	$(PY) scripts/bench_load.py

synth: install
	$(PY) -m stacks.synth

down: $(STAMP_PY)
	$(PY) -m local.aws down

# against local AWS (make demo KEEP=1 first), short grace for the demo; on real AWS: python -m stacks.rotate (300 s)
rotate: install
	SOPS_AGE_KEY_FILE="$${SOPS_AGE_KEY_FILE:-$(CURDIR)/.local/age/keys.txt}" $(PY) -m stacks.rotate --local --grace-seconds 5

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache
