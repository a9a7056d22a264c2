"""The ``redact_pii`` clean op: message contents and ``text`` through ftdata.privacy.detect.

Detection (patterns, validators, the normalised view) lives in ftdata/privacy/; this
module applies it to a batch and rejects records that were nothing but PII.
"""

from __future__ import annotations

import re

import pandas as pd

from ftdata.privacy.detect import PII_TYPES, PLACEHOLDERS, check_types, redact
from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, split_by

# ---------------------------------------------------------------- the op
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))


def _only_placeholders(text: str) -> bool:
    """True when ``text`` holds a placeholder and nothing else but punctuation/space."""
    rest, n = _PLACEHOLDER_RE.subn("", text)
    return n > 0 and not any(ch.isalnum() for ch in rest)


def with_redacted_columns(
    out: pd.DataFrame, messages: list, texts: list, flags: list[bool], types: list[list[str]]
) -> pd.DataFrame:
    """``out`` with the redacted contents and the PII flags set, as every redacting op leaves them."""
    out["messages"] = pd.Series(messages, index=out.index, dtype=object)
    if "text" in out.columns:
        out["text"] = pd.Series(texts, index=out.index, dtype=object)
    out["pii_redacted"] = pd.Series(flags, index=out.index, dtype=object)
    out["pii_types"] = pd.Series(types, index=out.index, dtype=object)
    return out


@register("redact_pii", "clean")
def redact_pii(batch: pd.DataFrame, types: list[str] | tuple[str, ...] = PII_TYPES) -> OpResult:
    """Redact PII in every message and ``text``; reject records that were nothing but PII.

    Sets ``pii_redacted`` (bool) and ``pii_types`` (sorted list, merged with
    any earlier value). A record whose every user turn (or, without user
    turns, its ``text``) is only placeholders and punctuation after redaction
    is rejected as ``pii_only``; its rejected copy is the redacted one, so the
    rejects file never holds the PII either.

    Only contents: ids, labels and meta are identity columns the clean chain's
    cache re-attaches from its input, so they are redacted at ingest, where they
    are born, and again at the export boundary (ftdata/privacy/fields.py); the
    ``pii_types`` found there arrive here and are merged. Rejects of ops that run
    before this one are redacted where every reject is built (privacy.rejects.rejects_frame).
    """
    kinds = check_types(types)
    out = batch.copy()
    new_messages, new_texts, flags, found_types, pii_only = [], [], [], [], []
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    previous = batch["pii_types"] if "pii_types" in batch.columns else [None] * len(batch)
    for msgs, text, before in zip(batch["messages"], texts, previous, strict=True):
        found: set[str] = set(before) if isinstance(before, list | tuple) else set()
        hit = False
        msgs_out = []
        for m in msgs if isinstance(msgs, list | tuple) else []:
            content = m.get("content")
            if isinstance(content, str) and content:
                content, kinds_found = redact(content, kinds)
                found.update(kinds_found)
                hit = hit or bool(kinds_found)
            msgs_out.append({**m, "content": content})
        if isinstance(text, str) and text:
            text, kinds_found = redact(text, kinds)
            found.update(kinds_found)
            hit = hit or bool(kinds_found)
        user_turns = [m["content"] or "" for m in msgs_out if m.get("role") == "user"]
        judged = user_turns or ([text] if isinstance(text, str) else [])
        pii_only.append(bool(judged) and all(_only_placeholders(t) for t in judged))
        new_messages.append(msgs_out)
        new_texts.append(text)
        flags.append(hit or bool(found))
        found_types.append(sorted(found))
    out = with_redacted_columns(out, new_messages, new_texts, flags, found_types)
    details = [
        "every user turn is only PII (" + ", ".join(t) + ")" if only else ""
        for only, t in zip(pii_only, found_types, strict=True)
    ]
    return split_by(out, pii_only, Reason.PII_ONLY, details)
