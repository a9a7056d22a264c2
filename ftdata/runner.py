"""The one shared mechanism behind every row-local stage.

It streams record batches through the configured ops, keeps the lineage entry
(`ops`) of every record an op changed, checks that each op accounted for every
row, collects rejects and counts. Ops only say what they keep and why they reject.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.cache import (
    CHAIN_STAGES,
    ChainCache,
    OpCache,
    cached_call,
    cached_chain,
    chain_cache_name,
    check_chain_stages,
)
from ftdata.catalog import all_ops, get_op
from ftdata.executors import make_executor
from ftdata.io import (
    RecordWriter,
    empty_records,
    iter_tables,
    records_to_table,
    table_to_records,
)
from ftdata.metrics import StageCounts
from ftdata.params import cache_settings, check_op_keys, executor_settings, op_params
from ftdata.privacy.rejects import rejects_frame
from ftdata.progress import StageProgress
from ftdata.record import params_hash
from ftdata.registry import BatchOp, OpResult
from ftdata.stage import project_root
from ftdata.stage_run import StageRun


@dataclass(frozen=True)
class OpCall:
    name: str
    params: dict

    @property
    def params_hash(self) -> str:
        return params_hash({"op": self.name, "params": self.params})


def op_calls(section: dict, stage: str, names: list[str] | None = None) -> list[OpCall]:
    """The ops of ``section['ops']`` (or ``names``), each with its params found and
    checked by the one rule (:func:`ftdata.params.op_params`)."""
    check_op_keys(stage, section, all_ops())
    calls = []
    for name in names if names is not None else section.get("ops", []):
        op = get_op(name, where=f"params.yaml: {stage}.ops")
        calls.append(OpCall(name, op_params(stage, section, op)))
    return calls


def _fingerprints(df: pd.DataFrame) -> dict[str, tuple]:
    """Per row, its content as a comparable value: an op changed a row iff this differs.
    Plain tuples, not a hash: comparing unchanged strings is an identity check."""
    texts = df["text"] if "text" in df.columns else [None] * len(df)
    # A missing text may be None or NaN (pandas' string dtype, once an op rewrote the
    # column): the same content either way, or lineage would depend on the chunk.
    return {
        rid: (
            tuple((m.get("role"), m.get("content")) for m in (ms or [])),
            t if isinstance(t, str) else None,
        )
        for rid, ms, t in zip(df["id"], df["messages"], texts, strict=True)
    }


def apply_op(
    batch: pd.DataFrame,
    call: OpCall,
    stage: str,
    cache: OpCache | None = None,
    new_entries: list[pd.DataFrame] | None = None,
    fn: BatchOp | None = None,
) -> OpResult:
    """Run one op on a batch, append lineage to changed rows, check accounting.

    With ``cache`` (ftdata.cache) only rows whose content it lacks are computed;
    their new entries are appended to ``new_entries``. ``fn`` replaces the
    registered implementation with an equivalent one (the executor's
    distributed dedup); lineage and checks stay the op's.
    """
    return _apply(batch, call, stage, cache, new_entries, fn)[0]


def _apply(
    batch: pd.DataFrame,
    call: OpCall,
    stage: str,
    cache: OpCache | None = None,
    new_entries: list[pd.DataFrame] | None = None,
    fn: BatchOp | None = None,
    before: dict[str, str] | None = None,
) -> tuple[OpResult, dict[str, str]]:
    """``apply_op``, plus the kept rows' content fingerprints: in a chain they are the
    next op's ``before``, so each record is hashed once per op instead of twice."""
    op = get_op(call.name)
    impl = fn or op.fn
    before = before if before is not None else _fingerprints(batch)
    if cache is not None:
        result, fresh = cached_call(impl, batch, call.params, cache)
        if new_entries is not None:
            new_entries.append(fresh)
    else:
        result = impl(batch, **call.params)
    kept, rejected = result.kept, result.rejected
    kept_ids = list(kept["id"]) if len(kept) else []
    rejected_ids = list(rejected["id"]) if len(rejected) else []
    if sorted(kept_ids + rejected_ids) != sorted(before):
        raise AssertionError(f"op {call.name!r} lost or invented rows: accounting does not balance")
    after = _fingerprints(kept) if len(kept) else {}
    if len(kept):
        entry = {"stage": stage, "op": call.name, "params_hash": call.params_hash}
        kept = kept.copy()
        # An op may mark rows it changed without touching text (``_changed`` column).
        flagged = kept["_changed"].tolist() if "_changed" in kept.columns else [False] * len(kept)
        kept["ops"] = [
            list(ops) + [entry] if after[rid] != before[rid] or bool(flag) else list(ops)
            for rid, ops, flag in zip(kept["id"], kept["ops"], flagged, strict=True)
        ]
    return OpResult(kept=kept.reset_index(drop=True), rejected=rejected), after


def run_ops(
    batch: pd.DataFrame,
    calls: Iterable[OpCall],
    stage: str,
    caches: dict[str, OpCache | ChainCache] | None = None,
    new_entries: dict[str, list[pd.DataFrame]] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rejected_parts = []
    caches = caches or {}
    chain = caches.get(chain_cache_name(stage))
    if chain is not None:  # the whole chain is cached per record (ftdata.cache)
        fresh = None if new_entries is None else new_entries.setdefault(chain_cache_name(stage), [])
        return cached_chain(batch, list(calls), stage, chain, run_ops, fresh)
    fingerprints = None
    for call in calls:
        if not len(batch):
            break
        fresh = None if new_entries is None else new_entries.setdefault(call.name, [])
        result, fingerprints = _apply(
            batch, call, stage, caches.get(call.name), fresh, before=fingerprints
        )
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
    executor: dict | None = None,
    cache: dict | None = None,
) -> StageCounts:
    """Stream ``inputs`` through ``calls`` in chunks; write out, rejects and metrics.

    Chunks run on the executor of ``executor`` (the params section; None = the
    project's params.yaml if there is one, else in-process pandas) and costly
    ops go through the per-record cache of ``cache`` (same defaulting; no
    params.yaml = no cache). Whatever runs the chunks, this process writes
    their results in input order, so outputs are the same bytes.
    """
    with StageRun(stage, output, rejects=rejects, metrics=metrics) as run, ExitStack() as stack:
        executor = executor if executor is not None else executor_settings()
        caches = load_caches(calls, cache if cache is not None else cache_settings(), stage)
        # New entries go to disk as they arrive, not held to the end (ftdata.cache.EntrySpill).
        spills = {name: stack.enter_context(c.spill()) for name, c in caches.items()}
        total = sum(pq.ParquetFile(path).metadata.num_rows for path in inputs)
        with (
            make_executor(executor) as ex,
            RecordWriter(output) as writer,
            StageProgress(stage, total) as bar,
        ):
            shared = ex.share(caches) if caches else {}
            chunks = (table for path in inputs for table in iter_tables(path, chunk_size))
            for chunk in ex.map_ordered(run_chunk, chunks, calls, stage, shared):
                run.counts.n_in += chunk.n_in
                bar.advance(chunk.n_in)
                writer.write(chunk.kept)
                run.counts.out += chunk.kept.num_rows
                for part in chunk.rejects:
                    run.reject_built(part)
                for name, fresh in chunk.new_entries.items():
                    for entries in fresh:
                        spills[name].add(entries)
        for spill in spills.values():
            spill.finish()
        ensure_cache_dirs(stage, cache if cache is not None else cache_settings())
    return run.counts


@dataclass
class ChunkResult:
    n_in: int
    kept: pa.Table  # records_to_table of the kept rows
    rejects: list[pd.DataFrame]  # already in the rejects-file shape (rejects_frame)
    new_entries: dict[str, list[pd.DataFrame]]  # op -> new per-record cache entries


def run_chunk(
    table: pa.Table, calls: list[OpCall], stage: str, caches: dict[str, OpCache]
) -> ChunkResult:
    """The pure per-chunk work of a row stage: what an executor runs, anywhere."""
    batch = table_to_records(table)
    new_entries: dict[str, list[pd.DataFrame]] = {}
    kept, rejected_parts = run_ops(batch, calls, stage, caches, new_entries if caches else None)
    rejects = [rejects_frame(stage, part) for part in rejected_parts]
    fresh = {name: entries for name, entries in new_entries.items() if name in caches}
    # Arrow, built here: on dask that work runs on the workers, not in the writer.
    table = records_to_table(kept if len(kept.columns) else empty_records())
    return ChunkResult(len(batch), table, rejects, fresh)


def load_caches(
    calls: list[OpCall], cache: dict | None, stage: str | None = None
) -> dict[str, OpCache | ChainCache]:
    """The per-record caches of ``calls`` (none without a cache section): the whole
    chain's when ``stage`` is in ``cache.stages``, else those of the cached ops."""
    if not cache:
        return {}
    root = project_root()
    check_chain_stages(cache.get("stages", []))
    if stage in cache.get("stages", []):
        chain = ChainCache.load(root, cache["dir"], stage, calls, cache.get("max_shards", 16))
        return {chain_cache_name(stage): chain}
    return {
        call.name: OpCache.load(
            root, cache["dir"], call.name, call.params, cache.get("max_shards", 16)
        )
        for call in calls
        if call.name in cache.get("ops", [])
    }


def ensure_cache_dirs(stage: str, cache: dict | None) -> None:
    """The cache directory of every cached op of ``stage``, and of ``stage``'s chain,
    exists (it is a DVC out), even when the op is not configured to run, the chain
    cache is switched off, or nothing new was computed."""
    if not cache:
        return
    names = [s for s in CHAIN_STAGES if s == stage]
    for name in cache.get("ops", []):
        if get_op(name, where="params.yaml: cache.ops").stage == stage:
            names.append(name)
    for name in names:
        (project_root() / cache["dir"] / name).mkdir(parents=True, exist_ok=True)
