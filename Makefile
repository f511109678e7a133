# Cirrus: two commands on a fresh machine.
#   make run   build .venv if needed, start the embedded local stack (moto + the API on :8000) with demo data
#   make test  build .venv (and .venv-agent, the stock site agent) if needed, run lint, type checks,
#              `make synth` (the real CDK CLI and Lambda bundle, cdk-nag on, no AWS account) and the
#              whole test suite (with a bounded schemathesis run, tests/fuzz)
#   (both serve HomePort, Waldur's web UI, at / from CIRRUS_HOMEPORT_DIR, by default ../shared/homeport/build
#    when it exists; `make test` installs Debian's Chromium for the browser tests when run as root)
#   make synth / diff / deploy / destroy / bootstrap   the AWS stack (README "Deploying to AWS"):
#              STAGE=dev (default) or STAGE=prod, more context in CDK_CONTEXT='-c domain_name=...' or
#              infra/cdk/stages/<stage>.json; the pinned CDK CLI (infra/cdk/package.json) is installed
#              by npm ci on first use. synth needs no AWS account; the others need credentials.
#   make fuzz  the long schemathesis run (tests/fuzz/__main__.py) against the whole local stack as
#              `make run` starts it, as staff and as a customer owner: every phase, 100 examples per
#              operation; CIRRUS_FUZZ_SEED replays a run; findings in fuzz-report/ (exit 1 if any)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The stock waldur-site-agent, in its own virtualenv (it pins waldur-api-client 8.1.2; .venv keeps 8.1.3),
# with the test plugin that registers its MockBackend; the site agent tests run it as a site does.
AGENT_VENV := .venv-agent
AGENT_STAMP := $(AGENT_VENV)/.installed
AGENT_PLUGIN := tests/site_agent/cirrus_agent_mock
# A HomePort build to serve at / (README "Web UI"); empty: the API only.
HOMEPORT_DIR ?= $(firstword $(wildcard ../shared/homeport/build /work/shared/homeport/build))
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

# The AWS CDK CLI, pinned in infra/cdk/package.json + package-lock.json, installed into
# infra/cdk/node_modules by `npm ci`.
CDK_DIR := infra/cdk
CDK_STAMP := $(CDK_DIR)/node_modules/.installed
STAGE ?= dev
CDK_CONTEXT ?=
# Extra CLI arguments, e.g. CDK_ARGS=--require-approval=never (deploy) or CDK_ARGS=--force (destroy).
CDK_ARGS ?=
CDK_OUT ?= cdk.out
# No telemetry, no notices, no version check, our interpreter for the app.
CDK = cd $(CDK_DIR) && CDK_DISABLE_CLI_TELEMETRY=true ./node_modules/.bin/cdk --no-notices \
	--app "$(abspath $(BIN))/python app.py" --output $(CDK_OUT) -c stage=$(STAGE) $(CDK_CONTEXT)
CREDENTIALS = $(BIN)/python $(CDK_DIR)/credentials.py >/dev/null

.PHONY: run test lint typecheck pytest fuzz bench clean chromium synth diff deploy destroy bootstrap bundle

# Provider plugins packaged as their own distributions (plugins/<name>/pyproject.toml, each with a
# `cirrus.providers` entry point and its cloud's SDK): installed beside Cirrus, as a site would.
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))

$(STAMP): pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"
	$(BIN)/python -m pip install --quiet -e ".[dev,infra]" $(addprefix -e ./,$(PLUGINS))
	touch $(STAMP)

$(AGENT_STAMP): requirements-agent.txt $(AGENT_PLUGIN)/pyproject.toml $(AGENT_PLUGIN)/cirrus_agent_mock.py
	test -x $(AGENT_VENV)/bin/python || $(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_VENV)/bin/python -m pip install --quiet --upgrade "pip<26.3"
	$(AGENT_VENV)/bin/python -m pip install --quiet -r requirements-agent.txt
	$(AGENT_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall ./$(AGENT_PLUGIN)
	touch $(AGENT_STAMP)

run: $(STAMP)
	CIRRUS_HOMEPORT_DIR="$${CIRRUS_HOMEPORT_DIR-$(HOMEPORT_DIR)}" $(BIN)/python -m chalicelib.local

# Debian's Chromium for the browser tests (tests/browser; Playwright drives it, it downloads no browser).
# Installed when missing and this runs as root with apt; otherwise those tests are skipped, saying why.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	    echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium (install Debian's chromium as root): the browser tests will be skipped"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy chalicelib app.py tests/fakes tests/contract $(filter-out %.egg-info,$(wildcard plugins/*/cirrus_*))

pytest: $(STAMP) $(AGENT_STAMP) chromium
	CIRRUS_HOMEPORT_DIR="$${CIRRUS_HOMEPORT_DIR-$(HOMEPORT_DIR)}" $(BIN)/pytest -n 2 -q

test: lint typecheck synth pytest

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz

bench: $(STAMP)
	$(BIN)/python bench/request_costs.py
	$(BIN)/python bench/billing_costs.py
	$(BIN)/python bench/analytics_costs.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/local_scale.py

$(CDK_STAMP): $(CDK_DIR)/package.json $(CDK_DIR)/package-lock.json
	cd $(CDK_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK_STAMP)

# The Lambda code bundle alone (what synth builds): its size and file counts.
bundle: $(STAMP)
	cd $(CDK_DIR) && $(abspath $(BIN))/python -c "import sys; from cirrus_infra.bundle import main; sys.exit(main())"

# Offline: no AWS account, no credential or instance-metadata lookups (templates in infra/cdk/cdk.out).
synth: $(STAMP) $(CDK_STAMP)
	env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	  sh -c '$(CDK) synth --quiet $(CDK_ARGS)'
	@echo "templates: $(CDK_DIR)/$(CDK_OUT)/cirrus-$(STAGE).template.json (assets: $(CDK_DIR)/$(CDK_OUT)/cirrus-$(STAGE).assets.json)"

diff: $(STAMP) $(CDK_STAMP)
	@$(CREDENTIALS)
	$(CDK) diff $(CDK_ARGS)

deploy: $(STAMP) $(CDK_STAMP)
	@$(CREDENTIALS)
	$(CDK) deploy $(CDK_ARGS)

destroy: $(STAMP) $(CDK_STAMP)
	@$(CREDENTIALS)
	$(CDK) destroy $(CDK_ARGS)

# Once per account and region: the CDK's staging bucket and roles (cdk bootstrap).
bootstrap: $(STAMP) $(CDK_STAMP)
	@$(CREDENTIALS)
	$(CDK) bootstrap $(CDK_ARGS)

clean:
	rm -rf $(VENV) $(AGENT_VENV) .mypy_cache .pytest_cache .ruff_cache cdk.out chalice.out fuzz-report test-output \
	  $(CDK_DIR)/node_modules $(CDK_DIR)/cdk.out $(CDK_DIR)/chalice.out $(CDK_DIR)/.bundle
