# Servicedesk: `make dev` runs the whole system locally; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: dev test lint typecheck unit integration infra bench layers synth lock clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(PY) -m local.dev

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/core/python/servicedesk functions local migrations $(wildcard bench stacks app.py)

test: lint typecheck synth
	$(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

infra: $(STAMP)
	$(PY) -m pytest -q tests/infra

bench: $(STAMP)
	$(PY) bench/cold_start.py

layers: $(STAMP)
	bash scripts/build_layers.sh

# The CDK CLI is pinned in package.json/package-lock.json; `npm ci` runs once, and again
# whenever the lock changes. Synth itself needs no network: no notices, no telemetry, no
# version check, no npx download (--no-install). `cdk synth` without stack names synthesizes
# every stack (this CLI rejects `--all` for synth).
NPM_STAMP := node_modules/.installed

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

synth: $(STAMP) $(NPM_STAMP)
	CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true \
	  npx --no-install cdk synth --quiet --no-notices

lock: $(STAMP)
	{ echo "# Pinned versions for make dev / make test (pip install -c). Regenerate: make lock"; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) cdk.out build .mypy_cache .ruff_cache .pytest_cache
