# Two entry points for a fresh clone: `make repro` builds the example dataset,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: venv repro test test-labelstudio test-llamafactory lint compose clean-build remote bench bench-peers plots

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

# LLaMA-Factory's own data code loads our exports (tests/llamafactory/): its pins clash with
# ours, so it gets a virtualenv of its own. Only what llamafactory.data and .hparams import
# is installed (the full set adds gradio, modelscope, av, torchvision ...): the CPU torch as in
# bench/peers/setup.sh (an open `torch` pulls a multi-GB CUDA build), llamafactory last
# with --no-deps. torchaudio is left out: PyPI's wheels need CUDA's libraries, and the
# loader script stands in for it (it only reads audio files; our exports have none).
LF_VENV := .venv-llamafactory
LF_STAMP := $(LF_VENV)/.installed

$(LF_STAMP):
	$(PYTHON) -m venv $(LF_VENV)
	$(LF_VENV)/bin/pip install --quiet --upgrade pip
	$(LF_VENV)/bin/pip install --quiet 'torch==2.13.0' 'transformers==5.6.0' 'datasets==4.0.0' \
		'accelerate==1.11.0' 'peft==0.18.1' 'trl==0.24.0' 'omegaconf==2.4.0'
	$(LF_VENV)/bin/pip install --quiet --no-deps 'llamafactory==0.9.5'
	touch $(LF_STAMP)

test-llamafactory: venv $(LF_STAMP)
	FTDATA_LLAMAFACTORY_VENV=$(CURDIR)/$(LF_VENV) $(BIN)/pytest -q tests/llamafactory

# Benchmarks (by hand, never in CI; results in bench/RESULTS.md). N records, default 100k.
# `make bench-peers` builds bench/.venv-peers (datatrove, Data-Juicer: not project deps).
N ?= 100000
bench: venv
	$(BIN)/python bench/run.py $(N)

# CORPUS=gen (default) runs on bench/gen.py's corpus (bench/out/corpus-N, results in peers-N);
# CORPUS=faker on bench/peers/gen_faker.py's, written without our generator (corpus-faker-N,
# peers-faker-N). The plain pandas baseline runs next to the peers, then dedup quality of all.
CORPUS ?= gen
GEN_gen := bench/gen.py
GEN_faker := bench/peers/gen_faker.py
BENCH_TAG = $(if $(filter faker,$(CORPUS)),faker-)$(N)
bench-peers: venv
	$(if $(GEN_$(CORPUS)),,$(error CORPUS must be gen or faker, not '$(CORPUS)'))
	bench/peers/setup.sh
	test -f bench/out/corpus-$(BENCH_TAG)/truth.jsonl || $(BIN)/python $(GEN_$(CORPUS)) $(N) --out bench/out/corpus-$(BENCH_TAG)
	bench/.venv-peers/bin/python bench/peers/run_peers.py bench/out/corpus-$(BENCH_TAG) bench/out/peers-$(BENCH_TAG)
	$(BIN)/python bench/peers/pandas_baseline.py bench/out/peers-$(BENCH_TAG)
	$(BIN)/python bench/peers/ftdata_shared.py bench/out/peers-$(BENCH_TAG)
	$(BIN)/python bench/peers/ftdata_shared.py bench/out/peers-$(BENCH_TAG) --executor dask
	$(BIN)/python bench/peers/near_dup_quality.py bench/out/corpus-$(BENCH_TAG) bench/out/peers-$(BENCH_TAG)

lint: venv
	$(BIN)/ruff check ftdata stages tests tools bench
	$(BIN)/ruff format --check ftdata stages tests tools bench
