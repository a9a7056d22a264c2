#!/usr/bin/env bash
# Create bench/.venv-peers with datatrove and Data-Juicer (benchmark peers, never project deps).
# The pins are the ones shared/RESOURCES.md found to work here: plain `datatrove` cannot import
# its dedup module or read JSONL, xxhash 4.x breaks its default hashing, and Data-Juicer pulls a
# multi-GB CUDA torch unless the CPU torch is pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv-peers
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet datatrove pandas orjson tokenizers 'xxhash<4' psutil pyarrow ftfy nltk spacy
"$VENV/bin/pip" install --quiet py-data-juicer aiohttp torch==2.13.0 ray
touch "$VENV/.installed"
