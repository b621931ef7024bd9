# Servicedesk: `make dev` runs the whole system locally; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian's OpenLDAP server, for the LDAP sign-in tests (the slapd target below).
SLAPD := /usr/sbin/slapd
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: localstack dev test lint typecheck unit integration infra bench layers synth lock clean web web-test chromium slapd reports-rebuild persisted-queries

# local/pgvector.py: the embedded server's pgvector rebuilt for any CPU (the wheel's needs
# AVX-512); a no-op once done.
$(STAMP): pyproject.toml requirements/constraints.txt local/pgvector.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	$(PY) -m local.pgvector
	@touch $(STAMP)

install: $(STAMP)

# LocalStack (local/localstack.py) in its own venv: it pins its own moto fork. Rebuilt
# only when requirements/localstack.txt changes.
LOCALSTACK_STAMP := .localstack/.installed

$(LOCALSTACK_STAMP): requirements/localstack.txt
	rm -rf .localstack
	$(PYTHON) -m venv .localstack
	.localstack/bin/python -m pip install --quiet -r requirements/localstack.txt
	@touch $(LOCALSTACK_STAMP)

localstack: $(LOCALSTACK_STAMP)

dev: $(STAMP) web
	$(PY) -m local.dev

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/core/python/servicedesk functions local migrations scripts/export_openapi.py scripts/e2e_stack.py scripts/deploy_web.py scripts/persisted_queries.py $(wildcard bench stacks app.py)

# pytest-xdist: each worker has its own embedded PostgreSQL and template database.
# tests/localstack shares one LocalStack between the workers; SERVICEDESK_REQUIRE_LOCALSTACK
# makes that tier fail, not skip, without its venv (.localstack, built by `localstack`).
PYTEST_WORKERS ?= 2

test: lint typecheck synth web-test localstack $(SLAPD)
	SERVICEDESK_REQUIRE_LOCALSTACK=1 SERVICEDESK_REQUIRE_SLAPD=1 $(PY) -m pytest -q -n $(PYTEST_WORKERS)

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(STAMP) $(SLAPD)
	$(PY) -m pytest -q tests/integration

infra: $(STAMP)
	$(PY) -m pytest -q tests/infra

bench: $(STAMP)
	$(PY) bench/cold_start.py

layers: $(STAMP)
	bash scripts/build_layers.sh

# The report facts rebuilt from source (docs/operations.md): every tenant, or TENANT=<id>.
reports-rebuild: $(STAMP)
	$(PY) -m servicedesk.reports.rebuild $(if $(TENANT),--tenant $(TENANT)) $(if $(JOBS),--jobs $(JOBS))

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
	rm -rf $(VENV) cdk.out build .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist

# The web app (web/): npm ci from its lock, API types generated from the OpenAPI document
# (so a backend change that breaks the app fails `tsc`), then the Vite build and the
# initial-JS budget check. Rebuilt when the lock, the sources or the API change.
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f -not -name openapi.json -not -name schema.d.ts 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/tsconfig.app.json web/tsconfig.node.json
API_SOURCES := $(shell find layers/core/python/servicedesk functions local -name '*.py' 2>/dev/null) scripts/export_openapi.py

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_STAMP)

web/src/api/openapi.json: $(STAMP) $(API_SOURCES)
	$(PY) scripts/export_openapi.py

web/dist/index.html: $(WEB_STAMP) web/src/api/openapi.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

# The web app's GraphQL documents (web/src/graphql/*.graphql, bench/graphql/) -> the API's
# persisted-query registry and web/src/graphql/operations.ts (docs/graphql.md);
# tests/unit/test_persisted_queries.py fails when they are out of sync.
persisted-queries:
	PYTHONPATH=layers/core/python:. $(PY) scripts/persisted_queries.py

# End-to-end tests drive Debian's Chromium through playwright-core (no browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

chromium: $(CHROMIUM)

# The LDAP sign-in tests start Debian's OpenLDAP server themselves, on 127.0.0.1 with a
# temporary configuration (tests/ldap_server.py). The package's own server must not be
# left running: a policy-rc.d that refuses every start (exit 101) is in place during the
# install unless the machine already has one, and the init script stops any that started.
$(SLAPD):
	@guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1; \
	fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils; \
	status=$$?; \
	if [ -n "$$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	if [ -x /etc/init.d/slapd ]; then /etc/init.d/slapd stop >/dev/null 2>&1 || true; fi; \
	exit $$status

slapd: $(SLAPD)

# A third stack for the assistant with a language model: web/e2e/assistant.e2e.ts serves a
# scripted OpenAI-compatible model on E2E_LLM_PORT (a real socket), which the stack calls.
E2E_LLM_PORT ?= 18555
E2E_LLM := SERVICEDESK_LLM_PROVIDER=openai SERVICEDESK_LLM_BASE_URL=http://127.0.0.1:$(E2E_LLM_PORT)/v1 \
	SERVICEDESK_LLM_API_KEY=e2e-llm-key E2E_LLM_PORT=$(E2E_LLM_PORT)

# Vitest unit tests, then the e2e suite against the real local stack (embedded Postgres,
# migrations, moto, uvicorn on a free port) that scripts/e2e_stack.py starts and stops;
# then the first-run tests (web/e2e/*.demo.ts) against a second stack with the demo desk,
# then the assistant's with a model.
web-test: web $(CHROMIUM)
	cd web && npx vitest run
	$(PY) scripts/e2e_stack.py --sso -- npm --prefix web run -s e2e
	$(PY) scripts/e2e_stack.py --demo -- npm --prefix web run -s e2e
	$(E2E_LLM) $(PY) scripts/e2e_stack.py -- npm --prefix web run -s e2e -- assistant
