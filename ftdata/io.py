"""Reading and writing records, rejects, metrics and exports, always atomically.

A write goes to a hidden temp file beside the target and is renamed into place,
so a killed stage never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.record import CANONICAL_COLUMNS, NESTED_COLUMNS, field_type

REJECT_COLUMNS = ["stage", "reason", "detail", "id", "source", "locator", "duplicate_of", "record"]
PARQUET_OPTS = {"compression": "zstd", "write_statistics": False}
_UMASK = os.umask(0)
os.umask(_UMASK)


# ---------------------------------------------------------------- atomic files
# A rename is atomic but not durable: after a power cut the directory entry may
# point at a file whose blocks never reached the disk (a zero-length parquet
# file). So the temp file is fsynced before the rename and the directory after.
def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform that cannot open directories (Windows) cannot fsync them either
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename stays atomic
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Every file, then every directory bottom-up, so the tree is on disk before it is named."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            _fsync_file(Path(folder, name))
        _fsync_dir(Path(folder))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success fsync it, rename it over ``path``
    and fsync the directory, so the target is the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; outputs get the usual permissions (0666 less the umask).
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


@functools.cache
def _renameat2():
    """glibc's ``renameat2`` (Linux >= 3.15, glibc >= 2.28), or None where it does not exist."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one atomic step; False if the platform or the
    filesystem cannot (the caller then moves the old folder aside and back)."""
    import ctypes

    func = _renameat2()
    if func is None:
        return False
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _aside(path: Path) -> Path:
    """Where the old folder waits while the new one is renamed in (fallback swap only)."""
    return path.parent / f".{path.name}.old.tmp"


def _recover_dir(path: Path) -> None:
    """Undo a swap that a crash cut short: a missing folder whose old copy waits aside
    is put back (the new one was never complete at the target, so the old one wins)."""
    aside = _aside(path)
    if aside.is_dir() and not path.exists():
        os.rename(aside, path)
        _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory in a temp sibling and swap it into place on success.

    Crash-safe at every step (``tests/unit/test_atomic_dir_crash.py`` kills a real
    process at each one): the new tree is fsynced before it is named; the swap is
    one ``renameat2(RENAME_EXCHANGE)``, so the target path always holds the old
    or the complete new folder; then the directory is fsynced and the old folder
    (now at the temp name) deleted. Where the exchange is not available the old
    folder is renamed to ``.<name>.old.tmp`` first and the new one renamed in: a
    crash between the two renames leaves no folder at the target, and the next
    ``atomic_dir`` or ``remove_stale_temps`` on it renames the old one back.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover_dir(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)
        _fsync_tree(tmp)
        if path.exists() and _exchange(tmp, path):
            old = tmp  # the exchange left the old folder at the temp name
        elif path.exists():
            old = _aside(path)
            if old.exists():
                shutil.rmtree(old)
            os.rename(path, old)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(old, path)  # an error, not a crash: put the old folder back now
                raise
        else:
            old = None
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(path.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale_temps(*targets: str | Path) -> None:
    """Delete temp files and folders a killed earlier run left beside ``targets``
    (after putting back an old folder a cut-short ``atomic_dir`` swap left aside)."""
    for target in targets:
        target = Path(target)
        if target.parent.is_dir():
            _recover_dir(target)
            for stale in target.parent.glob(f".{target.name}.*.tmp"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def to_jsonable(value: Any) -> Any:
    """Turn numpy / pandas values into plain JSON values (for hashing and export)."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def write_json(path: str | Path, data: Any) -> None:
    """Metrics and plot data. ASCII-escaped: DVC refuses a metrics file as "binary"
    when Chinese label keys make most of its first 512 bytes non-ASCII."""
    text = json.dumps(to_jsonable(data), ensure_ascii=True, indent=2, sort_keys=True) + "\n"
    write_text(path, text)


def write_jsonl(path: str | Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(to_jsonable(row), ensure_ascii=False, sort_keys=False) + "\n")


# ---------------------------------------------------------------- records
def _column_array(name: str, values: list) -> pa.Array:
    typ = field_type(name)
    values = [to_jsonable(v) for v in values]
    if typ is not None:
        return pa.array(values, type=typ)
    return pa.array(values)


def ordered_columns(names: Iterable[str]) -> list[str]:
    """The column order of every record file: canonical columns, then the rest sorted."""
    names = list(names)
    extras = sorted(c for c in names if c not in CANONICAL_COLUMNS)
    return [c for c in CANONICAL_COLUMNS if c in names] + extras


def records_to_table(df: pd.DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    if schema is not None:
        missing = [n for n in schema.names if n not in df.columns]
        for name in missing:
            df = df.assign(**{name: [None] * len(df)})
        cols = schema.names
        arrays = [
            pa.array([to_jsonable(v) for v in df[c].tolist()], type=schema.field(c).type)
            for c in cols
        ]
        return pa.Table.from_arrays(arrays, schema=schema)
    cols = ordered_columns(df.columns)
    arrays = [_column_array(c, df[c].tolist()) for c in cols]
    return pa.Table.from_arrays(arrays, names=cols)


def conform_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``: the same result as ``records_to_table(df, schema)`` on
    its rows (missing columns null, extra ones dropped), by cast where arrow can."""
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=field.type))
            continue
        column = table.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                column = pa.array(column.to_pylist(), type=field.type)
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def table_to_records(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with nested columns as plain Python lists of dicts."""
    data = {}
    for name in table.column_names:
        col = table.column(name)
        if name in NESTED_COLUMNS or pa.types.is_list(col.type) or pa.types.is_struct(col.type):
            data[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            data[name] = pd.Series(col.to_pylist(), dtype=object)
    return pd.DataFrame(data, columns=table.column_names)


def empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in CANONICAL_COLUMNS})


def read_records(path: str | Path) -> pd.DataFrame:
    return table_to_records(pq.read_table(path))


def iter_tables(
    path: str | Path, chunk_size: int, columns: list[str] | tuple[str, ...] | None = None
) -> Iterator[pa.Table]:
    """Arrow chunks of ``path`` in order, of ``columns`` (those it has) or all of them."""
    pf = pq.ParquetFile(path)
    if columns is not None:
        columns = [c for c in columns if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=chunk_size, columns=columns):
        yield pa.Table.from_batches([batch])


def count_rows(path: str | Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def write_records(path: str | Path, df: pd.DataFrame) -> None:
    table = records_to_table(df if len(df.columns) else empty_records())
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTS)


def read_columns(source: str | Path | pa.NativeFile, columns: list[str]) -> pa.Table:
    """Only ``columns`` of a parquet file (those it has): the small global pass of a stage,
    or one column of a revision's file."""
    present = [c for c in columns if c in pq.ParquetFile(source).schema_arrow.names]
    return pq.read_table(source, columns=present)


class RecordWriter:
    """Chunked, atomic parquet writer: the schema comes from the first batch."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._ctx = atomic_path(self.path)
        self._tmp: Path | None = None
        self._writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.rows = 0

    def __enter__(self) -> RecordWriter:
        self._tmp = self._ctx.__enter__()
        return self

    def write(self, records: pd.DataFrame | pa.Table) -> None:
        """Append records: a frame, or a table already built by ``records_to_table``
        (an executor's worker does that conversion, so this process only writes)."""
        if isinstance(records, pa.Table):
            table = records if self._writer is None else conform_table(records, self.schema)
        elif self._writer is None:
            table = records_to_table(records if len(records.columns) else empty_records())
        else:
            table = records_to_table(records, self.schema)
        if self._writer is None:
            self.schema = table.schema
            self._writer = pq.ParquetWriter(self._tmp, self.schema, **PARQUET_OPTS)
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._writer is None:
            self.write(empty_records())
        if self._writer is not None:
            self._writer.close()
        self._ctx.__exit__(exc_type, exc, tb)


# ---------------------------------------------------------------- rejects
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    r"""``text`` with each lone surrogate written as its JSON escape ``\udXXX``: JSON can
    escape one (``"\ud800"``), UTF-8 cannot encode it, so parquet cannot store it."""
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def read_rejects(path: str | Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()
