"""The example build's label-issue queue, and what it catches when labels are flipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ftdata.io import read_records
from ftdata.label_issues import Classifier, check_level, labelled
from ftdata.params import validated_section

pytestmark = pytest.mark.e2e


def test_the_example_queues_suspected_label_errors_for_review(built_project):
    m = json.loads((built_project / "data/metrics/label_issues.json").read_text("utf-8"))
    queue = (built_project / "data/processed/review/label_issues.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in queue.splitlines()]
    assert set(m["levels"]) == {"1", "2", "3"} and m["in"] > 1000
    assert len(rows) == sum(level["flagged"] for level in m["levels"].values())
    assert m["flagged"] == len({r["id"] for r in rows}) > 0
    assert all(g["passed"] for g in m["gates"])
    assert "## Label issues" in (built_project / "data/processed/README.md").read_text("utf-8")
    html = (built_project / "data/processed/report/index.html").read_text("utf-8")
    assert 'id="label-issues"' in html


def test_five_percent_of_the_example_labels_flipped_are_found(built_project):
    """The issue's measurement: flip a known 5 % of leaf labels in a copy, check every level."""
    records = labelled(read_records(built_project / "data/interim/annotate.parquet"))
    rng = np.random.default_rng(0)
    leaves = sorted(records["label"].unique())
    flip = rng.choice(len(records), size=len(records) // 20, replace=False)
    for i in flip:
        others = [leaf for leaf in leaves if leaf != records.at[i, "label"]]
        records.at[i, "label"] = others[rng.integers(len(others))]
    flipped = set(records["id"].iloc[flip])
    section = validated_section(built_project, "label_issues")
    clf = Classifier(**section["classifier"])
    flagged = {row["id"] for level in (1, 2, 3) for row in check_level(records, level, clf).issues}
    precision = len(flagged & flipped) / len(flagged)
    recall = len(flagged & flipped) / len(flipped)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)  # measured 0.86 / 0.91
