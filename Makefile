# modelshare - `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# Python 3.13 (the Lambda runtime): on PATH, or installed through pyenv but not active.
PYTHON313 ?= $(shell for p in "$$(command -v python3.13)" $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	[ -x "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: venv lint test unit integration demo clean

$(BIN)/.installed: requirements-dev.txt layers/modelshare/requirements.txt pyproject.toml
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (PATH or ~/.pyenv/versions/3.13*)" >&2; exit 1; }
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: venv
	$(BIN)/python -m pytest -q tests/integration tests/localaws

demo: venv
	$(BIN)/modelshare simulate examples/demo.json

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
