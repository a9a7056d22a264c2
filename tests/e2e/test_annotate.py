"""End to end: the annotate stage in a real `dvc repro` of the example, and its gate."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from ftdata.annotate.taxonomy import load
from ftdata.schemas import errors_of
from tests.conftest import run

pytestmark = pytest.mark.e2e
SPLITS = ("train", "val", "test")


def _metrics(project, name):
    return json.loads((project / "data/metrics" / name).read_text(encoding="utf-8"))


def test_agreement_metrics_are_dvc_metrics_and_pass_the_default_gates(built_project):
    # DVC shows the headline (alpha); every figure is in the stage's own metrics file.
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], built_project).stdout)
    headline = next(iter(shown.values()))["data"]["data/metrics/headline/annotate.json"]["data"]
    annotate = _metrics(built_project, "annotate.json")
    assert headline["alpha"] == annotate["overall"]["krippendorff_alpha"]
    assert annotate["in"] == annotate["out"] + annotate["rejected_total"]
    assert annotate["items"]["annotated"] >= 600
    assert set(annotate["by_annotator"]) == {"li_na", "wang_qiang", "zhao_lei"}
    for batch, figures in annotate["by_batch"].items():
        assert figures["percent_agreement"] >= 0.90, batch
        assert -1 <= figures["krippendorff_alpha"] <= 1 and figures["cohen_kappa"], batch
    assert all(g["passed"] for g in annotate["gates"].values())
    # the worse annotator is visibly worse, and the older guideline shows up as drift
    quality = {a: f["agreement_with_consensus"] for a, f in annotate["by_annotator"].items()}
    assert quality["zhao_lei"] < min(quality["li_na"], quality["wang_qiang"])
    assert annotate["by_guideline_version"]["1.0"]["current"] is False
    assert annotate["reannotate"]["records"] > 0
    assert (
        0
        < annotate["spot_check"]["wilson_low"]
        < annotate["spot_check"]["accuracy"]
        < annotate["spot_check"]["wilson_high"]
    )
    rejected = annotate["annotations"]["rejected"]
    assert {"unknown_task_id", "label_not_in_taxonomy", "annotation_cancelled"} <= set(rejected)


def test_annotation_rejects_are_kept_apart_from_record_rejects(built_project):
    rows = pq.read_table(
        built_project / "data/interim/annotate/annotation_rejects.parquet"
    ).to_pylist()
    assert rows and all(r["reason"] and r["detail"] and r["locator"] for r in rows)
    assert {r["reason"] for r in rows} >= {"unknown_task_id", "annotation_cancelled"}
    annotate = _metrics(built_project, "annotate.json")
    assert len(rows) == annotate["annotations"]["rejected_total"]


def test_classification_export_has_text_label_path_and_every_level(built_project):
    tax = load(built_project / "conf/taxonomy/bank_card.yaml")
    export = _metrics(built_project, "export.json")["classification"]
    total = 0
    for split in SPLITS:
        lines = (
            (built_project / f"data/processed/classification/{split}.jsonl")
            .read_text(encoding="utf-8")
            .splitlines()
        )
        assert len(lines) == export[split] > 0
        for line in lines:
            row = json.loads(line)
            assert errors_of(row, "classification.schema.json") == []
            assert tax.is_label(row["label"]) and row["label_levels"][-1] == row["label"]
            assert len(row["label_levels"]) == 3
        total += len(lines)
    records = (
        pq.read_table(built_project / "data/processed/records.parquet", columns=["label"])
        .column("label")
        .to_pylist()
    )
    assert total == sum(1 for x in records if x) and total + export["unlabelled"] == len(records)


def test_review_queue_lists_items_without_consensus(built_project):
    queue = [
        json.loads(x)
        for x in (built_project / "data/processed/review/annotation_conflicts.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert queue and all(
        "no_consensus" in e["why"] or any(w.startswith("batch_") for w in e["why"]) for e in queue
    )
    adjudicated = (
        built_project / "data/raw/annotations/adjudication/2024-08-20_chen_jie.csv"
    ).read_text(encoding="utf-8")
    assert not any(e["id"] in adjudicated for e in queue)


def test_a_worse_annotator_fails_the_gate_naming_batch_annotator_and_figure(
    built_project, tmp_path
):
    project = tmp_path / "degraded"
    shutil.copytree(built_project, project, symlinks=True)
    path = project / "data/raw/annotations/doccano/batch_02/zhao_lei.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i in range(0, len(lines), 3):  # a third of zhao_lei's labels become wrong
        row = json.loads(lines[i])
        row["label"] = ["账户问题>卡片>激活开卡"]
        lines[i] = json.dumps(row, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run(["dvc", "repro"], project, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert (
        "gate `accuracy` failed for batch `batch_02` (data/raw/annotations/doccano/batch_02)"
        in output
    )
    assert "annotator `zhao_lei` gold accuracy 0.6" in output
    assert "< 0.95 (annotate.gates.accuracy.min)" in output
    assert "Traceback" not in output
    # the figures are written even though the build stopped
    annotate = _metrics(project, "annotate.json")
    assert annotate["by_batch"]["batch_02"]["annotators"]["zhao_lei"]["gold_accuracy"] < 0.95
