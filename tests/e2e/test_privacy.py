"""No raw PII string from the example data survives anywhere under data/processed/."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.e2e

PII_VALUES = Path(__file__).resolve().parents[1] / "data" / "raw_pii_values.txt"


def _texts_under(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix == ".parquet":
            yield path, json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
        elif path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_no_planted_pii_value_reaches_processed_outputs(built_project):
    values = [v for v in PII_VALUES.read_text(encoding="utf-8").splitlines() if v.strip()]
    assert len(values) >= 50
    raw = "\n".join(t for _, t in _texts_under(built_project / "data/raw"))
    assert sum(v in raw for v in values) == len(values), (
        "the planted values must be in the raw data"
    )
    for path, text in _texts_under(built_project / "data/processed"):
        leaked = [v for v in values if v in text]
        assert not leaked, f"{path}: {leaked[:3]}"
