"""Streaming for the whole-file stages (ingest, annotate, dedup, split, export): chunks in,
one parquet out.

These stages used to read the whole record frame (~10 KB of Python objects per
record) and write it with ``io.write_records``. They now read chunks and write
through ``RowGroupWriter``, which holds at most one row group of Arrow data
(~1 KB per record) instead of the frame.

Why not ``io.RecordWriter``: it writes one row group per chunk, so the file's
bytes follow ``executor.chunk_size``. These stages do not depend on the
``executor`` params in dvc.yaml and their outputs are pinned by hash, so their
row groups have a fixed number of rows: a file of up to ``ROW_GROUP_ROWS``
records is the same bytes ``write_records`` gives for the whole frame, and a
bigger one is the same bytes whatever the chunk size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.io import (
    PARQUET_OPTS,
    atomic_path,
    conform_table,
    empty_records,
    iter_tables,
    ordered_columns,
    records_to_table,
    table_to_records,
)
from ftdata.record import field_type

# ~130 MB of Arrow at ~1 KB per record; and a 100k-record build keeps one row group.
ROW_GROUP_ROWS = 131_072


def iter_chunks(
    path: str | Path, chunk_size: int, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Record frames of ``path`` in order (only those of ``columns`` it has); one empty frame
    with its columns when it has no rows, so a stage still writes a typed empty output."""
    seen = False
    for table in iter_tables(path, chunk_size, columns):
        seen = True
        yield table_to_records(table)
    if not seen:
        schema = pq.ParquetFile(path).schema_arrow
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns if c in schema.names])
        yield table_to_records(schema.empty_table())


class RowGroupWriter:
    """Atomic parquet writer with row groups of exactly ``row_group_rows`` rows (the last
    one shorter); the schema is unified over the first row group's chunks, as
    ``records_to_table`` would have inferred it from the whole frame.

    ``late_columns`` (typed by ``ftdata.record.field_type``) are columns only some
    records carry, so a chunk after the first row group may be the first to bring one
    (ingest's ``pii_redacted`` / ``pii_types``): a file of more than one row group has
    them from its first row on, null where absent; a file of one row group has them
    only if one of its records does, as ``write_records`` would. Any other column the
    first row group lacks cannot be written later and is an error, not a silent drop.
    """

    def __init__(
        self,
        path: str | Path,
        row_group_rows: int = ROW_GROUP_ROWS,
        late_columns: tuple[str, ...] = (),
    ):
        self.path = Path(path)
        self.row_group_rows = row_group_rows
        self.late_columns = pa.schema([pa.field(n, _typed(n)) for n in late_columns])
        self.rows = 0
        self.schema: pa.Schema | None = None  # fixed by the first row group
        self._ctx = atomic_path(self.path)
        self._tmp: Path | None = None
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def __enter__(self) -> RowGroupWriter:
        self._tmp = self._ctx.__enter__()
        return self

    def write(self, records: pd.DataFrame | pa.Table) -> None:
        if isinstance(records, pd.DataFrame):
            records = records_to_table(records if len(records.columns) else empty_records())
        if self.schema is not None and records.schema != self.schema:
            records = self._conformed(records)
        self._pending.append(records)
        self._pending_rows += records.num_rows
        self.rows += records.num_rows
        # ">": a row group is cut once rows beyond it are known, so the first cut knows
        # the file has more than one (see late_columns)
        while self._pending_rows > self.row_group_rows:
            self._flush(self.row_group_rows, more=True)

    def _conformed(self, records: pa.Table) -> pa.Table:
        """A chunk after the schema was fixed, in it: missing columns null, types cast."""
        new = [n for n in records.schema.names if n not in self.schema.names]
        if new:
            raise ValueError(
                f"{self.path}: column(s) {', '.join(new)} first appear after the first row "
                "group fixed the file's schema (declare them as late_columns)"
            )
        return conform_table(records, self.schema)

    def _combined(self, more: bool) -> pa.Table:
        """The pending chunks as one table; before the first row group, in the schema
        unified over them (plus ``late_columns`` when more row groups follow)."""
        schemas = [t.schema for t in self._pending]
        target = schemas[0]
        if any(s != target for s in schemas):  # e.g. a column all-null or absent in one chunk
            target = pa.unify_schemas(schemas, promote_options="permissive")
        if self._writer is None and more:
            missing = [f for f in self.late_columns if f.name not in target.names]
            target = pa.unify_schemas([target, pa.schema(missing)]) if missing else target
        if any(set(s.names) != set(target.names) for s in schemas):
            target = pa.schema([target.field(n) for n in ordered_columns(target.names)])
        if any(s != target for s in schemas):
            self._pending = [conform_table(t, target) for t in self._pending]
        return pa.concat_tables(self._pending)

    def _flush(self, rows: int, more: bool = False) -> None:
        table = self._combined(more)
        rest = table.slice(rows)
        # One contiguous array per column: page boundaries follow chunk boundaries otherwise.
        head = table.slice(0, rows).combine_chunks()
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        del table  # the chunks' buffers go as soon as ``head`` holds their rows
        if self._writer is None:
            self.schema = head.schema
            self._writer = pq.ParquetWriter(self._tmp, self.schema, **PARQUET_OPTS)
        self._writer.write_table(head)  # head <= the default row group size: one group

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                if not self._pending and self._writer is None:
                    self.write(empty_records())
                if self._pending and (self._pending_rows or self._writer is None):
                    self._flush(self._pending_rows)  # the last row group (or the only one)
                self._writer.close()
            except BaseException as error:
                self._ctx.__exit__(type(error), error, error.__traceback__)
                raise
        elif self._writer is not None:
            self._writer.close()
        self._ctx.__exit__(exc_type, exc, tb)


def _typed(name: str) -> pa.DataType:
    typ = field_type(name)
    if typ is None:
        raise ValueError(f"late column {name!r} has no declared type (ftdata/record.py)")
    return typ
