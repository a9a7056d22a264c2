"""A model-backed PII op for what rules cannot find (names, addresses): off by default.

``redact_pii_model`` sends each message (and ``text``) to an OpenAI-compatible
chat-completions server through the augment stage's client
(ftdata.llm.client.ChatClient: content-addressed cache, call budget,
retries; the API key is read from the environment variable named in
``api_key_env`` and never stored). The model is asked for the spans as
quoted text, not offsets (models miscount characters); every occurrence of a
returned snippet is replaced with ``<NAME>`` / ``<ADDRESS>``, and a snippet
that is not in the text is ignored, so a hallucinated answer cannot change
anything else. A text whose call failed or was over budget is left as it was
and counted in the warning log: run the rule-based ``redact_pii`` too.

Enable it by adding ``redact_pii_model`` to ``clean.ops`` (after
``redact_pii``, so numbers are already placeholders and never leave the
machine) and setting ``clean.redact_pii_model.base_url`` / ``model``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ftdata.errors import ConfigError
from ftdata.llm.cache import LlmCache
from ftdata.llm.client import FENCE_RE, ChatCall, ChatClient, PromptTemplate
from ftdata.ops.pii import with_redacted_columns
from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, split_by

log = logging.getLogger(__name__)

MODEL_PII_TYPES = ("name", "address")
MODEL_PLACEHOLDERS = {"name": "<NAME>", "address": "<ADDRESS>"}
SYSTEM = (
    "You find personal data in customer-service text. Return only JSON: "
    '{"spans": [{"type": "name", "text": "..."}]} where type is one of: $types. '
    'Copy each span exactly as it appears in the text. No span: {"spans": []}.'
)
USER = "PII spans of types $types in:\n$text"
TEMPLATE = PromptTemplate("redact_pii_model", SYSTEM, USER, ("spans",))
DEFAULTS = {
    "base_url": "http://127.0.0.1:8000/v1",
    "model": "qwen2.5-7b-instruct",
    "api_key_env": "FTDATA_LLM_API_KEY",
    "cache_dir": "data/cache/llm_pii",
    "timeout_s": 30.0,
    "max_retries": 3,
    "backoff_s": 1.0,
    "backoff_max_s": 30.0,
    "concurrency": 4,
    "max_calls": 1000,
    "json_mode": False,
    "generation": {"temperature": 0.0, "top_p": 1.0, "max_tokens": 256, "seed": 0},
}


def parse_spans(content: str | None, text: str, types: tuple[str, ...]) -> list[tuple[str, str]]:
    """(type, snippet) pairs from a model answer that are really in ``text``; junk gives []."""
    if not content:
        return []
    fenced = FENCE_RE.match(content)
    try:
        data = json.loads(fenced.group(1) if fenced else content)
    except ValueError:
        return []
    spans = data.get("spans") if isinstance(data, dict) else None
    found = []
    for span in spans if isinstance(spans, list) else []:
        if not isinstance(span, dict):
            continue
        kind, snippet = span.get("type"), span.get("text")
        if kind in types and isinstance(snippet, str) and snippet.strip() and snippet in text:
            found.append((kind, snippet))
    # Longest first, so "北京市朝阳区建国路88号" goes before "北京".
    return sorted(set(found), key=lambda s: (-len(s[1]), s))


def apply_spans(text: str, spans: list[tuple[str, str]]) -> str:
    for kind, snippet in spans:
        text = text.replace(snippet, MODEL_PLACEHOLDERS[kind])
    return text


@register("redact_pii_model", "clean")
def redact_pii_model(
    batch: pd.DataFrame, types: list[str] | tuple[str, ...] = MODEL_PII_TYPES, **llm
) -> OpResult:
    """Redact the names/addresses a model finds in every message and ``text``; rejects nothing."""
    kinds = tuple(types)
    for kind in kinds:
        if kind not in MODEL_PII_TYPES:
            raise ConfigError(
                f"clean.redact_pii_model.types: unknown type {kind!r} (known: {', '.join(MODEL_PII_TYPES)})"
            )
    unknown = sorted(set(llm) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"clean.redact_pii_model: unknown key(s) {', '.join(unknown)} (known: types, {', '.join(DEFAULTS)})"
        )
    cfg = {
        **DEFAULTS,
        **llm,
        "generation": {**DEFAULTS["generation"], **dict(llm.get("generation") or {})},
    }
    client = ChatClient(cfg, LlmCache(Path(cfg["cache_dir"])))
    texts_col = batch["text"] if "text" in batch.columns else [None] * len(batch)
    # Every non-empty string, in row order: one call per distinct text (the client dedups).
    strings: list[str] = []
    for msgs, text in zip(batch["messages"], texts_col, strict=True):
        for m in msgs if isinstance(msgs, list | tuple) else []:
            if isinstance(m.get("content"), str) and m["content"].strip():
                strings.append(m["content"])
        if isinstance(text, str) and text.strip():
            strings.append(text)
    variables = {"types": ", ".join(kinds)}
    outcomes = client.run([ChatCall(TEMPLATE, {**variables, "text": s}) for s in strings])
    answers: dict[str, list[tuple[str, str]]] = {}
    unchecked = 0
    for s, outcome in zip(strings, outcomes, strict=True):
        if outcome.content is None:
            unchecked += 1
        answers[s] = parse_spans(outcome.content, s, kinds)
    if unchecked:
        log.warning(
            "redact_pii_model: %d text(s) not checked (call failed or over budget)", unchecked
        )

    out = batch.copy()
    new_messages, new_texts, flags, found_types = [], [], [], []
    previous = batch["pii_types"] if "pii_types" in batch.columns else [None] * len(batch)
    before_flags = batch["pii_redacted"] if "pii_redacted" in batch.columns else [None] * len(batch)
    for msgs, text, before, flag in zip(
        batch["messages"], texts_col, previous, before_flags, strict=True
    ):
        found: set[str] = set(before) if isinstance(before, list | tuple) else set()
        msgs_out = []
        for m in msgs if isinstance(msgs, list | tuple) else []:
            content = m.get("content")
            if isinstance(content, str) and content in answers:
                found.update(k for k, _ in answers[content])
                content = apply_spans(content, answers[content])
            msgs_out.append({**m, "content": content})
        if isinstance(text, str) and text in answers:
            found.update(k for k, _ in answers[text])
            text = apply_spans(text, answers[text])
        new_messages.append(msgs_out)
        new_texts.append(text)
        flags.append(bool(flag) or bool(found))
        found_types.append(sorted(found))
    out = with_redacted_columns(out, new_messages, new_texts, flags, found_types)
    nothing = [False] * len(out)
    return split_by(out, nothing, Reason.PII_ONLY, [""] * len(out))
