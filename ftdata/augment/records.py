"""How a generated record (a *child*) is built, so every op makes them the same way.

A child has source kind ``augment``, ``parents`` = the ids it came from, the
parent's ``ops`` plus one entry for the op that made it, and an id derived
from the parent id, the op, its params hash and the variant number: an
unchanged parent and config give the same child id in every build.

This module imports nothing from ``ftdata.ops`` at import time, because
``ftdata.ops`` imports the augment rules (to register them) and the two
would otherwise import each other.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from ftdata.record import (
    AUGMENT_KIND,
    SCORE_PREFIX,
    canonical_json,
    content_of,
    params_hash,
    record_id,
)

STAGE = "augment"


def op_params_hash(op: str, params: dict) -> str:
    """The same hash the runner writes into ``ops`` (``OpCall.params_hash``)."""
    return params_hash({"op": op, "params": params})


def child_rng(seed: int, parent_id: str, op: str, variant: int) -> random.Random:
    """A private RNG per (parent, op, variant): a child never depends on other records."""
    digest = hashlib.sha256(f"{seed}:{parent_id}:{op}:{variant}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _meta_with(meta: Any, extra: dict | None) -> str | None:
    """The parent's meta (a JSON string) with an ``augment`` entry saying how the child was made."""
    if not extra:
        return meta if isinstance(meta, str) else None
    base: dict = {}
    if isinstance(meta, str) and meta:
        try:
            loaded = json.loads(meta)
            base = loaded if isinstance(loaded, dict) else {"parent_meta": loaded}
        except ValueError:
            base = {"parent_meta": meta}
    return canonical_json({**base, "augment": extra})


def make_child(
    parent: dict,
    *,
    op: str,
    phash: str,
    variant: int,
    messages: list[dict],
    text: str | None = None,
    label: Any = ...,
    extra_parents: tuple[str, ...] = (),
    meta: dict | None = None,
    stage: str = STAGE,
) -> dict:
    """A new record derived from ``parent`` by ``op`` (variant ``variant``).

    Keeps the parent's source, license and ``conversation_id`` (so the split
    groups the child with its parent) and its label unless one is given.
    Scores and review flags are the parent's and would be wrong for the new
    text, so they are cleared; ``lang`` is recomputed.
    """
    parent_id = str(parent["id"])
    locator = f"{parent['locator']}#{stage}/{op}/{variant}"
    raw = canonical_json({"parent": parent_id, "op": op, "params_hash": phash, "variant": variant})
    child_id = record_id(str(parent["source"]), locator, raw)
    child = dict(parent)
    for key in list(child):
        if key.startswith(SCORE_PREFIX) or key.startswith("_"):
            child.pop(key)
    child.update(
        {
            "id": child_id,
            "source_kind": AUGMENT_KIND,
            "locator": locator,
            "messages": messages,
            "text": text,
            "annotations": [],
            "parents": [parent_id, *[p for p in extra_parents if p != parent_id]],
            "ops": [
                *list(parent.get("ops") or []),
                {"stage": stage, "op": op, "params_hash": phash},
            ],
            "meta": _meta_with(parent.get("meta"), {"op": op, "variant": variant, **(meta or {})}),
            "dup_cluster": child_id,
            "spot_check": None,
        }
    )
    if label is not ...:
        child["label"] = label
    from ftdata.text.lang import detect_lang

    child["lang"] = detect_lang(content_of(messages, text))
    return child


def user_turns(messages: list[dict]) -> list[int]:
    return [i for i, m in enumerate(messages) if m.get("role") == "user" and m.get("content")]


def query_turn(messages: list[dict]) -> int | None:
    """Index of the user turn that carries the question: the longest one (first on ties).

    Chat logs often open with a bare greeting (``你好客服``) before the real
    question, so "first user turn" would pick the greeting.
    """
    best = None
    for i in user_turns(messages):
        if best is None or len(messages[i]["content"]) > len(messages[best]["content"]):
            best = i
    return best


def write_metrics(counts, path) -> None:
    """``counts.write(path)``, but with non-ASCII escaped (``\\u8d26``).

    DVC takes a metrics file whose first 512 bytes are over 30 % non-ASCII for
    a binary file and refuses it ("binary file ... cannot be used as
    metrics"); per-label metrics keyed by Chinese taxonomy paths are exactly
    that. Escaped JSON is the same JSON: ``dvc metrics show`` prints the labels.
    """
    from ftdata.io import to_jsonable, write_text

    if not counts.balanced():
        raise AssertionError(
            f"{counts.stage}: records lost: in {counts.n_in} + added {counts.added} != "
            f"out {counts.out} + rejected {counts.rejected_total}"
        )
    write_text(
        path,
        json.dumps(to_jsonable(counts.as_dict()), ensure_ascii=True, indent=2, sort_keys=True)
        + "\n",
    )
    from ftdata.metrics import write_headline

    write_headline(path, counts.as_dict())
