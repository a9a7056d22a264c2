"""Production feedback goes through review before training: the export stage's hold op.

Records of a review-only source kind (``feedback``: user thumbs-down, escalations,
agent corrections) are candidate samples, not training data. They flow through
clean, dedup, quality, split and validate like any record (so they are redacted,
deduplicated against existing data and scored), and the export stage holds every
one that does not carry an adjudicated label: it is rejected from the exports
with reason ``awaiting_review`` and written to
``data/processed/review/feedback_candidates.jsonl``, with its raw locator (the
production log line), for the annotation review queue.

A record is adjudicated when it has a label and either its raw line said so
(``meta.adjudicated_label`` equals the label: the QA team adjudicated it in an
earlier round) or the annotate stage took its label from a reviewer's
adjudication file (``label_origin`` is one of ``label_origins``, by default
``adjudicated``; a mere annotator consensus is not enough).
"""

from __future__ import annotations

import json

import pandas as pd

from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, split_by

CANDIDATES_FILE = "data/processed/review/feedback_candidates.jsonl"
# meta keys of a feedback source that a reviewer needs next to the sample
REVIEW_META = (
    "flag",
    "comment",
    "predicted_intent",
    "corrected_intent",
    "model_reply",
    "raw_id",
    "ts",
    "channel",
)


def meta_of(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def adjudicated(record: dict, label_origins: list[str]) -> bool:
    """Whether ``record``'s label was adjudicated (in the raw log, or by the annotate stage)."""
    label = record.get("label")
    if not isinstance(label, str) or not label:
        return False
    if meta_of(record.get("meta")).get("adjudicated_label") == label:
        return True
    return record.get("label_origin") in label_origins


def awaiting_review(
    batch: pd.DataFrame, kinds: list[str] | None = None, label_origins: list[str] | None = None
) -> list[bool]:
    """Per row: a review-only record without an adjudicated label (never a training parent)."""
    from ftdata.config_schema import HoldForReviewParams

    defaults = HoldForReviewParams()
    kinds = list(kinds if kinds is not None else defaults.kinds)
    label_origins = list(label_origins if label_origins is not None else defaults.label_origins)
    return [
        rec.get("source_kind") in kinds and not adjudicated(rec, label_origins)
        for rec in batch.to_dict("records")
    ]


@register("hold_for_review", "export")
def hold_for_review(
    batch: pd.DataFrame, kinds: list[str] | None = None, label_origins: list[str] | None = None
) -> OpResult:
    """Hold records of review-only source kinds (production feedback) until their label is adjudicated."""
    held, details = awaiting_review(batch, kinds, label_origins), []
    for rec, hold in zip(batch.to_dict("records"), held, strict=True):
        flag = meta_of(rec.get("meta")).get("flag")
        what = f"{rec.get('source_kind')} record" + (f" ({flag})" if flag else "")
        details.append(
            f"{rec.get('locator')}: {what} has no adjudicated label; queued in {CANDIDATES_FILE}"
            if hold
            else ""
        )
    return split_by(batch, held, Reason.AWAITING_REVIEW, details)


def review_candidates(held: pd.DataFrame) -> list[dict]:
    """The held records as review-queue rows: the sample, its lineage and what production said."""
    rows = []
    for rec in held.to_dict("records"):
        meta = meta_of(rec.get("meta"))
        rows.append(
            {
                "id": rec["id"],
                "source": rec.get("source"),
                "source_kind": rec.get("source_kind"),
                "locator": rec.get("locator"),  # the production log line
                "conversation_id": rec.get("conversation_id"),
                "messages": rec.get("messages"),
                "text": rec.get("text"),
                "label": rec.get("label"),
                "label_origin": rec.get("label_origin"),
                "suggested_label": meta.get("corrected_intent") or None,
                **{key: meta.get(key) for key in REVIEW_META},
                "reason": str(Reason.AWAITING_REVIEW),
                "verdict": None,  # for the reviewer: the adjudicated label, or "reject"
            }
        )
    return rows
