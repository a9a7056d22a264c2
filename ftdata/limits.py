"""Size limits that keep one pathological raw record from costing a whole build.

A single 10 MB chat record parses fine, but dedup's MinHash over its ~10 million
character n-grams took ~4 GB of memory and 25 s here (bench: see docs/bad-input.md),
only for quality to drop it as too long afterwards. Ingest therefore rejects
records above ``ingest.max_record_chars`` (reason ``record_too_large``), whole,
with a detail naming the file and line.
"""

from __future__ import annotations

from ftdata.reasons import Reason
from ftdata.record import content_of


def content_chars(record: dict) -> int:
    return len(content_of(record.get("messages"), record.get("text")))


def split_oversize(records: list[dict], max_chars: int) -> tuple[list[dict], list[dict]]:
    """(records within the limit, rejects for the rest) in input order."""
    kept, rejects = [], []
    for record in records:
        n = content_chars(record)
        if n <= max_chars:
            kept.append(record)
            continue
        detail = (
            f"{record.get('locator')}: record has {n:,} characters of content, more than "
            f"ingest.max_record_chars ({max_chars:,}); split it upstream or raise the limit"
        )
        rejects.append({**record, "reason": Reason.RECORD_TOO_LARGE, "detail": detail})
    return kept, rejects
