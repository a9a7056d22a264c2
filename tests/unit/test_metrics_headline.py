"""DVC metrics files hold a handful of headline numbers; the full figures stay in a plain JSON beside them."""

from __future__ import annotations

import json
from pathlib import Path

from ftdata.augment.records import write_metrics
from ftdata.metrics import StageCounts, headline_path, summary_headline


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_headline_path_mirrors_the_metrics_tree_under_headline():
    assert headline_path("data/metrics/clean.json") == Path("data/metrics/headline/clean.json")
    assert headline_path("data/metrics/ingest/crowd_qa.json") == Path(
        "data/metrics/headline/ingest/crowd_qa.json"
    )


def test_a_stage_writes_every_figure_to_its_metrics_file_and_only_headline_numbers_to_headline(
    tmp_path,
):
    counts = StageCounts("annotate", n_in=10, out=7)
    counts.reject(["too_short"] * 2 + ["empty_record"])
    counts.extra = {
        "overall": {"krippendorff_alpha": 0.91, "cohen_kappa": {"a|b": {"kappa": 0.9}}},
        "by_annotator": {f"annotator_{i}": {"gold_accuracy": 0.9} for i in range(40)},
    }
    full = tmp_path / "data/metrics/annotate.json"
    counts.write(full)

    assert _read(full)["rejected"] == {"empty_record": 1, "too_short": 2}
    assert len(_read(full)["by_annotator"]) == 40
    head = _read(tmp_path / "data/metrics/headline/annotate.json")
    assert head == {"in": 10, "out": 7, "added": 0, "rejected": 3, "alpha": 0.91}


def test_the_escaped_writer_of_augment_and_balance_writes_the_headline_too(tmp_path):
    counts = StageCounts("balance", n_in=4, out=6, added=2)
    counts.extra = {"labels_after": {"账户问题": 6}}
    write_metrics(counts, tmp_path / "metrics/balance.json")
    head = _read(tmp_path / "metrics/headline/balance.json")
    assert head == {"in": 4, "out": 6, "added": 2, "rejected": 0}


def test_summary_headline_separates_kept_originals_from_derived_records():
    summary = {
        "raw_records": 100,
        "exported_records": 130,
        "kept_originals": 80,
        "derived_records": {"augmented": 40, "resampled": 10},
        "kept_ratio": 0.8,
        "splits": {"train": 110, "val": 10, "test": 10},
        "funnel": [{"stage": "ingest", "rejected": {f"r{i}": 1 for i in range(30)}}],
    }
    assert summary_headline(summary) == {
        "in": 100,
        "kept": 80,
        "augmented": 40,
        "resampled": 10,
        "out": 130,
        "kept_ratio": 0.8,
        "train": 110,
        "val": 10,
        "test": 10,
    }
