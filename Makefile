# Neuvo: the README's commands. Each target sets up what it needs on a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint train validate evaluate clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: set up and start Neuvo on the embedded defaults (SQLite, http://127.0.0.1:8080)
run: $(STAMP)
	$(BIN)/neuvo db upgrade
	$(BIN)/neuvo serve

BROWSER_DEPS := tests/browser/node_modules/axe-core/axe.min.js

$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

## test: set up and run every test
test: $(STAMP) $(BROWSER_DEPS)
	$(BIN)/ruff check bot nlu handoff tests benchmarks
	$(BIN)/mypy bot nlu handoff
	$(BIN)/python -m pytest

## bench: measure speed and memory, write docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --write docs/benchmarks.md

lint: $(STAMP)
	$(BIN)/ruff check bot nlu handoff tests benchmarks
	$(BIN)/mypy bot nlu handoff

train: $(STAMP)
	$(BIN)/neuvo train

validate: $(STAMP)
	$(BIN)/neuvo validate

evaluate: $(STAMP)
	$(BIN)/neuvo evaluate

clean:
	rm -rf $(VENV) .neuvo .pytest_cache .ruff_cache .mypy_cache
