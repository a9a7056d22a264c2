# Two entry points for a fresh clone: `make repro` builds the example dataset,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: venv repro test test-labelstudio lint compose clean-build remote bench bench-peers plots

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

compose: venv
	$(BIN)/ftdata compose

# A default DVC remote for `ftdata release` (no-op when one is configured;
# .dvc/config ships ../.ftdata-remote/<project>). See README "Releases and audits".
remote: venv
	$(BIN)/python -m ftdata.release --ensure-remote

repro: compose remote
	$(BIN)/dvc repro

test: venv
	$(BIN)/pytest -q -n 2 --dist loadfile

# `dvc plots show` whose page works offline: Vega, Vega-Lite and Vega-Embed are inlined
# from the vl-convert-python wheel (ftdata/plots.py) instead of loaded from a CDN.
# Other `dvc plots` arguments: make plots PLOTS="diff data_v1.0 data_v1.1"
PLOTS ?= show
plots: venv
	$(BIN)/python -m ftdata.plots $(PLOTS)

# The real Label Studio round trip (tests/labelstudio/): Label Studio and label-studio-sdk
# live in a virtualenv of their own because their pins clash with ours.
LS_VENV := .venv-labelstudio
LS_STAMP := $(LS_VENV)/.installed

$(LS_STAMP):
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --quiet --upgrade pip
	$(LS_VENV)/bin/pip install --quiet 'label-studio==1.23.2' 'label-studio-sdk>=2,<3'
	touch $(LS_STAMP)

test-labelstudio: venv $(LS_STAMP)
	FTDATA_LABELSTUDIO_VENV=$(CURDIR)/$(LS_VENV) $(BIN)/pytest -q tests/labelstudio

# Benchmarks (by hand, never in CI; results in bench/RESULTS.md). N records, default 100k.
# `make bench-peers` builds bench/.venv-peers (datatrove, Data-Juicer: not project deps).
N ?= 100000
bench: venv
	$(BIN)/python bench/run.py $(N)

bench-peers: venv
	bench/peers/setup.sh
	test -f bench/out/corpus-$(N)/truth.jsonl || $(BIN)/python bench/gen.py $(N)
	bench/.venv-peers/bin/python bench/peers/run_peers.py bench/out/corpus-$(N) bench/out/peers-$(N)
	$(BIN)/python bench/peers/ftdata_shared.py bench/out/peers-$(N)
	$(BIN)/python bench/peers/ftdata_shared.py bench/out/peers-$(N) --executor dask

lint: venv
	$(BIN)/ruff check ftdata stages tests tools bench
	$(BIN)/ruff format --check ftdata stages tests tools bench
