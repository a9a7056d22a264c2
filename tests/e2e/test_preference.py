"""The example's preference set: the adjudicated agent corrections of its feedback log."""

from __future__ import annotations

import json

import pytest

from ftdata.schemas import errors_of

pytestmark = pytest.mark.e2e

SCHEMAS = {
    "dpo_sharegpt": "preference_sharegpt.schema.json",
    "dpo_alpaca": "preference_alpaca.schema.json",
    "kto": "kto.schema.json",
}


def test_the_example_builds_pairs_from_its_adjudicated_feedback(built_project):
    out = built_project / "data/processed/preference"
    m = json.loads((built_project / "data/metrics/preference.json").read_text("utf-8"))
    assert sum(m["pairs"].values()) > 0 and m["in"] == m["out"] + m["rejected_total"]
    info = json.loads((out / "dataset_info.json").read_text("utf-8"))
    assert errors_of(info, "dataset_info.schema.json") == []
    for name, entry in info.items():
        rows = json.loads((out / entry["file_name"]).read_text("utf-8"))
        fmt = next(f for f in SCHEMAS if f"_{f}_" in name)
        assert rows and errors_of(rows, SCHEMAS[fmt]) == [], name
    pairs = [
        json.loads(line)
        for split in ("train", "val", "test")
        if (out / f"openai_{split}.jsonl").exists()
        for line in (out / f"openai_{split}.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(pairs) == sum(m["pairs"].values())
    for row in pairs:
        assert errors_of(row, "openai_preference.schema.json") == []
        assert row["preferred_output"][0]["content"] != row["non_preferred_output"][0]["content"]
    lineage = (out / "lineage.jsonl").read_text("utf-8").splitlines()
    assert all(json.loads(r)["locator"].startswith("data/raw/feedback/") for r in lineage)
    card = (built_project / "data/processed/README.md").read_text("utf-8")
    assert f"{sum(m['pairs'].values())} preference pairs from {m['in']} adjudicated" in card
