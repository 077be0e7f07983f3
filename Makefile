# modelshare - `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools/bin
BUILD_DIR := .aws-sam/build
# SAM CLI and cfn-lint run offline here; a region is all they need.
SAM_ENV = SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-west-1 PATH="$(dir $(PYTHON313)):$$PATH"

# Python 3.13 (the Lambda runtime): on PATH, or installed through pyenv but not active.
PYTHON313 ?= $(shell for p in "$$(command -v python3.13)" $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	[ -x "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)

# The local AWS imports the layer afresh at every simulated cold start: Python must keep the
# modules it compiles. A machine that sets PYTHONDONTWRITEBYTECODE compiles them from source
# each time (a third of the suite's time).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv tools lint build test test-fast unit integration demo bench aws-smoke clean browser

# Headless Chromium and its driver (Debian's), for the report page's browser test
# (tests/cli/test_report_page.py): installed once, when missing.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium chromium-driver; }

$(BIN)/.installed: requirements-dev.txt layers/modelshare/requirements.txt pyproject.toml
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (PATH or ~/.pyenv/versions/3.13*)" >&2; exit 1; }
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/.installed

$(TOOLS)/.installed: requirements-tools.txt
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (PATH or ~/.pyenv/versions/3.13*)" >&2; exit 1; }
	$(PYTHON313) -m venv .venv-tools
	$(TOOLS)/python -m pip install --quiet --upgrade pip==25.3
	$(TOOLS)/python -m pip install --quiet -r requirements-tools.txt
	touch $@

tools: $(TOOLS)/.installed

# mypy --strict over the layer, the handlers, the CLI, the local AWS and the test fakes: what it
# checks and how is in pyproject.toml ([tool.mypy]).
lint: venv tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(TOOLS)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(SAM_ENV) $(TOOLS)/sam validate --lint

# Lambda artifacts, built without containers (python3.13 must be on PATH for SAM's builder).
build: tools
	rm -rf $(BUILD_DIR)
	$(SAM_ENV) $(TOOLS)/sam build --build-dir $(BUILD_DIR)
	@du -sh $(BUILD_DIR)/*/ | sed 's|$(BUILD_DIR)/||'

# Tests run in parallel (pytest-xdist, one worker per core); tests that share an expensive
# fixture (xdist_group marks) stay on one worker, which builds it once. The 15 slowest tests are
# printed, so that a slow test is seen when it lands.
# The tiers are markers (pyproject.toml): unit, local_aws, e2e, slow; e.g. PYTEST_ARGS='-m "not slow"'.
# MODELSHARE_HYPOTHESIS_PROFILE=long runs the long property profile (many more examples and worlds,
# from a fresh seed; MODELSHARE_HYPOTHESIS_SEED=<seed> replays one), with any target below.
PARALLEL := -n auto --dist loadgroup
# TEST_PARALLEL= (empty) runs the suite in one process, e.g. to bisect an order-dependent failure.
TEST_PARALLEL ?= $(PARALLEL)
test: lint build browser
	$(BIN)/python -m pytest -q $(TEST_PARALLEL) --durations=15 $(PYTEST_ARGS)

# The unit and decision-table tier, in under 30 s: no local AWS, no build.
test-fast: venv
	$(BIN)/python -m pytest -q $(PARALLEL) -m "unit and not slow" tests/unit $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest -q $(PARALLEL) tests/unit

integration: venv build browser
	$(BIN)/python -m pytest -q $(TEST_PARALLEL) --durations=15 tests/integration tests/localaws tests/cli

demo: venv
	$(BIN)/modelshare simulate examples/demo.json --access-report access-report.html
	$(BIN)/modelshare simulate examples/organization.json  # one central allowlist, three accounts

# Scale scenarios on the local AWS (N = 10 to 10,000 groups), the cold-start ratio and the layer
# size: tables on stdout, bench/results.json and bench/scale.png. Speed goals live here.
# BENCH_ARGS=--large adds every scenario at 10,000 groups (some 20 minutes more).
bench: venv build
	$(BIN)/python -m localaws.harness.bench $(BENCH_ARGS)
	$(BIN)/python -m modelshare_cli.report.bench  # `modelshare report` at 1,000 and 10,000 groups

# The seed flow against real AWS, through modelshare's own code: two sandbox accounts, by profile.
# It records what AWS answered for the UNVERIFIED behaviours in .aws-smoke/aws.json and removes
# everything it created.
# The preflight checks both profiles sign in, to two accounts: otherwise one line, exit 2.
aws-smoke: venv
	@$(BIN)/python -m tests.smoke.preflight
	$(BIN)/python -m pytest -q -s -rs tests/smoke -k aws

clean:
	rm -rf $(VENV) .venv-tools .pytest_cache .aws-sam
