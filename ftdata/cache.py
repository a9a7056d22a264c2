"""Per-record cache of costly ops: a rebuild recomputes only records it has not seen.

DVC decides whether a stage runs at all; once it runs (say one source gained
1 % new records), every record goes through the stage again. For an op that is
costly per record (quality ``score``; later model-backed augmentation or
embeddings) that would redo 99 % identical work, so its results are cached per
record, keyed by ``(op, op params hash, record content hash)``.

What can be cached: an *annotating* op, one that only adds columns computed
from a record's content (``messages`` + ``text``), rejects nothing and leaves
the text alone. ``COSTLY_OPS`` names each such op and the columns it writes;
``cached_call`` refuses anything else, because a cache that silently replays a
filter or a rewrite would hide a code change.

Storage: ``<cache.dir>/<op>/<params_hash>/<shard>.parquet``, one row per
content hash (``key``) with the op's columns. A stage run that computed new
entries writes them as ONE new shard, rows sorted by key and named by the hash
of its content, so two builds with the same history leave byte-identical
caches whichever executor ran them. Past ``max_shards`` shards the op's shards
are compacted into one. The directory is a DVC out of the stage that runs the
op with ``persist: true`` (DVC keeps it across runs instead of deleting it
first, and versions it like any out); it is not a dependency of anything, so it
creates no cycle. A changed op *implementation* is not in the key: the stage's
code deps make DVC rerun it, and ``cache.ops: []`` (or deleting the directory)
recomputes everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.errors import ConfigError
from ftdata.io import PARQUET_OPTS, atomic_path
from ftdata.record import content_hash, params_hash, sha256_hex
from ftdata.registry import OpResult


def _score_columns() -> tuple[str, ...]:
    from ftdata.ops.quality import SCORE_COLUMNS

    return (*SCORE_COLUMNS, "lang")


# op name -> the columns it writes (a function: imported lazily, so this module
# does not pull in every op's dependencies). Each such op marks every row it
# annotates ``_changed`` (quality ``score`` does), and a replayed row is too.
COSTLY_OPS = {"score": _score_columns}
KEY = "key"


def cached_columns(op: str) -> tuple[str, ...]:
    if op not in COSTLY_OPS:
        raise ConfigError(
            f"params.yaml: cache.ops: op {op!r} cannot be cached "
            f"(cacheable: {', '.join(sorted(COSTLY_OPS))})"
        )
    return COSTLY_OPS[op]()


def record_keys(batch: pd.DataFrame) -> list[str]:
    """Content hash per row: what a cacheable op's result depends on."""
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    return [
        content_hash(m, t if isinstance(t, str) else None)
        for m, t in zip(batch["messages"], texts, strict=True)
    ]


@dataclass
class OpCache:
    """The cached results of one op under one params hash, indexed by content hash."""

    op: str
    params_hash: str
    directory: Path
    columns: tuple[str, ...]
    table: pd.DataFrame  # index: key; one column per op column
    max_shards: int = 16

    @classmethod
    def load(
        cls, root: Path, cache_dir: str, op: str, op_params: dict, max_shards: int = 16
    ) -> OpCache:
        columns = cached_columns(op)
        phash = params_hash({"op": op, "params": op_params})
        directory = root / cache_dir / op / phash
        shards = sorted(directory.glob("*.parquet")) if directory.is_dir() else []
        frames = [pq.read_table(p).to_pandas() for p in shards]
        frames = [f for f in frames if len(f)]
        if frames:
            table = pd.concat(frames, ignore_index=True).drop_duplicates(KEY).set_index(KEY)
        else:
            table = pd.DataFrame(columns=[KEY, *columns]).set_index(KEY)
        return cls(op, phash, directory, columns, table, max_shards)

    def __len__(self) -> int:
        return len(self.table)

    def shard_paths(self) -> list[Path]:
        return sorted(self.directory.glob("*.parquet")) if self.directory.is_dir() else []

    def write_new(self, entries: list[pd.DataFrame]) -> Path | None:
        """Persist entries computed this run as one deterministic shard; compact if needed."""
        entries = [e for e in entries if e is not None and len(e)]
        if not entries:
            return None
        new = pd.concat(entries, ignore_index=True).drop_duplicates(KEY)
        new = new[~new[KEY].isin(self.table.index)]
        if not len(new):
            return None
        path = self._write_shard(new)
        shards = self.shard_paths()
        if len(shards) > self.max_shards:
            merged = pd.concat([pq.read_table(p).to_pandas() for p in shards], ignore_index=True)
            merged = merged.drop_duplicates(KEY)
            path = self._write_shard(merged)
            for old in shards:
                if old != path:
                    old.unlink()
        return path

    def _write_shard(self, frame: pd.DataFrame) -> Path:
        frame = frame.sort_values(KEY, kind="stable").reset_index(drop=True)
        table = _entries_table(frame, self.columns)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, **PARQUET_OPTS)
        data = sink.getvalue().to_pybytes()
        path = self.directory / f"{sha256_hex(data)[:16]}.parquet"
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path


def _entries_table(frame: pd.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    arrays = [pa.array(frame[KEY].tolist(), type=pa.string())]
    for col in columns:
        values = frame[col].tolist()
        if col == "lang" or any(isinstance(v, str) for v in values):
            arrays.append(
                pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
            )
        else:
            # NaN is a value here (e.g. "no English"), kept as NaN, not null.
            arrays.append(pa.array([float(v) for v in values], type=pa.float64()))
    return pa.Table.from_arrays(arrays, names=[KEY, *columns])


def cached_call(
    fn, batch: pd.DataFrame, params: dict, cache: OpCache
) -> tuple[OpResult, pd.DataFrame]:
    """Run ``fn`` only on rows whose content is not cached; fill the others from the cache.

    Returns the op's result, identical to ``fn(batch, **params)``, and the new
    cache entries (key + columns) for the rows that were computed.
    """
    keys = record_keys(batch)
    hit = np.fromiter((k in cache.table.index for k in keys), dtype=bool, count=len(keys))
    miss_rows = batch[~hit]
    computed = None
    if len(miss_rows):
        result = fn(miss_rows.reset_index(drop=True), **params)
        if len(result.rejected):
            raise AssertionError(
                f"cached op {cache.op!r} rejected rows: only annotating ops can be cached"
            )
        computed = result.kept
        if len(computed) != len(miss_rows):
            raise AssertionError(f"cached op {cache.op!r} changed the number of rows")
    out = batch.copy()
    for col in cache.columns:
        values = [None] * len(batch)
        if hit.any():
            cached_vals = cache.table.loc[
                [k for k, h in zip(keys, hit, strict=True) if h], col
            ].tolist()
            for pos, value in zip(np.flatnonzero(hit), cached_vals, strict=True):
                values[pos] = value
        if computed is not None:
            for pos, value in zip(np.flatnonzero(~hit), computed[col].tolist(), strict=True):
                values[pos] = value
        if col == "lang":
            out[col] = pd.Series(
                [v if isinstance(v, str) else None for v in values], index=batch.index, dtype=object
            )
        else:
            out[col] = pd.Series([_float(v) for v in values], index=batch.index, dtype=float)
    # Annotating ops mark every row they annotate ``_changed`` (its lineage
    # records the op); a replayed row is marked the same way.
    out["_changed"] = True
    new_entries = pd.DataFrame(
        {
            KEY: [k for k, h in zip(keys, hit, strict=True) if not h],
            **{c: computed[c].tolist() for c in cache.columns},
        }
        if computed is not None
        else {KEY: [], **{c: [] for c in cache.columns}}
    )
    return OpResult(kept=out.reset_index(drop=True)), new_entries


def _float(value) -> float:
    if value is None:
        return math.nan
    return float(value)
