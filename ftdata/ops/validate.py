"""The validate stage's ops: JSON Schema conformance and SFT trainability."""

from __future__ import annotations

import pandas as pd

from ftdata.io import to_jsonable
from ftdata.reasons import Reason
from ftdata.registry import OpResult, register, split_by
from ftdata.schemas import errors_of


@register("json_schema", "validate")
def json_schema(batch: pd.DataFrame, schema: str = "record.schema.json") -> OpResult:
    """Reject records that break schemas/<schema>; the detail names each path and message."""
    details = []
    for rec in batch.to_dict("records"):
        errs = errors_of(to_jsonable(rec), schema)
        details.append("; ".join(f"{rec.get('locator')}: {e}" for e in errs[:5]) if errs else "")
    return split_by(batch, [bool(d) for d in details], Reason.SCHEMA_INVALID, details)


def trainable_problem(messages: list[dict]) -> str:
    """Why a dialogue cannot train a chat model ('' when it can).

    It needs a user turn answered by a later assistant turn. Trailing user turns
    ("行", "ok then") are not a problem: the exporters trim them.
    """
    roles = [m["role"] for m in messages]
    if "user" not in roles:
        return "no user turn"
    if "assistant" not in roles[roles.index("user") :]:
        return "no assistant reply after the first user turn"
    return ""


@register("trainable", "validate")
def trainable(batch: pd.DataFrame) -> OpResult:
    """Reject chat records that do not end in an assistant reply to a user turn."""
    details = []
    for msgs, loc in zip(batch["messages"], batch["locator"], strict=True):
        problem = trainable_problem(msgs or []) if msgs else "no messages"
        details.append(f"{loc}: {problem}" if problem else "")
    return split_by(batch, [bool(d) for d in details], Reason.NOT_TRAINABLE, details)
