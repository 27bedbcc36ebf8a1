# `make repro` and `make test` set everything up first: a virtual environment in .venv with the
# locked dependencies (requirements.lock), installed with uv because it resolves in seconds.
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

.PHONY: setup repro test lint format serve ui clean-venv

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

repro: setup
	PATH=$(BIN):$$PATH dvc repro

test: setup
	PATH=$(BIN):$$PATH python -m pytest

# ruff (its version in the lock): lint rules and formatting as pyproject.toml sets them; CI runs this.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: setup
	PATH=$(BIN):$$PATH bentoml serve

ui: setup
	PATH=$(BIN):$$PATH mlflow ui

clean-venv:
	rm -rf $(VENV)
