"""The example build: predictions become metrics and hard examples; feedback waits in the review queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import run

pytestmark = pytest.mark.e2e


def _jsonl(path):
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def test_predictions_file_becomes_metrics_confusion_and_hard_examples(built_project):
    metrics = json.loads((built_project / "data/metrics/evaluate.json").read_text(encoding="utf-8"))
    assert metrics["in"] == metrics["out"] + metrics["rejected_total"]
    # the planted defects of tools/make_eval_data.py, each rejected with its reason
    assert set(metrics["rejected"]) == {
        "duplicate_id",
        "malformed_json",
        "no_reference_label",
        "not_in_test_split",
        "unknown_id",
        "unknown_label",
    }
    assert metrics["rejected"]["unknown_label"] == 2 and metrics["rejected_total"] <= 10
    assert metrics["scored"] > 150 and 0.9 < metrics["coverage"] < 1.0
    assert (
        0.7 < metrics["accuracy"] < 0.95
        and metrics["levels"]["1"]["accuracy"] > metrics["accuracy"]
    )
    hard = _jsonl(built_project / "data/processed/review/hard_examples.jsonl")
    assert len(hard) == metrics["hard_examples"] > 0
    assert all(
        h["label"] != h["prediction"]
        and h["locator"]
        and h["prediction_locator"].startswith("data/raw/eval/")
        for h in hard
    )
    confusion = json.loads(
        (built_project / "data/metrics/plots/confusion.json").read_text(encoding="utf-8")
    )
    assert len(confusion) == metrics["scored"]
    assert sum(r["actual"] != r["predicted"] for r in confusion) == len(hard)
    shown = run(["dvc", "metrics", "show", "--json"], built_project).stdout
    assert '"macro_f1"' in shown


def test_feedback_records_wait_for_review_with_their_log_line(built_project):
    candidates = _jsonl(built_project / "data/processed/review/feedback_candidates.jsonl")
    export = json.loads((built_project / "data/metrics/export.json").read_text(encoding="utf-8"))
    assert len(candidates) == export["rejected"]["awaiting_review"] > 0
    assert all(
        c["source_kind"] == "feedback" and c["locator"].startswith("data/raw/feedback/")
        for c in candidates
    )
    assert {c["flag"] for c in candidates} >= {"thumbs_down", "escalation"}
    text = json.dumps(candidates, ensure_ascii=False)
    assert (
        "13800138000" not in text and "<PHONE>" in text
    )  # production logs are redacted like any source
    records = pq.read_table(built_project / "data/processed/records.parquet").to_pylist()
    exported_ids = {r["id"] for r in records}
    assert not exported_ids & {c["id"] for c in candidates}
    feedback = [r for r in records if r["source_kind"] == "feedback"]
    assert feedback, "the example's adjudicated feedback lines are exported"
    for rec in feedback:
        adjudicated = json.loads(rec["meta"]).get("adjudicated_label")
        assert rec["label"] and (
            adjudicated == rec["label"] or rec.get("label_origin") == "adjudicated"
        )


def test_dvc_plots_render_the_report_figures(built_project, tmp_path):
    out = tmp_path / "plots"
    out.mkdir()
    answer = json.loads(run(["dvc", "plots", "show", "--json"], built_project).stdout)
    assert not answer.get("errors"), answer.get("errors")
    shown = answer["data"]
    for plot in (
        "funnel",
        "rejects",
        "labels",
        "sources",
        "lengths",
        "quality_scores",
        "confusion",
    ):
        assert plot in shown, sorted(shown)
        assert shown[plot][0]["type"] == "vega" and shown[plot][0]["content"]["data"]["values"], (
            plot
        )
    html = run(["dvc", "plots", "show", "-o", str(out / "html")], built_project)
    assert html.returncode == 0 and (out / "html" / "index.html").is_file()
    diff = json.loads(run(["dvc", "plots", "diff", "HEAD", "--json"], built_project).stdout)["data"]
    assert sorted(diff["confusion"][0]["revisions"]) == ["HEAD", "workspace"]


def test_without_a_predictions_file_the_stage_writes_empty_outputs(tmp_path):
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"evaluate": {"predictions": "data/raw/eval/predictions.jsonl"}}),
        encoding="utf-8",
    )
    env = {**os.environ, "FTDATA_ROOT": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-m", "stages.evaluate"], env=env, check=True, capture_output=True
    )
    metrics = json.loads((tmp_path / "data/metrics/evaluate.json").read_text(encoding="utf-8"))
    assert metrics["in"] == metrics["scored"] == 0 and metrics["predictions_file"] is None
    assert "no predictions file" in metrics["status"]
    assert (tmp_path / "data/processed/review/hard_examples.jsonl").read_text(
        encoding="utf-8"
    ) == ""
    assert (
        json.loads((tmp_path / "data/metrics/plots/confusion.json").read_text(encoding="utf-8"))
        == []
    )
    assert pq.read_table(tmp_path / "data/interim/rejects/evaluate.parquet").num_rows == 0
