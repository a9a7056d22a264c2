"""The HTML report and the dataset card: real charts from the figures, 'not available' for what is missing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pandas as pd

from ftdata.dataset_card import render_card, strata_missing_splits
from ftdata.report_html import (
    ReportData,
    balance_counts,
    column_chart,
    hbar_chart,
    heatmap,
    render,
    score_histograms,
    text_width,
)
from tests.helpers import chat

SVG = "{http://www.w3.org/2000/svg}"
FUNNEL = [
    {
        "stage": "ingest",
        "in": 5,
        "added": 0,
        "out": 4,
        "rejected": {"malformed_json": 1},
        "by_source": {"unit": {"in": 5, "out": 4, "rejected": {}}},
    },
    {"stage": "export", "in": 4, "added": 0, "out": 3, "rejected": {"awaiting_review": 1}},
]


def records() -> pd.DataFrame:
    rows = []
    for i, (label, split) in enumerate(
        [
            ("账户问题>账单>账单查询", "train"),
            ("账户问题>账单>账单查询", "test"),
            ("产品问题>年费>年费政策", "train"),
        ],
        start=1,
    ):
        rec = chat(
            ("user", f"问题{i}：账单怎么查"),
            ("assistant", "在APP查询。" * i),
            line=i,
            label=label,
            split=split,
        )
        rec.update(lang="zh", score_chars=float(10 * i), pii_redacted=i == 1)
        rows.append(rec)
    return pd.DataFrame(rows)


def data(**optional) -> ReportData:
    return ReportData(
        title="demo",
        summary={
            "raw_records": 5,
            "exported_records": 3,
            "kept_ratio": 0.6,
            "splits": {"train": 2, "val": 0, "test": 1},
        },
        funnel=FUNNEL,
        records=records(),
        sources={
            "unit": {
                "kind": "logs",
                "license": "internal-use-only",
                "owner": "me",
                "collected_at": "2024-01-01",
            }
        },
        length_bins=[0, 20, 50],
        score_bins=4,
        examples_per_label=1,
        optional=optional,
    )


def bars(svg: str) -> dict[str, str]:
    root = ET.fromstring(svg)
    return {
        r.get("data-label") + "|" + (r.get("data-series") or ""): r.get("data-value")
        for r in root.iter(f"{SVG}rect")
        if r.get("data-label")
    }


def test_bar_lengths_are_proportional_and_each_bar_says_what_it_shows():
    svg = hbar_chart([("a", {"n": 10}), ("b", {"n": 5})], [("n", "#000")], "t", bar_width=400)
    rects = {
        r.get("data-label"): float(r.get("width"))
        for r in ET.fromstring(svg).iter(f"{SVG}rect")
        if r.get("data-label")
    }
    assert rects == {"a": 400.0, "b": 200.0}
    assert bars(svg) == {"a|n": "10", "b|n": "5"}
    stacked = hbar_chart(
        [("s", {"kept": 3, "rejected": 1})],
        [("kept", "#00f"), ("rejected", "#f00")],
        "t",
        stacked=True,
    )
    assert bars(stacked) == {"s|kept": "3", "s|rejected": "1"}


def test_histogram_heatmap_and_empty_charts():
    assert bars(column_chart([("0-9", 3), ("10+", 0)], "h")) == {"0-9|": "3", "10+|": "0"}
    matrix = heatmap(["a>x", "b>x"], [[2, 1], [0, 3]], "m")
    cells = {
        c.get("data-label"): c.get("data-value")
        for c in ET.fromstring(matrix).iter(f"{SVG}rect")
        if c.get("data-label")
    }
    assert cells == {"a>x → a>x": "2", "a>x → b>x": "1", "b>x → a>x": "0", "b>x → b>x": "3"}
    assert "no data" in hbar_chart([], [("n", "#000")], "t")


def test_cjk_text_is_measured_wider_than_latin():
    assert text_width("账单查询") == 4 * 12 and text_width("abcd") < 4 * 12


def test_score_histograms_cover_every_value_once():
    rows = score_histograms(
        pd.DataFrame(
            {"score_x": [0.0, 1.0, 2.0, 4.0, None], "score_flat": [1.0, 1.0, 1.0, 1.0, 1.0]}
        ),
        4,
    )
    x = [r for r in rows if r["score"] == "x"]
    assert [r["count"] for r in x] == [1, 1, 1, 1] and x[0]["bin"] == "x 0–1"
    assert [r["count"] for r in rows if r["score"] == "flat"] == [5]


def test_balance_counts_read_the_shapes_a_balance_report_has():
    staged = {
        "labels_before": {"level_1": {"a": 9, "b": 1}},
        "labels_after": {"level_1": {"a": 5, "b": 5}},
    }
    assert balance_counts(staged) == [("level 1", {"a": 9, "b": 1}, {"a": 5, "b": 5})]
    flat = {"counts": {"before": {"a": 9}, "after": {"a": 5}}}
    assert balance_counts(flat) == [("all levels", {"a": 9}, {"a": 5})]
    assert balance_counts({"something": 1}) == [] and balance_counts(None) == []


def test_page_is_self_contained_and_says_what_is_not_available():
    page = render(data())
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}
    for missing in (
        "annotation agreement",
        "label counts before and after balance",
        "evaluation figures",
        "baseline release",
    ):
        assert f"{missing}" in page
    assert page.count("not available") >= 4
    assert (
        "账户问题&gt;账单&gt;账单查询" in page and "data/raw/unit.jsonl:1" in page
    )  # an example record, traced
    assert render(data()) == page  # deterministic


def test_optional_figures_appear_when_their_files_exist():
    evaluate = {
        "scored": 2,
        "accuracy": 0.5,
        "macro_f1": 0.33,
        "coverage": 1.0,
        "hard_examples": 1,
        "rejected": {"unknown_id": 1},
        "levels": {
            "1": {
                "n": 2,
                "accuracy": 1.0,
                "macro_f1": 1.0,
                "labels": {"a": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}},
            }
        },
    }
    confusion = [{"actual": "a>x", "predicted": "a>x"}, {"actual": "a>x", "predicted": "a>y"}]
    page = render(
        data(
            evaluate=evaluate,
            confusion=confusion,
            annotate={"overall": {"percent_agreement": 0.93, "krippendorff_alpha": 0.88}},
            balance={"labels_before": {"level_1": {"a": 9}}, "labels_after": {"level_1": {"a": 5}}},
        )
    )
    assert 'data-label="a&gt;x → a&gt;y" data-value="1"' in page
    assert "<b>0.93</b><span>percent agreement</span>" in page and "before balance" in page
    assert "unknown_id" in page


def test_dataset_card_has_sources_counts_labels_and_derived_limits():
    section = {
        "thin_label_min": 2,
        "card": {"summary": "S.", "intended_use": ["U."], "known_limits": ["Configured."]},
    }
    card = render_card(
        data(split_strata=[{"stratum": "x", "split": "val", "count": 0}]),
        section,
        {"export": {"dataset_name": "demo"}},
    )
    assert card.startswith("---\npretty_name: demo\n")
    assert "| unit | logs | internal-use-only | me | 2024-01-01 | 5 | 3 |" in card
    assert "| 账户问题>账单>账单查询 | 1 | 0 | 1 | 2 |" in card
    assert "- Configured." in card
    assert "Thin labels (fewer than 2 exported records): 产品问题>年费>年费政策 (1)" in card
    assert "Strata missing a split (figures on them are unreliable): x: no val." in card
    assert "1 production feedback records are not in the exports" in card
    assert "Not available (no predictions file" in card


def test_strata_missing_splits_from_either_metrics_shape():
    assert strata_missing_splits({"splits": {"strata_missing_splits": {"a": ["test"]}}}, None) == {
        "a": ["test"]
    }
    rows = [
        {"stratum": "a", "split": "test", "count": 0},
        {"stratum": "a", "split": "train", "count": 3},
    ]
    assert strata_missing_splits({"splits": {"strata_missing_splits": 1}}, rows) == {"a": ["test"]}


def _with_derived() -> pd.DataFrame:
    """The three originals plus two augmented and one resampled record of source `unit`."""
    base = records()
    derived = []
    for i, op in enumerate(["synonym", "dialect", "resample"]):
        rec = base.iloc[i % len(base)].to_dict()
        rec.update(
            id=f"derived{i}",
            source_kind="augment",
            locator=f"{rec['locator']}#augment/{op}/0",
            ops=[{"stage": "augment" if op != "resample" else "balance", "op": op}],
            split="train",
        )
        derived.append(rec)
    return pd.concat([base, pd.DataFrame(derived)], ignore_index=True)


def test_report_and_card_count_kept_originals_apart_from_augmented_and_resampled():
    d = data()
    d.records = _with_derived()
    page = render(d)
    kpis = dict(
        (span, b)
        for b, span in re.findall(r'<div class="kpi"><b>(.*?)</b><span>(.*?)</span>', page)
    )
    # 5 raw records, 3 of them reach the exports: 60 %, not 6 / 5 = 120 %
    assert kpis["raw records kept"] == "3 (60.0 %)"
    assert kpis["derived: augmented / resampled"] == "2 / 1"
    row = re.search(r"<tr><td>unit</td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td class=n>(\d+)</td>", row) == ["5", "3", "2", "1", "6"]

    card = render_card(d, {"thin_label_min": 1, "card": {}}, {"export": {}})
    assert "5 raw records -> 3 kept (60.0 %)" in card
    assert "2 augmented and 1 resampled" in card
    assert "| unit | logs | internal-use-only | me | 2024-01-01 | 5 | 3 | 2 | 1 |" in card


def test_report_lists_raw_labels_outside_label_map_and_files_without_records_per_source():
    gaps = [dict(FUNNEL[0]), FUNNEL[1]]
    gaps[0]["by_source"] = {
        "unit": {
            "in": 5,
            "out": 4,
            "rejected": {},
            "unmapped_labels": {
                "records": 12,
                "distinct": 2,
                "action": "keep",
                "top": {"bill": 9, "积分": 3},
            },
            "file_notes": {"data/raw/unit/empty.md": "no_records"},
        }
    }
    page = render(replace(data(), funnel=gaps))
    assert "Raw labels outside label_map" in page
    assert "bill (9), 积分 (3)" in page and ">12<" in page
    assert "data/raw/unit/empty.md" in page and "no_records" in page
    assert "Every raw label of every source is in its label_map" in render(data())
