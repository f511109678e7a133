# Cirrus: two commands on a fresh machine.
#   make run   build .venv if needed, start the embedded local stack (moto + the API on :8000) with demo data
#   make test  build .venv (and .venv-agent, the stock site agent) if needed, run lint, type checks
#              and the whole test suite (with a bounded schemathesis run, tests/fuzz)
#   (both serve HomePort, Waldur's web UI, at / from CIRRUS_HOMEPORT_DIR, by default ../shared/homeport/build
#    when it exists; `make test` installs Debian's Chromium for the browser tests when run as root)
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

.PHONY: run test lint typecheck pytest fuzz bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"
	$(BIN)/python -m pip install --quiet -e ".[dev,infra]"
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
	$(BIN)/mypy chalicelib app.py tests/fakes tests/contract

pytest: $(STAMP) $(AGENT_STAMP) chromium
	CIRRUS_HOMEPORT_DIR="$${CIRRUS_HOMEPORT_DIR-$(HOMEPORT_DIR)}" $(BIN)/pytest -n 2 -q

test: lint typecheck pytest

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz

bench: $(STAMP)
	$(BIN)/python bench/request_costs.py
	$(BIN)/python bench/billing_costs.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/local_scale.py

clean:
	rm -rf $(VENV) $(AGENT_VENV) .mypy_cache .pytest_cache .ruff_cache cdk.out chalice.out fuzz-report test-output
