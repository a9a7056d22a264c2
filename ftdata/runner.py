"""The one shared mechanism behind every row-local stage.

It streams record batches through the configured ops, keeps the lineage entry
(`ops`) of every record an op changed, checks that each op accounted for every
row, collects rejects and counts. Ops only say what they keep and why they reject.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ftdata.io import RecordWriter, iter_record_batches, rejects_frame, remove_stale_temps, write_rejects
from ftdata.metrics import StageCounts
from ftdata.record import content_hash, params_hash
from ftdata.registry import OpResult, get_op


@dataclass(frozen=True)
class OpCall:
    name: str
    params: dict

    @property
    def params_hash(self) -> str:
        return params_hash({"op": self.name, "params": self.params})


def op_calls(section: dict, stage: str, names: list[str] | None = None) -> list[OpCall]:
    """The ops of ``section['ops']`` (or ``names``), each with its params.

    An op's params are ``section[op_name]`` when that is a mapping (clean:
    ``clean.redact_pii.types``); otherwise the flat keys of the section that the
    op's signature declares (quality: ``quality.min_chars``).
    """
    calls = []
    for name in names if names is not None else section.get("ops", []):
        op = get_op(name, where=f"params.yaml: {stage}.ops")
        own = section.get(name)
        if isinstance(own, dict):
            params = dict(own)
        else:
            declared = [p for p in inspect.signature(op.fn).parameters if p != "batch"]
            params = {k: section[k] for k in declared if k in section}
        calls.append(OpCall(name, params))
    return calls


def _fingerprints(df: pd.DataFrame) -> dict[str, str]:
    texts = df["text"] if "text" in df.columns else [None] * len(df)
    return {rid: content_hash(m, t) for rid, m, t in zip(df["id"], df["messages"], texts, strict=True)}


def apply_op(batch: pd.DataFrame, call: OpCall, stage: str) -> OpResult:
    """Run one op on a batch, append lineage to changed rows, check accounting."""
    op = get_op(call.name)
    before = _fingerprints(batch)
    result = op.fn(batch, **call.params)
    kept, rejected = result.kept, result.rejected
    kept_ids = list(kept["id"]) if len(kept) else []
    rejected_ids = list(rejected["id"]) if len(rejected) else []
    if sorted(kept_ids + rejected_ids) != sorted(before):
        raise AssertionError(f"op {call.name!r} lost or invented rows: accounting does not balance")
    if len(kept):
        after = _fingerprints(kept)
        entry = {"stage": stage, "op": call.name, "params_hash": call.params_hash}
        kept = kept.copy()
        kept["ops"] = [
            list(ops) + [entry] if after[rid] != before[rid] or _flagged(kept, i) else list(ops)
            for i, (rid, ops) in enumerate(zip(kept["id"], kept["ops"], strict=True))
        ]
    return OpResult(kept=kept.reset_index(drop=True), rejected=rejected)


def _flagged(kept: pd.DataFrame, i: int) -> bool:
    """An op may mark rows it changed without touching text (``_changed`` column)."""
    return "_changed" in kept.columns and bool(kept["_changed"].iloc[i])


def run_ops(batch: pd.DataFrame, calls: Iterable[OpCall], stage: str) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rejected_parts = []
    for call in calls:
        if not len(batch):
            break
        result = apply_op(batch, call, stage)
        batch = result.kept.drop(columns=["_changed"], errors="ignore")
        if len(result.rejected):
            rejected_parts.append(result.rejected.drop(columns=["_changed"], errors="ignore"))
    return batch, rejected_parts


def run_row_stage(
    stage: str,
    inputs: list[Path],
    output: Path,
    rejects: Path,
    metrics: Path,
    calls: list[OpCall],
    chunk_size: int,
) -> StageCounts:
    """Stream ``inputs`` through ``calls`` in chunks; write out, rejects and metrics."""
    remove_stale_temps(output, rejects, metrics)
    counts = StageCounts(stage)
    reject_frames = []
    with RecordWriter(output) as writer:
        for path in inputs:
            for batch in iter_record_batches(path, chunk_size):
                counts.n_in += len(batch)
                kept, rejected_parts = run_ops(batch, calls, stage)
                writer.write(kept)
                counts.out += len(kept)
                for part in rejected_parts:
                    counts.reject(part["reason"])
                    reject_frames.append(rejects_frame(stage, part))
    write_rejects(rejects, reject_frames)
    counts.write(metrics)
    return counts


def rejected_rows(batch: pd.DataFrame, mask, reason: str, details) -> pd.DataFrame:
    """Rows of ``batch`` where ``mask`` holds, with a reason and per-row details."""
    rej = batch[mask].copy()
    rej["reason"] = reason
    if isinstance(details, str):
        rej["detail"] = details
    else:
        rej["detail"] = list(pd.Series(list(details), index=batch.index)[mask])
    return rej


def split_by(batch: pd.DataFrame, reject_mask, reason: str, details) -> OpResult:
    """Common case of a filter op: reject where ``reject_mask``, keep the rest."""
    mask = pd.Series(list(reject_mask), index=batch.index, dtype=bool)
    return OpResult(
        kept=batch[~mask].reset_index(drop=True),
        rejected=rejected_rows(batch, mask, reason, details).reset_index(drop=True),
    )
