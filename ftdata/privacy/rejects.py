"""Reject rows, private by construction: the one place every stage's rejects are built.

A reject keeps the whole record (or the raw line ingest could not parse) so a person
can see why it went; that copy and its detail go through PII redaction here, so no
stage can write a reject that skips it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.io import PARQUET_OPTS, REJECT_COLUMNS, atomic_path, escape_surrogates, to_jsonable
from ftdata.privacy.fields import scrub_reject
from ftdata.record import canonical_json


def _storable(value: Any) -> Any:
    """A reject's text as UTF-8 can hold it: a lone surrogate, the very reason some
    records are rejected, is written as its escape."""
    return escape_surrogates(value) if isinstance(value, str) else value


def rejects_frame(stage: str, rejected: pd.DataFrame, keep_raw: bool = False) -> pd.DataFrame:
    """Rejected records, whole, as one JSON column plus the fields people filter on.

    Every reject of every stage is built here, so this is where rejects are made
    private: the record (or the raw line an ingest reject keeps) and its detail
    go through PII redaction; ``locator`` stays so the raw line can be found.
    ``keep_raw`` (``ingest.keep_raw_rejects``) keeps the raw line as read.
    """
    if rejected is None or not len(rejected):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in REJECT_COLUMNS})
    rows = []
    record_cols = [
        c for c in rejected.columns if c not in ("reason", "detail", "duplicate_of", "raw")
    ]
    for rec in rejected.to_dict("records"):
        body = rec.get("raw")
        detail = rec.get("detail") or ""
        if body is None or (isinstance(body, float) and np.isnan(body)):
            record = to_jsonable({c: rec.get(c) for c in record_cols})
            record, _, detail = scrub_reject(record, None, detail, keep_raw)
            body = canonical_json(record)
        else:
            _, body, detail = scrub_reject(None, str(body), detail, keep_raw)
        rows.append(
            {
                "stage": stage,
                "reason": str(rec["reason"]),
                "detail": _storable(detail),
                "id": rec.get("id"),
                "source": rec.get("source"),
                "locator": _storable(rec.get("locator")),
                "duplicate_of": rec.get("duplicate_of"),
                "record": _storable(body),
            }
        )
    return pd.DataFrame(rows, columns=REJECT_COLUMNS)


def write_rejects(path: str | Path, frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    df = pd.concat(frames, ignore_index=True) if frames else rejects_frame("", None)
    schema = pa.schema([(c, pa.string()) for c in REJECT_COLUMNS])
    arrays = [
        pa.array([_storable(to_jsonable(v)) for v in df[c].tolist()], type=pa.string())
        for c in REJECT_COLUMNS
    ]
    table = pa.Table.from_arrays(arrays, schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTS)
    return df
