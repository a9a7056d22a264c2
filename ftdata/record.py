"""The canonical record: column set, arrow schema, stable ids and content hashes.

Every stage reads and writes records in this shape (parquet between stages).
Columns beyond the canonical ones (scores, flags) are allowed and carried on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow as pa

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
OP_ENTRY = pa.struct([("stage", pa.string()), ("op", pa.string()), ("params_hash", pa.string())])
ANNOTATION = pa.struct(
    [
        ("annotator", pa.string()),
        ("label", pa.string()),
        ("guideline_version", pa.string()),
        # set by the annotate stage: the export batch, and the label as given before a taxonomy migration
        ("batch", pa.string()),
        ("original_label", pa.string()),
    ]
)

CANONICAL_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string()),
    pa.field("source", pa.string()),
    pa.field("source_kind", pa.string()),
    pa.field("license", pa.string()),
    pa.field("locator", pa.string()),
    pa.field("conversation_id", pa.string()),
    pa.field("messages", pa.list_(MESSAGE)),
    pa.field("text", pa.string()),
    pa.field("label", pa.string()),
    pa.field("annotations", pa.list_(ANNOTATION)),
    pa.field("parents", pa.list_(pa.string())),
    pa.field("ops", pa.list_(OP_ENTRY)),
    pa.field("meta", pa.string()),
]
CANONICAL_COLUMNS = [f.name for f in CANONICAL_FIELDS]
NESTED_COLUMNS = ("messages", "annotations", "parents", "ops")

SOURCE_KINDS = ("logs", "public", "crawl", "crowd", "feedback", "augment")
AUGMENT_KIND = "augment"  # the source_kind of a record augmentation derived
ROLES = ("system", "user", "assistant")
SPLITS = ("train", "val", "test")  # the split names, in the order every output lists them


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the one serialisation hashes are taken of."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_id(source: str, locator: str, raw: str | bytes) -> str:
    """Stable id: an unchanged raw record keeps it across builds and versions."""
    raw_hash = sha256_hex(raw)
    return sha256_hex(f"{source}\x1f{locator}\x1f{raw_hash}")[:16]


def content_of(messages: list[dict] | None, text: str | None) -> str:
    """All trainable text of a record, turns joined by newlines (what dedup and scores read)."""
    parts = [m["content"] for m in (messages or []) if m.get("content")]
    if text:
        parts.append(text)
    return "\n".join(parts)


def content_hash(messages: list[dict] | None, text: str | None) -> str:
    turns = [[m.get("role"), m.get("content")] for m in (messages or [])]
    return sha256_hex(canonical_json([turns, text]))[:16]


def params_hash(params: Any) -> str:
    return sha256_hex(canonical_json(params))[:12]


def new_record(
    *,
    source: str,
    source_kind: str,
    license: str,
    locator: str,
    raw: str | bytes,
    messages: list[dict],
    text: str | None = None,
    label: str | None = None,
    conversation_id: str | None = None,
    meta: dict | None = None,
) -> dict:
    rid = record_id(source, locator, raw)
    return {
        "id": rid,
        "source": source,
        "source_kind": source_kind,
        "license": license,
        "locator": locator,
        # Scoped by source: raw session ids of two systems may collide.
        "conversation_id": f"{source}:{conversation_id}" if conversation_id else rid,
        "messages": messages,
        "text": text,
        "label": label,
        "annotations": [],
        "parents": [],
        "ops": [],
        "meta": canonical_json(meta) if meta else None,
    }


# Columns stages add. Declared here so every batch of a chunked write has the
# same arrow type even when a column happens to be all-null in the first batch.
EXTRA_FIELDS: dict[str, pa.DataType] = {
    "pii_redacted": pa.bool_(),
    "pii_types": pa.list_(pa.string()),
    "compliance_flags": pa.list_(pa.string()),
    "smalltalk_removed": pa.int64(),
    "dup_cluster": pa.string(),
    "lang": pa.string(),
    "split": pa.string(),
    "spot_check": pa.bool_(),
    "hard": pa.bool_(),
    "label_origin": pa.string(),  # annotate: source | consensus | adjudicated | no_consensus | not_in_taxonomy
}
SCORE_PREFIX = "score_"


def field_type(name: str) -> pa.DataType | None:
    for f in CANONICAL_FIELDS:
        if f.name == name:
            return f.type
    if name in EXTRA_FIELDS:
        return EXTRA_FIELDS[name]
    if name.startswith(SCORE_PREFIX):
        return pa.float64()
    return None
