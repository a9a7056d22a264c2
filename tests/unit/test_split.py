"""split: stable group-hash assignment, no leakage across splits, ratios, report."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.errors import ConfigError
from ftdata.ops.split import split, split_report
from ftdata.record import sha256_hex
from ftdata.runner import OpCall, apply_op

LABELS = ["账单查询", "积分兑换", "逾期处理", "额度调整"]


def rid(name: str) -> str:
    """Ids shaped like real ones (hex), so their order is unrelated to creation order."""
    return sha256_hex(name)[:16]


def record(name: str, conversation: str | None = None, **extra) -> dict:
    return {
        "id": rid(name),
        "source": "chat_logs",
        "locator": f"chat.jsonl:{name}",
        "conversation_id": conversation if conversation is not None else rid(name),
        "messages": [{"role": "user", "content": f"问题 {name}"}],
        "text": None,
        "label": LABELS[sum(map(ord, name)) % len(LABELS)],
        "parents": [],
        "ops": [],
        **extra,
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def split_of(batch: pd.DataFrame, **params) -> dict[str, str]:
    kept = split(batch, **params).kept
    return dict(zip(kept["id"], kept["split"], strict=True))


# ------------------------------------------------------------------ stability
def test_adding_new_records_moves_no_existing_record():
    base = [record(f"r{i}") for i in range(400)]
    base += [record(f"c{i}-t{t}", conversation=f"conv{i}") for i in range(50) for t in range(2)]
    before = split_of(frame(base))

    new = [record(f"new{i}") for i in range(60)]
    # new turns of existing conversations, and augmentations of existing records
    new += [record(f"c{i}-t9", conversation=f"conv{i}") for i in range(20)]
    new += [record(f"aug{i}", parents=[rid(f"r{i}")]) for i in range(20)]
    grown = frame(base + new).sort_values("id").reset_index(drop=True)
    after = split_of(grown)

    assert len(new) == 100
    assert {k: after[k] for k in before} == before
    assert set(before.values()) == {"train", "val", "test"}


def test_relabelling_a_record_does_not_move_it():
    rows = [record(f"r{i}") for i in range(200)]
    before = split_of(frame(rows))
    relabelled = frame([{**r, "label": "年费"} for r in rows])
    assert split_of(relabelled) == before


def test_seed_changes_the_assignment():
    batch = frame([record(f"r{i}") for i in range(200)])
    assert split_of(batch, seed=42) != split_of(batch, seed=7)


# ------------------------------------------------------------------ grouping
def test_all_turns_of_a_conversation_land_in_one_split():
    rows = [record(f"c{i}-t{t}", conversation=f"conv{i}") for i in range(150) for t in range(3)]
    kept = split(frame(rows)).kept
    per_conversation = kept.groupby("conversation_id")["split"].nunique()
    assert (per_conversation == 1).all()
    assert kept["split"].nunique() == 3


def test_near_duplicate_cluster_members_land_in_one_split():
    rows = []
    for i in range(150):
        rep = rid(f"rep{i}")
        rows.append(record(f"rep{i}", dup_cluster=rep))
        rows += [record(f"dup{i}-{k}", dup_cluster=rep) for k in range(2)]
    kept = split(frame(rows)).kept
    assert (kept.groupby("dup_cluster")["split"].nunique() == 1).all()
    assert kept["split"].nunique() == 3


def test_augmented_records_follow_their_parent():
    rows = [record(f"r{i}") for i in range(150)]
    rows += [record(f"aug{i}-{k}", parents=[rid(f"r{i}")]) for i in range(150) for k in range(2)]
    assigned = split_of(frame(rows))
    for i in range(150):
        assert assigned[rid(f"aug{i}-0")] == assigned[rid(f"aug{i}-1")] == assigned[rid(f"r{i}")]


def test_missing_grouping_columns_are_allowed():
    rows = [record(f"r{i}") for i in range(20)]
    batch = frame(rows).drop(columns=["conversation_id", "parents"])
    assert len(split(batch).kept) == 20


# ------------------------------------------------------------------ ratios
def test_ratios_are_roughly_respected_on_2000_records():
    kept = split(frame([record(f"r{i}") for i in range(2000)])).kept
    fractions = kept["split"].value_counts(normalize=True)
    assert fractions["train"] == pytest.approx(0.8, abs=0.03)
    assert fractions["val"] == pytest.approx(0.1, abs=0.02)
    assert fractions["test"] == pytest.approx(0.1, abs=0.02)


def test_each_stratum_gets_the_ratios_in_expectation():
    kept = split(frame([record(f"r{i}") for i in range(2000)])).kept
    report = split_report(kept)
    for label in LABELS:
        row = report["strata"][label]
        n = sum(row.values())
        assert n > 300
        assert row["train"] / n == pytest.approx(0.8, abs=0.06)


def test_custom_ratios_and_a_zero_ratio_split_is_never_used():
    batch = frame([record(f"r{i}") for i in range(1000)])
    kept = split(batch, ratios={"train": 0.5, "val": 0.0, "test": 0.5}).kept
    assert set(kept["split"]) == {"train", "test"}
    assert (kept["split"] == "train").mean() == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    "ratios",
    [
        {"train": 0.8, "val": 0.1},  # sums to 0.9
        {"train": 1.2, "val": -0.1, "test": -0.1},
        {"train": 0.8, "dev": 0.2},
        {"train": "0.8", "test": 0.2},
        {},
        [0.8, 0.1, 0.1],
    ],
)
def test_bad_ratios_raise_config_error_naming_split_ratios(ratios):
    with pytest.raises(ConfigError, match=r"split\.ratios"):
        split(frame([record("r0")]), ratios=ratios)


def test_ratios_summing_to_one_within_float_error_are_accepted():
    kept = split(frame([record("r0")]), ratios={"train": 0.7, "val": 0.2, "test": 0.1}).kept
    assert kept["split"].iloc[0] in {"train", "val", "test"}


# ------------------------------------------------------------------ report, runner
def test_split_report_counts_per_split_and_stratum_and_lists_missing():
    df = frame(
        [
            {"id": "a", "source": "chat_logs", "label": "账单查询", "split": "train"},
            {"id": "b", "source": "chat_logs", "label": "账单查询", "split": "test"},
            {"id": "c", "source": "chat_logs", "label": "积分兑换", "split": "train"},
            {"id": "d", "source": "bank_faq", "label": None, "split": "val"},
        ]
    )
    assert split_report(df) == {
        "stratify_by": "label",
        "total": 4,
        "splits": {"train": 2, "val": 1, "test": 1},
        "fractions": {"train": 0.5, "val": 0.25, "test": 0.25},
        "strata": {
            "bank_faq": {"train": 0, "val": 1, "test": 0},
            "积分兑换": {"train": 1, "val": 0, "test": 0},
            "账单查询": {"train": 1, "val": 0, "test": 1},
        },
        "strata_missing_splits": {
            "bank_faq": ["train", "test"],
            "积分兑换": ["val", "test"],
            "账单查询": ["val"],
        },
    }


def test_split_runs_through_the_runner_and_rejects_nothing():
    batch = frame([record(f"r{i}") for i in range(50)])
    params = {"ratios": {"train": 0.8, "val": 0.1, "test": 0.1}, "seed": 42, "stratify_by": "label"}
    result = apply_op(batch, OpCall("split", params), "split")
    assert result.rejected.empty
    assert list(result.kept["id"]) == list(batch["id"])
    assert result.kept["split"].isin(["train", "val", "test"]).all()
