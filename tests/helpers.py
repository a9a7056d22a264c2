"""Tiny record builders for unit tests."""

from __future__ import annotations

import pandas as pd

from ftdata.record import new_record


def chat(
    *turns: tuple[str, str], source: str = "unit", line: int = 1, label: str | None = None, **extra
) -> dict:
    messages = [{"role": r, "content": c} for r, c in turns]
    rec = new_record(
        source=source,
        source_kind="logs",
        license="internal",
        locator=f"data/raw/{source}.jsonl:{line}",
        raw=repr(messages),
        messages=messages,
        label=label,
    )
    rec.update(extra)
    return rec


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records))


def stage_run(folder):
    """A dedup StageRun writing into ``folder``: o.parquet, r.parquet (rejects), m.json."""
    from ftdata.stage_run import StageRun

    return StageRun(
        "dedup", folder / "o.parquet", rejects=folder / "r.parquet", metrics=folder / "m.json"
    )
