"""Per-record cache: a rebuild recomputes only the records it has not seen.

DVC decides whether a stage runs at all; once it runs (say one source gained
1 % new records), every record goes through the stage again and 99 % of that
work is a repeat. Two kinds of work are cached per record, keyed by ``(what,
params hash, record content hash)``:

- a costly *annotating* op (``cache.ops``: quality ``score``; later
  model-backed augmentation or embeddings), one that only adds columns computed
  from a record's content, rejects nothing and leaves the text alone.
  Each such op declares its columns at registration (``cached_columns``); ``cached_call`` refuses
  anything else, because replaying one filter or rewriter on its own would need
  the output of the ops before it.
- the whole op chain of a stage (``cache.stages``: ``clean``, whose ops are
  cheap one by one but together are the slowest stage). The chain's outcome is
  a function of the record's content, so it is cached as a unit: kept, with the
  rewritten text, the columns the ops add and the lineage entries they append;
  or rejected by op k, with the columns the rejected row had then (reason,
  detail ...). Identity and provenance (id, source, locator, meta ...) are not
  in the key and not stored, but re-attached from the input row on replay, so a
  record that merely moved still hits. ``locator`` is the one an op may quote
  (a compliance reject detail names file and line): it is masked while the
  chain computes and filled back in on replay. Any other column an input row
  carries besides content and identity (an earlier ``pii_types``) can steer an
  op, so it is part of the key. A computed record and a replayed one come out
  of the same replay code, so a warm build writes the bytes a cold one does.

A third kind serves whole-dataset stages (``cache.stages``: ``dedup``): their
decision needs every record at once, but the costly part is per record (dedup's
exact key and MinHash band keys). ``KeyCache`` stores such fixed-width binary
values per content hash; the stage looks them up and computes only the misses.

The key includes the ops' *code*, not only their params: DVC reruns a stage
when its code changes, and a cache keyed by params alone would then replay
what the old code computed, so a fix would silently not reach the records seen
before. The params hash therefore takes a fingerprint of the source of every
module that implements a cached op, the ftdata modules those import (helpers
in ``ftdata.ops`` transitively), and this module (its entry format); a chain
adds the runner, whose lineage rule is replayed. It is coarse on purpose: a
comment edit also starts a fresh cache, which costs one slow build, while a
stale hit costs wrong data. Not covered: a third-party library (ftfy, OpenCC)
upgraded under unchanged code; ``cache.ops: []`` / ``cache.stages: []`` or
deleting the directory recomputes everything.

Storage: ``<cache.dir>/<op or stage>/<params_hash>/<shard>.parquet``, one row
per key. A stage run that computed new entries writes them as ONE new shard,
rows sorted by key and named by the hash of its content, so two builds with the
same history leave byte-identical caches whichever executor ran them (and
whatever the chunking: the shard's row groups have a fixed number of rows). The
entries are not held in memory until the stage ends: past ``SPILL_BYTES`` they
go to sorted part files in a temp folder, merged into the shard at the end
(``EntrySpill``); a run that dies first leaves no shard, only temps the next one
removes. Past ``max_shards`` shards they are merged into one the same way. Loaded
keys are indexed as sorted bytes (``KeyIndex``), not as Python strings. The directory is a DVC out
of its stage with ``persist: true`` (DVC keeps it across runs instead of
deleting it first, and versions it like any out); it is not a dependency of
anything, so it creates no cycle. Directories of older params or code are left
in place (an experiment may switch back).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ftdata.errors import ConfigError
from ftdata.io import PARQUET_OPTS, atomic_path, remove_stale_temps, to_jsonable
from ftdata.record import canonical_json, content_hash, params_hash, sha256_hex
from ftdata.registry import OpResult, all_ops, get_op

# Each op's cached columns are declared at its registration (``register(...,
# cached_columns=...)``), so this module imports no op. Such an op marks every row it
# annotates ``_changed`` (quality ``score`` does), and a replayed row is too.
KEY = "key"


def costly_ops() -> tuple[str, ...]:
    """The registered ops that declare cached columns (``cache.ops`` may name them)."""
    return tuple(sorted(name for name, op in all_ops().items() if op.cached_columns))


def cached_columns(op: str) -> tuple[str, ...]:
    columns = get_op(op, where="params.yaml: cache.ops").cached_columns
    if not columns:
        raise ConfigError(
            f"params.yaml: cache.ops: op {op!r} cannot be cached "
            f"(cacheable: {', '.join(costly_ops())})"
        )
    return columns


def record_keys(batch: pd.DataFrame) -> list[str]:
    """Content hash per row: what a cacheable op's result depends on."""
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    return [
        content_hash(m, t if isinstance(t, str) else None)
        for m, t in zip(batch["messages"], texts, strict=True)
    ]


# ---------------------------------------------------------------- code fingerprint
def code_fingerprint(fns: Iterable[Callable], extra_modules: Iterable[str] = ()) -> str:
    """Hash of the source of the modules that implement ``fns``, what they import from
    ftdata, and ``extra_modules``.

    Starts from each function's module (and the module of a function it wraps:
    ``text_op`` registers a wrapper defined in ftdata.registry), adds their
    ``ftdata.*`` imports, and follows imports transitively inside ``ftdata.ops``
    (op helpers such as ``lang``), not into the rest of the engine: an edit to
    the CLI must not throw the cache away.
    """
    start: set[str] = set()
    for fn in fns:
        start |= _impl_modules(fn)
    modules = start | set(extra_modules)  # extra modules count, their imports do not
    todo = list(start)
    while todo:
        for name in _ftdata_imports(todo.pop()):
            if name not in modules:
                modules.add(name)
                if name.startswith("ftdata.ops."):
                    todo.append(name)
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(f"{name}\0{_source_digest(name)}\n".encode())
    return digest.hexdigest()[:16]


def _impl_modules(fn: Callable) -> set[str]:
    names = {fn.__module__}
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if inspect.isfunction(inner):
            names.add(inner.__module__)
    return names


def _source_path(module: str) -> Path:
    return Path(importlib.import_module(module).__file__)


def _source_digest(module: str) -> str:
    path = _source_path(module)
    stat = path.stat()
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _file_digest(path: str, mtime_ns: int, size: int) -> str:  # mtime/size: an edit re-reads
    return sha256_hex(Path(path).read_bytes())


def _ftdata_imports(module: str) -> list[str]:
    path = _source_path(module)
    stat = path.stat()
    return _imports_of(str(path), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _imports_of(path: str, mtime_ns: int, size: int) -> list[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_bytes())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "ftdata"}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] != "ftdata":
                continue
            parent = importlib.import_module(node.module)
            if not hasattr(parent, "__path__"):
                found.add(node.module)
                continue
            # ``from ftdata.text import lang``: the submodules, not the package.
            for alias in node.names:
                if isinstance(getattr(parent, alias.name, None), type(parent)):
                    found.add(f"{node.module}.{alias.name}")
    return sorted(found)


# ---------------------------------------------------------------- shards
# Bytes of new entries one cache holds before it sorts them into a part file on disk:
# at 1M records a stage's new entries were ~1 GiB (clean's rewritten text) held to the
# end. Not a knob: it bounds memory, the cache's bytes do not depend on it.
SPILL_BYTES = 32 * 2**20
# Rows per row group of a shard: what compacting reads of each shard at a time (~3 MB
# of clean's entries). Fixed, so a shard's bytes are a function of its entries alone.
# Caches of small fixed-size entries (keys, scores) take ``GROUP_ROWS_SMALL`` times as many:
# their columns compress poorly in 2,048-row chunks (+50 % on disk for the score cache).
SHARD_GROUP_ROWS = 2_048
GROUP_ROWS_SMALL = 8
# Bytes per row group of a part file: what the merge reads of each part at a time.
PART_GROUP_BYTES = 2**20


class ShardStore:
    """What every cache shares: its shards under ``directory``."""

    directory: Path
    max_shards: int

    def shard_paths(self) -> list[Path]:
        return sorted(self.directory.glob("*.parquet")) if self.directory.is_dir() else []


class KeyIndex:
    """Row of each stored key: the keys as sorted fixed-width bytes (numpy 'S') and the row
    of each (its first, when shards repeat a key).

    A ``pd.Index`` of Python strings costs ~150 bytes a key (1M keys: ~150 MB, on top of
    the table); this is the key's bytes plus 8.
    """

    def __init__(self, keys: np.ndarray, rows: np.ndarray):
        self.keys = keys  # sorted, unique
        self.rows = rows  # int64, row of each key in the cache's table

    @classmethod
    def build(cls, column: pa.ChunkedArray | pa.Array) -> KeyIndex:
        keys = _key_bytes(column)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return cls(keys[first], order[first].astype(np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    def get_indexer(self, keys: list[str]) -> np.ndarray:
        """Row of each key, -1 where it is not stored (as ``pd.Index.get_indexer``)."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        query = _key_bytes(pa.array(keys, type=pa.string()))
        width = self.keys.dtype.itemsize
        fits = np.ones(len(query), dtype=bool)
        if query.dtype.itemsize > width:  # a longer key is stored nowhere
            fits = np.char.str_len(query) <= width
        query = query.astype(self.keys.dtype)
        pos = np.searchsorted(self.keys, query)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == query[found]
        found &= fits
        return np.where(found, self.rows[np.minimum(pos, len(self.keys) - 1)], -1)


def _key_bytes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A string column of keys as numpy 'S', from Arrow's buffers when every key has one
    length (the hex digests a cache stores): no Python string per key."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(column)
    if not n:
        return np.zeros(0, dtype="S1")
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[
        column.offset : column.offset + n + 1
    ]
    lengths = np.diff(offsets)
    width = int(lengths[0])
    if column.null_count or width == 0 or (lengths != width).any():
        return np.array([k.encode() for k in column.to_pylist()], dtype="S")
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view(f"S{width}").copy()


class IndexedShardStore(ShardStore):
    """A cache whose loaded entries are found through ``index`` (content hash -> row)."""

    index: KeyIndex
    schema: pa.Schema  # of its entries

    def lookup(self, keys: list[str]) -> np.ndarray:
        """Row of each key, -1 where it is not cached."""
        return self.index.get_indexer(keys)

    small_entries = True  # a few fixed-size values per key: bigger row groups

    def spill(self, budget: int | None = None) -> EntrySpill:
        """Where this run's new entries go as they arrive (``EntrySpill``)."""
        return EntrySpill(
            self.directory,
            self.schema,
            self.max_shards,
            self._table,
            budget,
            self.lookup,
            SHARD_GROUP_ROWS * (GROUP_ROWS_SMALL if self.small_entries else 1),
        )

    def _table(self, entries) -> pa.Table:
        """New entries, as the stage hands them, as a table of ``schema``."""
        return entries

    def write_new(self, entries: list) -> Path | None:
        """Persist entries computed this run as one deterministic shard; compact if needed."""
        with self.spill() as spill:
            for entry in entries:
                spill.add(entry)
            return spill.finish()


def _read_shards(directory: Path) -> list[pa.Table]:
    shards = sorted(directory.glob("*.parquet")) if directory.is_dir() else []
    return [t for t in (pq.read_table(p) for p in shards) if t.num_rows]


class EntrySpill:
    """The entries a stage computes for a cache, written to disk as they arrive.

    A stage used to hold them all and write one shard at its end: at 1M records that
    was most of its memory. Now at most ``budget`` bytes of them are held: past it the
    held ones are sorted by key into a part file in a private temp folder beside the
    cache (``.<params hash>.*.tmp``, so ``io.remove_stale_temps`` knows it). ``finish``
    merges the parts by key, a few rows of each at a time, into ONE new shard, rows
    sorted by key, one per key (its first computed), in row groups of a fixed number
    of rows (``SHARD_GROUP_ROWS``) and named by the hash of its bytes: the same entries give the
    same shard whatever the budget, the chunking or the executor. Past ``max_shards``
    the shards are merged into one the same way. A run that fails (or is killed) before
    ``finish`` leaves only temps, which the next run removes: never a half shard.
    """

    def __init__(
        self,
        directory: Path,
        schema: pa.Schema,
        max_shards: int,
        convert: Callable[[object], pa.Table] = lambda t: t,
        budget: int | None = None,
        known: Callable[[list[str]], np.ndarray] | None = None,
        group_rows: int | None = None,
    ):
        self.directory = directory
        self.schema = schema
        self.max_shards = max_shards
        self.convert = convert
        self.known = known  # row of each key already stored (-1: new)
        self.group_rows = group_rows or SHARD_GROUP_ROWS
        self.budget = SPILL_BYTES if budget is None else budget
        self.parts: list[Path] = []
        self.peak_bytes = 0  # most bytes of entries held at once (tests pin it)
        self._held: list[pa.Table] = []
        self._held_bytes = 0
        self._scratch: Path | None = None

    def __enter__(self) -> EntrySpill:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def add(self, entries) -> None:
        """Entries of a chunk (what the cache's stage hands over, or a table)."""
        if entries is None or not len(entries):
            return
        table = self.convert(entries)
        if table.schema != self.schema:
            table = table.cast(self.schema)
        if self.known is not None:
            new = self.known(table.column(KEY).to_pylist()) < 0
            table = table if new.all() else table.filter(pa.array(new))
        if self._held and self._held_bytes + table.nbytes > self.budget:
            self._spill()
        self._held.append(table)
        self._held_bytes += table.nbytes
        self.peak_bytes = max(self.peak_bytes, self._held_bytes)

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.directory)  # a killed run's parts
            for stale in self.directory.glob(".*.tmp"):  # and a shard's temp (atomic_path)
                stale.unlink(missing_ok=True)
            self._scratch = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.directory.name}.", suffix=".tmp", dir=self.directory.parent
                )
            )
        return self._scratch

    def _spill(self) -> None:
        table = _unique_sorted(pa.concat_tables(self._held))
        self._held, self._held_bytes = [], 0
        path = self._scratch_dir() / f"part-{len(self.parts):06d}.parquet"
        # Small row groups: the merge reads every part a row group at a time.
        rows = max(16, PART_GROUP_BYTES * table.num_rows // max(1, table.nbytes))
        pq.write_table(table, path, row_group_size=rows, compression="lz4")
        self.parts.append(path)

    def finish(self) -> Path | None:
        """Write the entries as one shard (None: there were none); compact past
        ``max_shards``; remove the parts."""
        try:
            if self.parts:
                if self._held:
                    self._spill()
                sorted_entries = _merged(self.parts, self.schema)
            else:
                sorted_entries = iter(
                    [_unique_sorted(pa.concat_tables(self._held))] if self._held else []
                )
                self._held, self._held_bytes = [], 0
            path = _write_sorted(
                self.directory, sorted_entries, self.schema, self._scratch_dir, self.group_rows
            )
            if path is not None:
                path = _compact(
                    self.directory,
                    self.schema,
                    self.max_shards,
                    self._scratch_dir,
                    path,
                    self.group_rows,
                )
            return path
        finally:
            self.close()

    def close(self) -> None:
        """Drop what is held and the temp folder (idempotent)."""
        self._held, self._held_bytes = [], 0
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self.parts = []


def _unique_sorted(table: pa.Table) -> pa.Table:
    """Rows sorted by key (stable), the first of each key kept."""
    table = table.take(pc.sort_indices(table, sort_keys=[(KEY, "ascending")]))
    keys = _key_bytes(table.column(KEY))
    if len(keys) < 2:
        return table
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return table if first.all() else table.filter(pa.array(first))


def _merged(paths: list[Path], schema: pa.Schema) -> Iterator[pa.Table]:
    """Files sorted by key (one row per key each) merged: sorted tables, one row per key,
    a key's row from the earliest file that has it; one row group of each file read at a
    time (``read_row_group``: ``iter_batches`` reads ~16 MB ahead a file, whatever its
    batch size).

    Each step emits every row up to the smallest last key among the files' current
    row groups that have more to come: no row after it can sort before it.
    """
    files = [pq.ParquetFile(p) for p in paths]
    groups = [iter(range(f.metadata.num_row_groups)) for f in files]
    left = [f.metadata.num_rows for f in files]

    def read(i: int) -> pa.Table | None:
        for g in groups[i]:
            table = files[i].read_row_group(g)
            if table.num_rows:
                left[i] -= table.num_rows
                return table.cast(schema)
        return None

    heads = [read(i) for i in range(len(files))]
    while any(h is not None for h in heads):
        bounds = [
            h.column(KEY)[-1].as_py() for i, h in enumerate(heads) if h is not None and left[i]
        ]
        bound = min(bounds) if bounds else None
        taken = []
        for i, head in enumerate(heads):
            if head is None:
                continue
            n = head.num_rows
            if bound is not None:
                n = int(pc.sum(pc.less_equal(head.column(KEY), bound)).as_py() or 0)
            if n:
                taken.append(head.slice(0, n))
            heads[i] = head.slice(n) if n < head.num_rows else read(i)
        if taken:
            yield _unique_sorted(pa.concat_tables(taken))


def _write_sorted(
    directory: Path,
    tables: Iterable[pa.Table],
    schema: pa.Schema,
    scratch: Callable[[], Path],
    group_rows: int,
) -> Path | None:
    """Sorted unique entries as one shard named by its content (None: no entries).

    Row groups of exactly ``group_rows`` rows (the last shorter), each one
    contiguous array per column: the bytes follow the entries, not how they were cut.
    """
    tmp = scratch() / "shard.parquet"
    writer = None
    pending: list[pa.Table] = []
    pending_rows = 0

    def flush(rows: int) -> None:
        nonlocal writer, pending, pending_rows
        table = pa.concat_tables(pending)
        head, rest = table.slice(0, rows).combine_chunks(), table.slice(rows)
        pending, pending_rows = ([rest] if rest.num_rows else []), rest.num_rows
        if writer is None:
            writer = pq.ParquetWriter(tmp, schema, **PARQUET_OPTS)
        writer.write_table(head, row_group_size=group_rows)

    try:
        for table in tables:
            pending.append(table)
            pending_rows += table.num_rows
            while pending_rows >= group_rows:
                flush(group_rows)
        if pending_rows:
            flush(pending_rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        return None
    digest = hashlib.sha256()
    with open(tmp, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    path = directory / f"{digest.hexdigest()[:16]}.parquet"
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as final:
        os.replace(tmp, final)
    return path


def _compact(
    directory: Path,
    schema: pa.Schema,
    max_shards: int,
    scratch: Callable[[], Path],
    new: Path,
    group_rows: int,
) -> Path:
    """Past ``max_shards`` shards, merge them all into one (a key's row from the first
    shard in name order that has it, as loading picks it); else ``new``."""
    shards = sorted(directory.glob("*.parquet"))
    if len(shards) <= max_shards:
        return new
    path = _write_sorted(directory, _merged(shards, schema), schema, scratch, group_rows)
    for old in shards:
        if old != path:
            old.unlink()
    return path


# ---------------------------------------------------------------- annotating ops
def _op_schema(columns: tuple[str, ...]) -> pa.Schema:
    """``key`` plus an op's cached columns: ``lang`` a string, every other a float (NaN is
    a value, e.g. "no English", kept as NaN, not null)."""
    return pa.schema(
        [(KEY, pa.string()), *((c, pa.string() if c == "lang" else pa.float64()) for c in columns)]
    )


@dataclass
class OpCache(IndexedShardStore):
    """The cached results of one op under one params hash, indexed by content hash."""

    op: str
    params_hash: str
    directory: Path
    columns: tuple[str, ...]
    table: pa.Table  # ``_op_schema``; a key's row through ``index``
    index: KeyIndex
    max_shards: int = 16

    @classmethod
    def load(
        cls, root: Path, cache_dir: str, op: str, op_params: dict, max_shards: int = 16
    ) -> OpCache:
        columns = cached_columns(op)
        code = code_fingerprint([get_op(op).fn], ["ftdata.cache"])
        phash = params_hash({"op": op, "params": op_params, "code": code})
        directory = root / cache_dir / op / phash
        schema = _op_schema(columns)
        tables = [t.select(schema.names).cast(schema) for t in _read_shards(directory)]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        return cls(
            op, phash, directory, columns, table, KeyIndex.build(table.column(KEY)), max_shards
        )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def schema(self) -> pa.Schema:
        return _op_schema(self.columns)

    def _table(self, entries: pd.DataFrame) -> pa.Table:
        return _entries_table(entries, self.columns)


def _entries_table(frame: pd.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    arrays = [pa.array(frame[KEY].tolist(), type=pa.string())]
    for col in columns:
        values = frame[col].tolist()
        if col == "lang":
            arrays.append(
                pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
            )
        else:
            arrays.append(pa.array([float(v) for v in values], type=pa.float64()))
    return pa.Table.from_arrays(arrays, schema=_op_schema(columns))


def cached_call(
    fn, batch: pd.DataFrame, params: dict, cache: OpCache
) -> tuple[OpResult, pd.DataFrame]:
    """Run ``fn`` only on rows whose content is not cached; fill the others from the cache.

    Returns the op's result, identical to ``fn(batch, **params)``, and the new
    cache entries (key + columns) for the rows that were computed.
    """
    keys = record_keys(batch)
    rows = cache.lookup(keys)
    hit = rows >= 0
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
            cached_vals = cache.table.column(col).take(pa.array(rows[hit])).to_pylist()
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


# ---------------------------------------------------------------- whole op chains
# Stages whose whole op chain can be cached (``cache.stages``): row-local ops
# that derive everything from a record's content.
CHAIN_STAGES = ("clean",)
# Whole-dataset stages whose per-record keys are cached (``KeyCache``, at the end).
KEY_STAGES = ("dedup",)
# Besides the ops' modules: the runner (its lineage rule is replayed) and this module.
CHAIN_CODE = ("ftdata.runner", "ftdata.cache")
# Who a record is and where it came from: never derived from content, so not
# stored, re-attached from the input row. An op of a cached chain must not
# change them (checked); it may quote ``locator``, which is masked meanwhile.
IDENTITY = (
    "id",
    "source",
    "source_kind",
    "license",
    "locator",
    "conversation_id",
    "label",
    "annotations",
    "parents",
    "meta",
)
CONTENT = ("messages", "text")
LINEAGE = "ops"
# Columns a rejected row carries that a kept one does not (``registry.rejected_rows``).
REJECT_ONLY = ("reason", "detail", "duplicate_of")
_LOCATOR = "\ue000locator\ue000"  # private-use characters: never in real text, kept as is by JSON
_KEPT = -1
# One row per key: what the chain did to the record. ``rejected_by``: the
# position in the chain of the op that rejected it (-1: kept); ``lineage``:
# positions of the ops whose lineage entry it got; ``messages`` / ``text``:
# JSON of the new value, null when unchanged; ``fields``: JSON object of every
# other column the chain added or changed (``pii_types``, ``reason``,
# ``detail`` ...), in the order the ops added them.
CHAIN_SCHEMA = pa.schema(
    [
        (KEY, pa.string()),
        ("rejected_by", pa.int16()),
        ("lineage", pa.list_(pa.int16())),
        ("messages", pa.string()),
        ("text", pa.string()),
        ("fields", pa.string()),
    ]
)
ENTRY_COLUMNS = tuple(CHAIN_SCHEMA.names[1:])


def chain_cache_name(stage: str) -> str:
    """A chain cache's name among the runner's caches (the others are named by op)."""
    return f"stage:{stage}"


def check_chain_stages(
    stages: Iterable[str], cacheable: tuple[str, ...] = (*CHAIN_STAGES, *KEY_STAGES)
) -> None:
    for stage in stages:
        if stage not in cacheable:
            raise ConfigError(
                f"params.yaml: cache.stages: stage {stage!r} cannot be cached "
                f"(cacheable: {', '.join(cacheable)})"
            )


def chain_keys(batch: pd.DataFrame) -> list[str]:
    """Content hash per row, plus every carried column an op may read (an earlier ``pii_types``)."""
    keys = record_keys(batch)
    steering = [c for c in batch.columns if c not in (*IDENTITY, *CONTENT, LINEAGE)]
    if not steering:
        return keys
    names = canonical_json(steering)
    values = zip(*(batch[c].tolist() for c in steering), strict=True)
    return [
        sha256_hex(f"{key}\x1f{names}\x1f{canonical_json(to_jsonable(list(row)))}")[:16]
        for key, row in zip(keys, values, strict=True)
    ]


@dataclass
class ChainCache(IndexedShardStore):
    """What a stage's op chain (under one params + code hash) did to each record seen."""

    stage: str
    params_hash: str
    directory: Path
    table: pa.Table  # CHAIN_SCHEMA; a key's row through ``index``
    index: KeyIndex
    max_shards: int = 16
    schema = CHAIN_SCHEMA
    small_entries = False  # rewritten text: ~1 KB an entry

    @classmethod
    def load(
        cls, root: Path, cache_dir: str, stage: str, calls: list, max_shards: int = 16
    ) -> ChainCache:
        """``calls``: the stage's ``runner.OpCall`` list, in order."""
        check_chain_stages([stage], CHAIN_STAGES)
        code = code_fingerprint([get_op(c.name).fn for c in calls], CHAIN_CODE)
        ops = [{"op": c.name, "params": c.params} for c in calls]
        phash = params_hash({"stage": stage, "ops": ops, "code": code})
        directory = root / cache_dir / stage / phash
        tables = [t.cast(CHAIN_SCHEMA) for t in _read_shards(directory)]
        table = pa.concat_tables(tables) if tables else CHAIN_SCHEMA.empty_table()
        return cls(stage, phash, directory, table, KeyIndex.build(table.column(KEY)), max_shards)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def nbytes(self) -> int:
        """Memory of the loaded entries (arrow buffers; the key index comes on top)."""
        return self.table.nbytes

    @functools.cached_property
    def _batches(self) -> tuple[list[pa.RecordBatch], np.ndarray]:
        batches = [b for b in self.table.to_batches() if b.num_rows]
        return batches, np.cumsum([0, *(b.num_rows for b in batches)])

    def entries(self, rows: np.ndarray) -> list[tuple]:
        """The entries of ``rows``, taken batch by batch: a take over the chunked table
        (a shard's row groups, several shards) concatenates every chunk first, a copy of
        the whole cache per chunk of records (+60 MB and 20 ms at 100k entries)."""
        batches, starts = self._batches
        rows = np.asarray(rows, dtype=np.int64)
        out: list[tuple | None] = [None] * len(rows)
        which = np.searchsorted(starts, rows, side="right") - 1
        order = np.argsort(which, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(which[order])) + 1)
        for group in groups:
            if not len(group):
                continue
            b = int(which[group[0]])
            taken = batches[b].take(pa.array(rows[group] - starts[b]))
            columns = (taken.column(c).to_pylist() for c in ENTRY_COLUMNS)
            for pos, entry in zip(group.tolist(), zip(*columns, strict=True), strict=True):
                out[pos] = entry
        return out

    def _table(self, entries: pd.DataFrame) -> pa.Table:
        """A chunk's new entries (``cached_chain``'s frame) as a ``CHAIN_SCHEMA`` table."""
        return pa.Table.from_arrays(
            [
                pa.array(
                    [None if _missing(v) else v for v in entries[c].tolist()],
                    type=CHAIN_SCHEMA.field(c).type,
                )
                for c in CHAIN_SCHEMA.names
            ],
            schema=CHAIN_SCHEMA,
        )


# ``runner.run_ops(batch, calls, stage)``: (kept rows, rejected parts)
RunOps = Callable[[pd.DataFrame, list, str], tuple[pd.DataFrame, list[pd.DataFrame]]]


def cached_chain(
    batch: pd.DataFrame,
    calls: list,
    stage: str,
    cache: ChainCache,
    run_ops: RunOps,
    new_entries: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """``run_ops`` of the whole chain, computing only records whose content is not cached.

    Returns what ``run_ops`` would (kept rows, rejected parts in op order)
    and appends the entries of the records it computed to ``new_entries``.
    Computed records are replayed from their fresh entries like cached ones.
    """
    batch = batch.reset_index(drop=True)
    if not len(batch):
        return batch, []
    keys = chain_keys(batch)
    rows = cache.lookup(keys)
    entries: list[tuple | None] = [None] * len(batch)
    hit = np.flatnonzero(rows >= 0)
    for pos, entry in zip(hit, cache.entries(rows[hit]), strict=True):
        entries[pos] = entry
    first_miss: dict[str, int] = {}
    for pos in np.flatnonzero(rows < 0):
        first_miss.setdefault(keys[pos], int(pos))
    if first_miss:
        computed = _compute(batch.iloc[list(first_miss.values())], calls, stage, run_ops)
        fresh = dict(zip(first_miss, computed, strict=True))
        for pos in np.flatnonzero(rows < 0):
            entries[pos] = fresh[keys[pos]]
        if new_entries is not None:
            new_entries.append(
                pd.DataFrame(
                    [(k, *e) for k, e in fresh.items()], columns=[KEY, *ENTRY_COLUMNS], dtype=object
                )
            )
    return _replay(batch, entries, calls, stage)


def _compute(rows: pd.DataFrame, calls: list, stage: str, run_ops: RunOps) -> list[tuple]:
    """Entries of ``rows``: the chain run on them with identity masked, diffed against its input."""
    masked = rows.reset_index(drop=True).copy()
    masked["id"] = [str(i) for i in range(len(masked))]  # unique, and says nothing
    if "locator" in masked.columns:
        masked["locator"] = _LOCATOR
    before = masked.to_dict("records")
    kept, rejected = run_ops(masked, calls, stage)
    parts = []
    if rejected:
        # Which op rejected a row: run the rejected rows again one op at a time (they
        # are few; ops are row-local, so each meets the same fate alone).
        ids = pd.concat([part["id"] for part in rejected])
        again = masked[masked["id"].isin(ids)].reset_index(drop=True)
        for position, call in enumerate(calls):
            if not len(again):
                break
            again, by_op = run_ops(again, [call], stage)
            parts += [(position, part) for part in by_op]
        if len(again):
            raise AssertionError(f"stage {stage!r}: ops are not row-local; cannot be cached")
    lineage = [_lineage_entry(c, stage) for c in calls]
    entries: list[tuple | None] = [None] * len(masked)
    for rejected_by, frame in [(_KEPT, kept), *parts]:
        for after in frame.to_dict("records"):
            i = int(after["id"])
            entries[i] = _entry(before[i], after, rejected_by, lineage, stage)
    if any(e is None for e in entries):
        raise AssertionError(f"stage {stage!r}: the op chain lost rows")
    return entries


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _same(a, b) -> bool:
    if a is b:
        return True
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if type(a) is type(b) and isinstance(a, str | int | bool | list | dict):
        return a == b  # plain values (the usual case): no conversion needed
    return to_jsonable(a) == to_jsonable(b)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value):
    """What ``json`` cannot write itself (numpy values, pd.NA) as ``to_jsonable`` does."""
    plain = to_jsonable(value)
    if plain is value:
        raise TypeError(f"cannot cache a value of type {type(value).__name__}")
    return plain


def _entry(before: dict, after: dict, rejected_by: int, lineage: list[dict], stage: str) -> tuple:
    messages = text = None
    appended: list[int] = []
    fields = {}
    for col, value in after.items():
        if col == "messages":
            if not _same(value, before["messages"]):
                messages = _dumps(value)
        elif col == "text":
            if not _same(value, before.get("text")):
                text = _dumps(None if _missing(value) else value)
        elif col == LINEAGE:
            appended = _appended(before.get(LINEAGE), value, lineage, stage)
        elif col in IDENTITY:
            if not _same(value, before.get(col)):
                raise AssertionError(
                    f"stage {stage!r}: an op changed {col!r}; its op chain cannot be cached"
                )
        elif col not in before or not _same(value, before[col]):
            fields[col] = value
    dropped = [c for c in before if c not in after]
    if dropped:
        raise AssertionError(f"stage {stage!r}: an op dropped {dropped}; cannot be cached")
    return rejected_by, appended, messages, text, _dumps(fields)


def _appended(before, after, lineage: list[dict], stage: str) -> list[int]:
    """Chain positions of the lineage entries ``after`` has beyond ``before``."""
    before, after = list(before or []), list(after or [])
    if after[: len(before)] != before:
        raise AssertionError(f"stage {stage!r}: an op rewrote earlier lineage")
    positions, j = [], 0
    for entry in after[len(before) :]:
        while j < len(lineage) and entry != lineage[j]:
            j += 1
        if j == len(lineage):
            raise AssertionError(f"stage {stage!r}: lineage entry {entry} names no op of the chain")
        positions.append(j)
        j += 1
    return positions


def _lineage_entry(call, stage: str) -> dict:
    return {"stage": stage, "op": call.name, "params_hash": call.params_hash}


def _replay(
    batch: pd.DataFrame, entries: list[tuple], calls: list, stage: str
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rejected_by = np.fromiter((e[0] for e in entries), dtype=np.int64, count=len(entries))
    locators = batch["locator"].tolist() if "locator" in batch.columns else [None] * len(batch)
    lineage = [_lineage_entry(c, stage) for c in calls]

    def load(text: str | None, pos: int):
        if text is not None and _LOCATOR in text:
            quoted = json.dumps(str(locators[pos]), ensure_ascii=False)[1:-1]
            text = text.replace(_LOCATOR, quoted)
        return json.loads(text) if text is not None else None

    def frame(positions: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
        out = batch.iloc[positions].reset_index(drop=True)
        picked = [entries[p] for p in positions]
        messages = [
            load(e[2], p) if e[2] is not None else m
            for e, p, m in zip(picked, positions, out["messages"], strict=True)
        ]
        out["messages"] = pd.Series(messages, index=out.index, dtype=object)
        if "text" in out.columns and any(e[3] is not None for e in picked):
            texts = [
                load(e[3], p) if e[3] is not None else t
                for e, p, t in zip(picked, positions, out["text"], strict=True)
            ]
            out["text"] = pd.Series(texts, index=out.index, dtype=object)
        out[LINEAGE] = pd.Series(
            [
                list(ops or []) + [dict(lineage[j]) for j in e[1]]
                for e, ops in zip(picked, out[LINEAGE], strict=True)
            ],
            index=out.index,
            dtype=object,
        )
        fields = [load(e[4], p) for e, p in zip(picked, positions, strict=True)]
        added: dict[str, None] = {}
        for f in fields:
            added.update(dict.fromkeys(f))
        for col in added:
            old = out[col].tolist() if col in out.columns else [None] * len(out)
            values = [f[col] if col in f else o for f, o in zip(fields, old, strict=True)]
            out[col] = pd.Series(values, index=out.index, dtype=object)
        return out, list(added)

    parts = []
    for j in sorted(set(rejected_by[rejected_by != _KEPT].tolist())):
        parts.append(frame(np.flatnonzero(rejected_by == j))[0])
    kept_rows = np.flatnonzero(rejected_by == _KEPT)
    if len(kept_rows):
        return frame(kept_rows)[0], parts
    # Every row rejected: the chain stopped after the last op that rejected one,
    # so the (empty) kept frame has the columns that op's rejects have, bar reject-only ones.
    last = np.flatnonzero(rejected_by == rejected_by.max())[:1]
    template, added = frame(last)
    columns = [c for c in template.columns if c not in REJECT_ONLY or c not in added]
    return template.iloc[:0][columns], parts


# ---------------------------------------------------------------- per-record keys of a whole-dataset stage
def key_schema(widths: dict[str, int]) -> pa.Schema:
    """``key`` plus one nullable fixed-width binary column per value."""
    return pa.schema(
        [(KEY, pa.string()), *((col, pa.binary(width)) for col, width in widths.items())]
    )


@dataclass
class KeyCache(IndexedShardStore):
    """Fixed-width binary values per record content (dedup's exact and band keys), under one
    params + code hash. A value may be missing (null) for a record that has none."""

    stage: str
    params_hash: str
    directory: Path
    widths: dict[str, int]  # column -> bytes per value
    index: KeyIndex
    values: dict[str, np.ndarray]  # column -> (rows, width) uint8
    valid: dict[str, np.ndarray]  # column -> (rows,) bool
    max_shards: int = 16

    @classmethod
    def load(
        cls,
        root: Path,
        cache_dir: str,
        stage: str,
        params: dict,
        fns: Iterable[Callable],
        widths: dict[str, int | Callable[[], int]],
        max_shards: int = 16,
    ) -> KeyCache:
        """``params``: everything besides code the values depend on (widths included);
        ``fns``: the code. A width may be a function, called only when no stored shard
        tells it (it may be costly: dedup's band layout imports datasketch)."""
        check_chain_stages([stage], KEY_STAGES)
        code = code_fingerprint(fns, ["ftdata.cache"])
        phash = params_hash({"stage": stage, "params": params, "code": code})
        directory = root / cache_dir / stage / phash
        shards = _read_shards(directory)
        stored = shards[0].schema if shards else None
        widths = {
            col: w
            if isinstance(w, int)
            else stored.field(col).type.byte_width
            if stored is not None and col in stored.names
            else w()
            for col, w in widths.items()
        }
        schema = key_schema(widths)
        tables = [t.cast(schema) for t in shards]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        index = KeyIndex.build(table.column(KEY))
        values, valid = {}, {}
        for col, width in widths.items():
            values[col], valid[col] = _fixed_binary(table.column(col), width)
        return cls(stage, phash, directory, widths, index, values, valid, max_shards)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def schema(self) -> pa.Schema:
        return key_schema(self.widths)

    def take(self, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values (k, width) uint8, valid (k,) bool) of cached ``rows``."""
        return self.values[column][rows], self.valid[column][rows]

    def entries(
        self, keys: list[str], columns: dict[str, tuple[np.ndarray, np.ndarray]]
    ) -> pa.Table:
        """New entries: ``columns`` maps each column to (values (k, width) uint8, valid (k,))."""
        arrays = [pa.array(keys, type=pa.string())]
        for col, width in self.widths.items():
            data, ok = columns[col]
            data = np.ascontiguousarray(data, dtype=np.uint8).reshape(len(keys), width)
            arrays.append(
                pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(width),
                    len(keys),
                    [None if ok.all() else pa.array(ok).buffers()[1], pa.py_buffer(data)],
                    null_count=int(len(keys) - ok.sum()),
                )
                if len(keys)
                else pa.array([], type=pa.binary(width))
            )
        return pa.Table.from_arrays(arrays, schema=key_schema(self.widths))


def _fixed_binary(column: pa.ChunkedArray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed-width binary column as (rows, width) uint8 (zeros where null) and validity."""
    n = len(column)
    out = np.zeros((n, width), dtype=np.uint8)
    valid = np.ones(n, dtype=bool)
    start = 0
    for chunk in column.chunks:
        k = len(chunk)
        if k:
            chunk_valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            buf = chunk.buffers()[1]
            data = np.frombuffer(buf, dtype=np.uint8)[
                chunk.offset * width : (chunk.offset + k) * width
            ]
            out[start : start + k] = data.reshape(k, width)
            out[start : start + k][~chunk_valid] = 0
            valid[start : start + k] = chunk_valid
        start += k
    return out, valid
