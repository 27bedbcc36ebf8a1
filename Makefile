# `make repro` and `make test` set everything up first: a virtual environment in .venv with the
# locked dependencies (requirements.lock), installed with uv because it resolves in seconds.
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

# The browser the page's test drives: Debian's chromium (Playwright's own download does not work offline).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser repro test screenshots compare promote lint format serve ui clean-venv

setup: $(STAMP)

browser: $(CHROMIUM)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "no $(CHROMIUM) and no apt-get: install Chromium and run make with CHROMIUM=/its/path"; exit 1; }
	$(SUDO) apt-get install -y --no-install-recommends chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

$(STAMP): requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

repro: setup
	PATH=$(BIN):$$PATH dvc repro

test: setup browser
	PATH=$(BIN):$$PATH CHROMIUM=$(CHROMIUM) python -m pytest

# The page's tests against this repository's champion (run `make repro` first), keeping their
# screenshots in docs/screenshots for the README; then `mlflow ui` and `dvc plots show`'s page.
screenshots: setup browser
	PATH=$(BIN):$$PATH CHROMIUM=$(CHROMIUM) SCREENSHOTS=docs/screenshots PIPELINE_REPO=$(CURDIR) \
		python -m pytest tests/test_page.py -n 0
	PATH=$(BIN):$$PATH python tools/tool_screenshots.py --out docs/screenshots --chromium $(CHROMIUM)

# ruff (its version in the lock): lint rules and formatting as pyproject.toml sets them; CI runs this.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The experiments side by side: their names, the params they changed and each model's headline
# figures (metrics/headline.json), as a markdown table, which never cuts a cell to "…".
COMPARE_DROP := Created|data/.*|metrics/.*|stages/.*|deepfake_detect/.*|bentoml_tag
COMPARE_KEEP := ^[a-z0-9_]+\.(test_[^.]*|val_roc_auc|robust_[^.]*|fgsm_worst_accuracy|cross_[^.]*)$$|^model$$
compare: setup
	PATH=$(BIN):$$PATH dvc exp show --no-pager --md --only-changed --drop '$(COMPARE_DROP)' --keep '$(COMPARE_KEEP)'

# One experiment's model as the champion (the MLflow alias, a BentoML model, metrics/champion.json):
# its params, dvc.lock and outputs into the workspace, then package again, forced because its inputs
# may be unchanged while the alias points at another experiment's winner; -s, or -f re-runs training.
promote: setup
	@test -n "$(EXP)" || { echo "make promote EXP=<name>: which experiment? Their names: dvc exp list --name-only"; exit 2; }
	PATH=$(BIN):$$PATH dvc exp apply $(EXP)
	PATH=$(BIN):$$PATH dvc repro -f -s package

serve: setup
	PATH=$(BIN):$$PATH bentoml serve

ui: setup
	PATH=$(BIN):$$PATH mlflow ui

clean-venv:
	rm -rf $(VENV)
