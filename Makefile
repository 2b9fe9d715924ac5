# Tollgate: the two commands a newcomer needs are `make run` and `make test` (`make lint` before a commit).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# pytest-xdist workers for `make test` (each runs its own local stack); JOBS=0 runs in this process
JOBS ?= auto
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run test unit integration workflows infra e2e browser web bench synth deploy-check lint clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

# The console and portal (web/): npm ci + type check (tsc --noEmit) + Vite build into web/dist, redone only
# when a source under web/ changes. The local stack serves web/dist at /console and /portal.
WEB_SOURCES := $(shell find web/src web/console web/portal -type f 2>/dev/null) web/package.json \
	web/package-lock.json web/tsconfig.json web/vite.config.ts
web/dist/.built: $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund --silent && npm run --silent build
	@touch $@

## web: build the console and portal (web/dist)
web: web/dist/.built

## run: start the local stack (moto) and its HTTP API on PORT (default 8000); Ctrl-C stops it
run: $(BIN)/.installed web/dist/.built
	PORT=$(PORT) $(BIN)/python -m infra.local

## test: the whole suite (unit, integration, workflows, infra, e2e, schema, sdk, browser) and the Node SDK's tests
## (node_modules: the infra tests validate the state machines with asl-validator; web/dist: the browser tier)
test: $(BIN)/.installed node_modules/.installed web/dist/.built
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile
	node --test sdk/typescript/test/client.test.mjs

unit: $(BIN)/.installed
	$(BIN)/python -m pytest tests/unit
integration: $(BIN)/.installed
	$(BIN)/python -m pytest tests/integration
workflows: $(BIN)/.installed
	$(BIN)/python -m pytest tests/workflows
infra: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m pytest tests/infra
e2e: $(BIN)/.installed
	$(BIN)/python -m pytest tests/e2e
## browser: the console and portal driven in headless Chromium (Debian's package; installed if missing)
browser: $(BIN)/.installed web/dist/.built
	$(BIN)/python -m pytest tests/browser

## bench: measure and write BENCHMARKS.md
bench: $(BIN)/.installed
	$(BIN)/python -m tests.bench

## synth: the CloudFormation template, offline (cdk.out/)
synth: $(BIN)/.installed node_modules/.installed
	PATH=$(abspath $(BIN)):$$PATH npx cdk synth --quiet

## deploy-check: before a deploy: synthesize with -c stage=prod (cdk.out.prod/), cdk-nag AwsSolutions +
## Serverless packs, cfn-lint with all rules, asl-validator on every state machine (no AWS account needed)
deploy-check: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m infra.deploy_check

## lint: style (ruff check), formatting (ruff format --check) and types (mypy); CI runs it before the tests
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/tollgate/python/tollgate functions infra tests/fakes sdk/python/tollgate_sdk

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .local web/node_modules web/dist test-artifacts
