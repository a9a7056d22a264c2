"""Nothing is lost: for every stage, in + added = out + rejected, in metrics and in files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.e2e

ROW_STAGES = ("clean", "dedup", "quality", "annotate", "augment", "balance", "split", "validate")


def _rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def _metrics(project: Path, name: str) -> dict:
    return json.loads((project / "data/metrics" / name).read_text(encoding="utf-8"))


def test_every_stage_balances_in_its_metrics(built_project):
    files = sorted((built_project / "data/metrics/ingest").glob("*.json"))
    files += [built_project / f"data/metrics/{s}.json" for s in (*ROW_STAGES, "export")]
    assert len(files) >= 5 + 6
    for path in files:
        m = json.loads(path.read_text(encoding="utf-8"))
        assert m["in"] + m["added"] == m["out"] + sum(m["rejected"].values()), path.name
        assert m["rejected_total"] == sum(m["rejected"].values())


def test_every_stage_balances_in_its_files(built_project):
    p = built_project
    sources = yaml.safe_load((p / "params.yaml").read_text())["source"]
    ingested = 0
    for name in sources:
        m = _metrics(p, f"ingest/{name}.json")
        out = _rows(p / f"data/interim/ingest/{name}.parquet")
        rejected = _rows(p / f"data/interim/rejects/ingest/{name}.parquet")
        assert (out, rejected) == (m["out"], m["rejected_total"]), name
        ingested += out
    previous = ingested
    for stage in ROW_STAGES:
        out = _rows(p / f"data/interim/{stage}.parquet")
        rejected = _rows(p / f"data/interim/rejects/{stage}.parquet")
        added = _metrics(p, f"{stage}.json")["added"]  # records a stage creates (augment, balance)
        assert previous + added == out + rejected, stage
        previous = out
    exported = _rows(p / "data/processed/records.parquet")
    assert previous == exported + _rows(p / "data/interim/rejects/export.parquet")


def test_rejects_carry_stage_reason_detail_and_the_whole_record(built_project):
    from ftdata.reasons import Reason

    codes = {r.value for r in Reason}
    for path in (built_project / "data/interim/rejects").rglob("*.parquet"):
        table = pq.read_table(path).to_pylist()
        for row in table:
            assert row["reason"] in codes, (path, row["reason"])
            assert row["detail"], (path, row)
            assert row["record"], (path, row)


def test_summary_funnel_chains_stage_outputs(built_project):
    summary = _metrics(built_project, "summary.json")
    funnel = summary["funnel"]
    assert [f["stage"] for f in funnel] == ["ingest", *ROW_STAGES, "export"]
    for before, after in zip(funnel, funnel[1:], strict=False):
        assert before["out"] == after["in"], (before["stage"], after["stage"])
    assert summary["raw_records"] >= 3000
    assert summary["exported_records"] == funnel[-1]["out"]
