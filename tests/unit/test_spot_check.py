"""The review spot check: a deterministic, stratified, stable sample of record ids."""

from __future__ import annotations

import math

import pandas as pd

from ftdata.ops.quality import spot_check_ids


def records(
    label: str | None, n: int, source: str = "logs", prefix: str | None = None
) -> list[dict]:
    prefix = prefix or f"{label or source}-"
    return [{"id": f"{prefix}{i:04d}", "label": label, "source": source} for i in range(n)]


def dataset() -> pd.DataFrame:
    rows = (
        records("账单查询", 100)
        + records("积分兑换", 20)
        + records("挂失补卡", 1)
        + records(None, 5, source="crawl")
        + records(None, 3, source="feedback")
    )
    return pd.DataFrame(rows)


def strata_of(df: pd.DataFrame, ids: list[str]) -> dict:
    chosen = df[df["id"].isin(ids)]
    keys = [
        f"source:{src}" if pd.isna(label) else label
        for label, src in zip(chosen["label"], chosen["source"], strict=True)
    ]
    return pd.Series(keys).value_counts().to_dict()


def test_same_inputs_and_seed_give_the_same_sorted_sample():
    df = dataset()
    first = spot_check_ids(df, 0.1, 7)
    assert first == spot_check_ids(df, 0.1, 7)
    assert first == sorted(first)
    assert (
        spot_check_ids(df.sample(frac=1, random_state=3), 0.1, 7) == first
    )  # row order does not matter


def test_another_seed_gives_another_sample():
    df = dataset()
    assert spot_check_ids(df, 0.1, 7) != spot_check_ids(df, 0.1, 8)


def test_every_stratum_is_represented_and_null_labels_fall_back_to_source():
    counts = strata_of(dataset(), spot_check_ids(dataset(), 0.1, 7))
    assert counts == {
        "账单查询": 10,
        "积分兑换": 2,
        "挂失补卡": 1,
        "source:crawl": 1,
        "source:feedback": 1,
    }


def test_fraction_is_respected_within_rounding_per_stratum():
    df = pd.DataFrame(records("a", 95) + records("b", 14) + records("c", 26))
    for fraction in (0.05, 0.1, 0.25, 0.5):
        counts = strata_of(df, spot_check_ids(df, fraction, 7))
        for label, n in (("a", 95), ("b", 14), ("c", 26)):
            assert counts[label] == max(1, math.floor(fraction * n + 0.5))


def test_zero_fraction_picks_nothing_and_full_fraction_picks_everything():
    df = dataset()
    assert spot_check_ids(df, 0.0, 7) == []
    assert spot_check_ids(df, 1.0, 7) == sorted(df["id"])


def test_sample_is_stable_when_records_of_other_strata_are_added():
    df = dataset()
    before = spot_check_ids(df, 0.1, 7)
    grown = pd.concat([df, pd.DataFrame(records("年费", 40) + records(None, 7, source="crowd"))])
    after = spot_check_ids(grown, 0.1, 7)
    assert set(before) <= set(after)
    assert set(after) - set(before) == {i for i in after if i.startswith(("年费-", "crowd-"))}


def test_a_larger_fraction_only_adds_picks():
    df = dataset()
    assert set(spot_check_ids(df, 0.1, 7)) <= set(spot_check_ids(df, 0.3, 7))


def test_a_label_equal_to_a_source_name_is_its_own_stratum():
    df = pd.DataFrame(
        records("logs", 1, prefix="labelled-")
        + records(None, 1, source="logs", prefix="unlabelled-")
    )
    assert spot_check_ids(df, 0.1, 7) == ["labelled-0000", "unlabelled-0000"]


def test_stratify_by_another_column():
    df = pd.DataFrame(records("a", 30))
    df["lang"] = ["zh"] * 29 + ["en"]
    counts = pd.Series(
        df[df["id"].isin(spot_check_ids(df, 0.1, 7, stratify_by="lang"))]["lang"]
    ).value_counts()
    assert counts.to_dict() == {"zh": 3, "en": 1}
