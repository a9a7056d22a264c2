# Two entry points for a fresh clone: `make repro` builds the example dataset,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: venv repro test lint compose clean-build

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

compose: venv
	$(BIN)/ftdata compose

repro: compose
	$(BIN)/dvc repro

test: venv
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check ftdata stages tests tools bench
	$(BIN)/ruff format --check ftdata stages tests tools bench
