"""No augmented text reaches val/test: on the real build of the example dataset.

Checked on the split stage's output and on the exported records: every record
with source kind ``augment`` is in train, its parents are in train, and no
val/test record's text equals or nearly duplicates (Jaccard of character
n-grams at the dedup threshold, computed exhaustively, not by LSH) the text
of any augmented record.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from ftdata.io import read_records
from ftdata.ops.dedup import jaccard, normalise_for_dedup, shingles
from ftdata.record import content_of

pytestmark = pytest.mark.e2e


def _texts(df: pd.DataFrame) -> list[str]:
    texts = df["text"] if "text" in df.columns else [None] * len(df)
    return [
        content_of(m, t if isinstance(t, str) else None)
        for m, t in zip(df["messages"], texts, strict=True)
    ]


def leaks(records: pd.DataFrame, ngram: int, threshold: float) -> list[tuple[str, str, float]]:
    """(augmented id, val/test id, similarity) for every augmented text found in val/test."""
    augmented = records[records["source_kind"] == "augment"]
    held_out = records[records["split"].isin(["val", "test"])]
    aug_sets = [shingles(normalise_for_dedup(t), ngram) for t in _texts(augmented)]
    held_norm = [normalise_for_dedup(t) for t in _texts(held_out)]
    held_sets = [shingles(t, ngram) for t in held_norm]
    aug_norm = {
        normalise_for_dedup(t): rid
        for t, rid in zip(_texts(augmented), augmented["id"], strict=True)
    }
    found = []
    for hid, norm, hs in zip(held_out["id"], held_norm, held_sets, strict=True):
        if norm in aug_norm:
            found.append((aug_norm[norm], hid, 1.0))
            continue
        for aid, a in zip(augmented["id"], aug_sets, strict=True):
            # Jaccard >= t needs the smaller set to be at least t times the larger one
            if min(len(a), len(hs)) < threshold * max(len(a), len(hs)):
                continue
            score = jaccard(a, hs)
            if score >= threshold:
                found.append((aid, hid, score))
    return found


@pytest.fixture(scope="module")
def built(built_project):
    params = yaml.safe_load((built_project / "params.yaml").read_text(encoding="utf-8"))
    return built_project, params["dedup"]


def test_the_example_build_has_augmented_train_records(built):
    project, _ = built
    records = read_records(project / "data/processed/records.parquet")
    augmented = records[records["source_kind"] == "augment"]
    assert len(augmented) > 100
    ops = {entry["op"] for row in augmented["ops"] for entry in row[-1:]}
    assert {"synonym", "dialect", "qa_to_dialogue", "multiturn_to_qa"} <= ops
    assert all(len(p) >= 1 for p in augmented["parents"])


@pytest.mark.parametrize("path", ["data/interim/split.parquet", "data/processed/records.parquet"])
def test_every_augmented_record_and_its_parents_are_in_train(built, path):
    project, _ = built
    records = read_records(project / path)
    split_of = dict(zip(records["id"], records["split"], strict=True))
    augmented = records[records["source_kind"] == "augment"]
    assert len(augmented) and set(augmented["split"]) == {"train"}
    for parents in augmented["parents"]:
        for parent in parents:
            assert (
                split_of.get(parent, "train") == "train"
            )  # a parent undersampled away has no split


def test_no_val_or_test_text_equals_or_nearly_duplicates_an_augmented_text(built):
    project, dedup = built
    records = read_records(project / "data/interim/split.parquet")
    assert leaks(records, dedup["ngram"], dedup["threshold"]) == []


def test_the_leak_check_finds_a_planted_leak(built):
    project, dedup = built
    records = read_records(project / "data/interim/split.parquet")
    victim = records[records["split"] == "val"].iloc[0].to_dict()
    planted = {**victim, "id": "f" * 16, "source_kind": "augment", "split": "train"}
    planted["messages"] = [dict(m) for m in victim["messages"]] + [
        {"role": "user", "content": "好的"}
    ]
    found = leaks(
        pd.concat([records, pd.DataFrame([planted])], ignore_index=True),
        dedup["ngram"],
        dedup["threshold"],
    )
    assert [(a, h) for a, h, _ in found] == [("f" * 16, victim["id"])]


def test_feedback_awaiting_review_never_parents_an_exported_record(built_project):
    import json

    queue = built_project / "data/processed/review/feedback_candidates.jsonl"
    held = {
        json.loads(line)["id"] for line in queue.read_text(encoding="utf-8").splitlines() if line
    }
    assert held, "the example feedback log should leave candidates in the review queue"
    exported = read_records(built_project / "data/processed/records.parquet")
    children_of_held = [
        rid
        for rid, parents in zip(exported["id"], exported["parents"], strict=True)
        if set(parents or []) & held
    ]
    assert children_of_held == []
