"""What readers yield (a parsed raw row, or a raw reject) and what ``read_source`` returns."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ftdata.io import escape_surrogates
from ftdata.reasons import Reason
from ftdata.record import record_id


@dataclass
class RawRow:
    """One raw record a reader parsed, not yet mapped to the canonical shape.

    ``where`` is the detail prefix a person can open in an editor
    (``data/raw/qa.csv:12``); ``locator`` is what lineage keeps; ``raw`` is the
    text the record id is derived from.
    """

    locator: str
    where: str
    raw: str
    value: Any
    meta: dict = field(default_factory=dict)


@dataclass
class RawReject:
    """A raw record a reader could not parse (bad JSON, ragged row, bad bytes)."""

    locator: str
    where: str
    raw: str
    reason: Reason
    message: str


def make_reject(source: str, item: RawRow | RawReject, reason: Reason, message: str) -> dict:
    """The reject row ``read_source`` returns: the detail starts with ``item.where``.

    A lone surrogate (JSON ``"\\ud800"``) is kept as its escape, so the id can be
    hashed and the reject stored as UTF-8.
    """
    raw = escape_surrogates(item.raw)
    return {
        "id": record_id(source, item.locator, raw),
        "source": source,
        "locator": item.locator,
        "reason": Reason(reason),
        "detail": escape_surrogates(f"{item.where}: {message}"),
        "raw": raw,
    }


@dataclass
class IngestResult:
    """Records and rejects of one source; ``n_read == n_records + len(rejects)``.

    ``records`` holds them only when ``read_source`` collected them; the ingest stage
    streams them (``stream_source``) and ``records`` stays empty, ``n_records`` counts.

    ``files`` has one entry per file read: ``path`` (relative to the project
    root), ``encoding`` (None for binary formats), ``n_read``, ``blank_lines``
    (blank text lines hold no record and are not counted in ``n_read``); a file
    refused unread is in ``notes`` only.
    """

    records: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    n_read: int = 0
    n_records: int = 0  # raw records mapped to a record (yielded or in ``records``)
    files: list[dict] = field(default_factory=list)
    # Files that gave no record (ftdata.ingest.files.FileNote), in file order.
    notes: list = field(default_factory=list)
    # raw label -> records whose label label_map does not map (kept or rejected)
    unmapped_labels: Counter = field(default_factory=Counter)
    nonfinite_to_null: int = 0  # JSON NaN / Infinity / -Infinity read as null
    controls_removed: int = 0  # control / format characters removed from ids, meta, labels

    @property
    def conserved(self) -> bool:
        return self.n_read == self.n_records + len(self.rejects)


def plain(value: Any) -> Any:
    """A JSON-ready copy of a raw value (parquet and xlsx hold dates, bytes, decimals).

    Used for ``raw`` and ``meta``, whose canonical JSON must be stable.
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
