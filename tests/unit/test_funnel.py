"""Report figures: label levels, length histogram, funnel assembly."""

from __future__ import annotations

import json

import pandas as pd

from ftdata.funnel import label_distribution, label_levels, length_histogram, stage_metrics


def test_label_levels_expand_a_taxonomy_path():
    assert label_levels("产品问题>积分规则>兑换流程") == [
        "产品问题",
        "产品问题>积分规则",
        "产品问题>积分规则>兑换流程",
    ]
    assert label_levels(None) == []


def test_label_distribution_counts_every_level_per_split():
    df = pd.DataFrame({"label": ["a>b", "a>c", None], "split": ["train", "train", "test"]})
    rows = {(r["level"], r["label"], r["split"]): r["count"] for r in label_distribution(df)}
    assert rows[(1, "a", "train")] == 2
    assert rows[(2, "a>b", "train")] == 1
    assert rows[(1, "(unlabelled)", "test")] == 1


def test_length_histogram_buckets_characters_of_all_turns():
    df = pd.DataFrame(
        {
            "messages": [
                [{"role": "user", "content": "账" * 10}],
                [{"role": "user", "content": "x" * 25}],
            ],
            "text": [None, None],
        }
    )
    hist = {r["bin"]: r["count"] for r in length_histogram(df, [0, 20, 50])}
    assert hist == {"0-19": 1, "20-49": 1, "50+": 0}


def test_stage_metrics_sums_ingest_over_sources(tmp_path):
    (tmp_path / "ingest").mkdir()
    for name, n_in, out in (("a", 10, 8), ("b", 5, 5)):
        data = {
            "stage": f"ingest@{name}",
            "source": name,
            "in": n_in,
            "added": 0,
            "out": out,
            "rejected": {"malformed_json": n_in - out} if n_in > out else {},
        }
        (tmp_path / "ingest" / f"{name}.json").write_text(json.dumps(data))
    (tmp_path / "clean.json").write_text(
        json.dumps(
            {"stage": "clean", "in": 13, "added": 0, "out": 12, "rejected": {"no_substance": 1}}
        )
    )
    funnel = stage_metrics(tmp_path, ("ingest", "clean"))
    assert (
        funnel[0]["in"] == 15
        and funnel[0]["out"] == 13
        and funnel[0]["rejected"] == {"malformed_json": 2}
    )
    assert funnel[1]["out"] == 12
