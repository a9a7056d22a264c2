"""Balance: distributions per taxonomy level, imbalance detection, strategies on train rows only."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.augment.balance import distribution, imbalance, rebalance, targets
from ftdata.augment.checks import check_balance
from ftdata.errors import ConfigError
from tests.helpers import chat

BILL = "账户问题>账单>账单查询"
FREEZE = "账户问题>卡片>冻结解冻"
POINTS = "产品问题>积分规则>兑换流程"


def records(counts: dict[str, int]) -> pd.DataFrame:
    rows, line = [], 0
    for label, n in counts.items():
        for _ in range(n):
            line += 1
            rows.append(
                chat(("user", f"第{line}个问题"), ("assistant", "答复。"), line=line, label=label)
            )
    return pd.DataFrame(rows).astype(object)


def test_distribution_counts_every_taxonomy_level_and_unlabelled_apart():
    dist = distribution([BILL, BILL, FREEZE, POINTS, None])
    assert dist["level_1"] == {"(unlabelled)": 1, "产品问题": 1, "账户问题": 3}
    assert dist["level_2"]["账户问题>账单"] == 2
    assert dist["level_3"][FREEZE] == 1


def test_imbalance_flags_a_dominant_share_and_a_large_ratio():
    assert imbalance({"a": 81, "b": 19}, max_share=0.8, max_ratio=10)["imbalanced"] is True
    by_ratio = imbalance({"a": 60, "b": 30, "c": 10}, max_share=0.8, max_ratio=5)
    assert by_ratio["imbalanced"] is True and by_ratio["max_min_ratio"] == 6.0
    assert "a/c" in by_ratio["reasons"]
    assert imbalance({"a": 40, "b": 30, "c": 30}, max_share=0.8, max_ratio=5)["imbalanced"] is False


def test_targets_per_strategy_and_caps():
    counts = {BILL: 90, FREEZE: 10, POINTS: 30}
    assert targets(counts, "oversample", 3.0, {}) == {FREEZE: 30}
    assert targets(counts, "undersample", 3.0, {}) == {BILL: 30}
    assert targets(counts, "cap", 3.0, {BILL: 50}) == {BILL: 50}
    assert targets(counts, "none", 3.0, {}) == {}


def test_oversample_resamples_train_records_with_lineage_until_the_target():
    df = records({BILL: 30, FREEZE: 4})
    train = [True] * len(df)
    kept, copies, dropped, wanted = rebalance(
        df, train, level=3, strategy="oversample", target_ratio=3.0, caps={}, seed=1
    )
    assert wanted == {FREEZE: 10} and len(kept) == len(df) and not len(dropped)
    assert len(copies) == 6
    freeze_ids = set(df[df["label"] == FREEZE]["id"])
    for copy in copies.to_dict("records"):
        assert copy["source_kind"] == "augment" and copy["label"] == FREEZE
        assert copy["parents"][0] in freeze_ids
        assert copy["ops"][-1] == {**copy["ops"][-1], "stage": "balance", "op": "resample"}
    assert copies["id"].is_unique and set(copies["id"]).isdisjoint(df["id"])


def test_undersample_drops_augmented_first_and_never_touches_val_or_test():
    df = records({BILL: 12, FREEZE: 3})
    df.loc[0:3, "source_kind"] = "augment"
    train = [i % 5 != 4 for i in range(len(df))]  # every fifth row is bound for val/test
    kept, copies, dropped, _ = rebalance(
        df, train, level=3, strategy="undersample", target_ratio=2.0, caps={}, seed=1
    )
    train_bill = sum(1 for i, lb in enumerate(df["label"]) if lb == BILL and train[i])
    train_freeze = sum(1 for i, lb in enumerate(df["label"]) if lb == FREEZE and train[i])
    assert len(dropped) == train_bill - 2 * train_freeze and not len(copies)
    assert set(dropped["reason"]) == {"undersampled"}
    augmented = set(df.loc[0:3, "id"])
    assert augmented <= set(dropped["id"])  # augmented go first
    held_out = {rid for rid, tr in zip(df["id"], train, strict=True) if not tr}
    assert held_out <= set(kept["id"])
    assert len(kept) + len(dropped) == len(df)


def test_caps_reject_with_their_own_reason_and_are_deterministic():
    df = records({BILL: 20, FREEZE: 5})
    train = [True] * len(df)
    first = rebalance(df, train, level=3, strategy="cap", target_ratio=3.0, caps={BILL: 8}, seed=3)
    shuffled = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    second = rebalance(
        shuffled, train, level=3, strategy="cap", target_ratio=3.0, caps={BILL: 8}, seed=3
    )
    assert set(first[2]["reason"]) == {"class_cap"} and len(first[2]) == 12
    assert set(first[2]["id"]) == set(second[2]["id"])  # input order does not matter


def test_a_higher_level_balances_branches_not_leaves():
    df = records({BILL: 20, FREEZE: 20, POINTS: 5})
    kept, copies, _, wanted = rebalance(
        df, [True] * len(df), level=1, strategy="oversample", target_ratio=2.0, caps={}, seed=1
    )
    assert wanted == {"产品问题": 20}
    assert len(copies) == 15


def test_bad_strategy_names_the_key_and_a_suggestion():
    with pytest.raises(ConfigError, match=r"balance.strategy.*'oversample'"):
        check_balance(
            {
                "strategy": "oversampel",
                "level": 3,
                "max_share": 0.8,
                "max_ratio": 5,
                "target_ratio": 3,
                "caps": {},
            }
        )


def test_only_records_with_augment_lineage_skip_balances_leak_check():
    from ftdata.stages.balance import augment_children

    records = pd.DataFrame(
        {
            "source_kind": ["augment", "augment", "logs"],
            "ops": [
                [{"stage": "clean", "op": "nfkc"}, {"stage": "augment", "op": "synonym_swap"}],
                [],  # a source declared as kind augment was never checked by augment
                None,
            ],
        }
    )
    assert augment_children(records) == [True, False, False]
