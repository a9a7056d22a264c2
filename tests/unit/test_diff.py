"""Record-level diff on small frames: row hashes, matching by id, fates of removed records, groupings."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from ftdata.diff import diff_snapshots, hash_rows, to_markdown
from ftdata.io import records_to_table
from ftdata.privacy.rejects import rejects_frame
from tests.helpers import chat, frame

LABEL_BILL = "账户问题>账单>账单查询"
LABEL_POINTS = "产品问题>积分规则>兑换流程"


def _records(*recs: dict) -> pa.Table:
    return records_to_table(frame(*recs))


def _rejects(stage: str, reason: str, *recs: dict, detail: str = "why") -> pa.Table:
    df = frame(*recs).assign(reason=reason, detail=detail)
    out = rejects_frame(stage, df)
    return pa.Table.from_pandas(out.astype(object).where(out.notna(), None), preserve_index=False)


def _concat(*tables: pa.Table) -> pa.Table:
    schema = pa.schema([(n, pa.string()) for n in tables[0].column_names])
    return pa.concat_tables([t.cast(schema) for t in tables])


@pytest.fixture
def recs() -> dict[str, dict]:
    return {
        "a": chat(
            ("user", "账单怎么查？"),
            ("assistant", "登录手机银行查看账单。"),
            line=1,
            label=LABEL_BILL,
            split="train",
        ),
        "b": chat(
            ("user", "积分怎么兑换？"),
            ("assistant", "在积分商城兑换。"),
            line=2,
            label=LABEL_POINTS,
            split="train",
        ),
        "c": chat(
            ("user", "How do I pay my bill?"),
            ("assistant", "Use autopay."),
            line=3,
            label=LABEL_BILL,
            split="train",
        ),
        "d": chat(
            ("user", "年费多少？"),
            ("assistant", "普卡年费100元。"),
            line=4,
            label=None,
            split="test",
        ),
    }


# ---------------------------------------------------------------- row hashes
def test_equal_values_hash_equal_whatever_the_chunking_and_slicing():
    values = [
        [{"role": "user", "content": "你好"}],
        [],
        None,
        [{"role": "assistant", "content": "x"}],
    ]
    typ = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    whole = hash_rows(pa.array(values, typ))
    chunked = hash_rows(pa.chunked_array([pa.array(values[:2], typ), pa.array(values[2:], typ)]))
    sliced = hash_rows(pa.array([values[0], *values], typ).slice(1))
    assert whole.tolist() == chunked.tolist() == sliced.tolist()


def test_row_hash_sees_order_content_and_null_versus_empty():
    typ = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    u, a = {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}
    h = hash_rows(
        pa.array(
            [[u, a], [a, u], [u, {"role": "assistant", "content": "b"}], [], None, [u, a]], typ
        )
    )
    assert h[0] == h[5]
    assert len({h[0], h[1], h[2], h[3], h[4]}) == 5


def test_nan_and_null_scores_hash_alike_and_differ_from_values():
    h = hash_rows(pa.array([np.nan, None, 0.0, 1.5], pa.float64(), from_pandas=False))
    assert h[0] == h[1] and h[2] != h[0] and h[3] != h[2]


def test_struct_fields_are_position_sensitive():
    typ = pa.struct([("x", pa.string()), ("y", pa.string())])
    h = hash_rows(pa.array([{"x": "1", "y": "2"}, {"x": "2", "y": "1"}, {"x": "1", "y": "2"}], typ))
    assert h[0] == h[2] and h[0] != h[1]


# ---------------------------------------------------------------- the diff
def test_identical_snapshots_have_no_changes(recs):
    table = _records(*recs.values())
    diff = diff_snapshots(table, table, base="v1", head="v2")
    assert diff.counts["unchanged"] == 4
    assert {
        k: v
        for k, v in diff.counts.items()
        if v and k not in ("base_records", "head_records", "unchanged")
    } == {}
    assert diff.fields == {} and diff.by_source == {} and diff.split_moves == []


def test_added_removed_changed_moved_relabelled_and_rejected(recs):
    a, b, c, d = recs["a"], recs["b"], recs["c"], recs["d"]
    b2 = {
        **b,
        "messages": [
            b["messages"][0],
            {"role": "assistant", "content": "在积分商城用积分兑换礼品。"},
        ],
    }
    c2 = {**c, "split": "val", "label": LABEL_POINTS}
    new = chat(
        ("user", "分期手续费怎么算？"),
        ("assistant", "按期收取手续费。"),
        source="complaints",
        line=9,
        label=LABEL_BILL,
        split="train",
    )
    base = _records(a, b, c, d)
    head = _records(b2, c2, d, new)
    head_rejects = _rejects(
        "quality", "too_short", a, detail="score_chars 9 < quality.min_chars 24"
    )

    diff = diff_snapshots(base, head, None, head_rejects, base="v1", head="v2", limit=5)

    assert diff.counts == {
        "base_records": 4,
        "head_records": 4,
        "added": 1,
        "removed": 1,
        "changed": 2,
        "unchanged": 1,
        "newly_rejected": 1,
        "newly_rejected_were_exported": 1,
        "no_longer_rejected": 0,
        "reject_reason_changed": 0,
        "split_moves": 1,
        "label_changes": 1,
    }
    assert diff.fields == {"messages": 1, "label": 1, "split": 1}
    assert diff.split_moves == [{"from": "train", "to": "val", "count": 1}]
    assert diff.label_changes == [{"from": LABEL_BILL, "to": LABEL_POINTS, "count": 1}]
    assert diff.by_source == {
        "complaints": {"added": 1},
        "unit": {"changed": 2, "newly_rejected": 1, "removed": 1},
    }
    assert diff.by_reason == {"quality:too_short": {"newly_rejected": 1, "removed_from_export": 1}}
    assert diff.by_label == {LABEL_BILL: {"added": 1, "removed": 1}, LABEL_POINTS: {"changed": 2}}

    ex = diff.examples
    assert [r["id"] for r in ex["added"]["complaints (new)"]] == [new["id"]]
    assert ex["removed"] == {
        "unit (quality:too_short)": [ex["removed"]["unit (quality:too_short)"][0]]
    }
    assert ex["removed"]["unit (quality:too_short)"][0]["id"] == a["id"]
    rejected = ex["newly_rejected"]["quality:too_short"][0]
    assert (rejected["id"], rejected["was_exported"], rejected["label"]) == (
        a["id"],
        True,
        LABEL_BILL,
    )
    assert rejected["detail"] == "score_chars 9 < quality.min_chars 24"
    change = ex["changed"]["messages"][0]
    assert change["id"] == b["id"]
    assert (
        change["before"][1]["content"] == "在积分商城兑换。"
        and change["after"][1]["content"] == "在积分商城用积分兑换礼品。"
    )
    assert (
        ex["changed"]["split"][0]["before"] == "train"
        and ex["changed"]["split"][0]["after"] == "val"
    )


def test_a_record_back_from_the_rejects_names_its_old_reason(recs):
    a, b = recs["a"], recs["b"]
    base_rejects = _rejects("dedup", "exact_duplicate", b)
    diff = diff_snapshots(_records(a), _records(a, b), base_rejects, None, limit=5)
    assert diff.counts["added"] == 1 and diff.counts["no_longer_rejected"] == 1
    assert list(diff.examples["added"]) == ["unit (dedup:exact_duplicate)"]
    assert diff.by_reason == {"dedup:exact_duplicate": {"no_longer_rejected": 1}}


def test_removed_without_a_reject_is_dropped(recs):
    diff = diff_snapshots(_records(recs["a"], recs["b"]), _records(recs["a"]), limit=5)
    assert list(diff.examples["removed"]) == ["unit (dropped)"]
    assert diff.by_reason == {}


def test_rejects_without_id_match_by_locator_and_reason_changes_are_counted(recs):
    a, b = recs["a"], recs["b"]
    malformed = _rejects(
        "ingest", "malformed_json", {**b, "id": None, "locator": "data/raw/x.jsonl:7"}
    )
    base_rej = _concat(malformed, _rejects("quality", "repetitive", a))
    head_rej = _concat(malformed, _rejects("quality", "too_short", a))
    diff = diff_snapshots(_records(recs["c"]), _records(recs["c"]), base_rej, head_rej)
    assert diff.counts["newly_rejected"] == 0 and diff.counts["no_longer_rejected"] == 0
    assert diff.counts["reject_reason_changed"] == 1
    assert diff.by_reason == {
        "quality:repetitive": {"reason_changed_from": 1},
        "quality:too_short": {"reason_changed_to": 1},
    }


def test_rejects_of_records_still_exported_are_not_rejections(recs):
    """A stage after export (evaluate) may reject a prediction row of an exported record."""
    a = recs["a"]
    diff = diff_snapshots(_records(a), _records(a), None, _rejects("evaluate", "no_prediction", a))
    assert diff.counts["newly_rejected"] == 0 and diff.by_reason == {}


def test_a_column_new_in_head_is_a_field_change(recs):
    a = recs["a"]
    diff = diff_snapshots(_records(a), _records({**a, "score_new": 0.5}))
    assert diff.counts["changed"] == 1 and diff.fields == {"score_new": 1}
    assert diff.examples["changed"]["score_new"][0]["before"] is None


def test_repeated_ids_are_noted_not_fatal(recs):
    a = recs["a"]
    diff = diff_snapshots(_records(a, a), _records(a), base="v1")
    assert diff.counts["base_records"] == 1
    assert diff.notes == ["v1 records: 1 rows repeat an id; the first of each is compared"]


def test_limit_caps_examples_per_group_and_zero_keeps_all(recs):
    base = _records(recs["a"])
    more = [
        chat(("user", f"问题{i}"), ("assistant", f"回答{i}号"), line=10 + i, split="train")
        for i in range(5)
    ]
    head = _records(recs["a"], *more)
    assert len(diff_snapshots(base, head, limit=2).examples["added"]["unit (new)"]) == 2
    assert len(diff_snapshots(base, head, limit=0).examples["added"]["unit (new)"]) == 5


def test_markdown_and_json_carry_the_same_counts(recs):
    head_rejects = _rejects("quality", "too_short", recs["a"], detail="too short")
    diff = diff_snapshots(
        _records(recs["a"], recs["b"]),
        _records(recs["b"]),
        None,
        head_rejects,
        base="v1",
        head="v2",
    )
    md = to_markdown(diff)
    assert md.startswith("## Records: v1 → v2")
    assert "| quality:too_short | 1 | 1 | 0 | 0 | 0 | 0 |" in md
    assert "**-1 removed**" in md
    assert json.loads(json.dumps(diff.as_dict()))["counts"] == diff.counts


def test_low_and_high_cardinality_strings_hash_alike():
    """Base and head may take different paths (dictionary or direct); equal strings must agree."""
    low = pa.array(["user", "assistant", None] * 3000)
    high = pa.array(["user", "assistant", None] + [f"text {i}" for i in range(8997)])
    assert hash_rows(low)[:3].tolist() == hash_rows(high)[:3].tolist()


def test_a_derived_record_takes_its_parents_fate(recs):
    """Augmented children are not rejected when their parent is: they are just not generated."""
    a, b = recs["a"], recs["b"]
    child_a = {
        **chat(("user", "账单如何查询？"), ("assistant", "登录手机银行查看账单。"), line=1),
        "parents": [a["id"]],
    }
    child_a["locator"] += "#augment/synonym/0"
    child_b = {
        **chat(("user", "积分如何兑换？"), ("assistant", "在积分商城兑换。"), line=2),
        "parents": [b["id"]],
    }
    child_c = {
        **chat(("user", "How to pay?"), ("assistant", "Use autopay."), line=3),
        "parents": [recs["c"]["id"]],
    }
    base = _records(a, b, child_a, child_b, recs["c"], child_c)
    head = _records(recs["c"])
    head_rejects = _rejects("quality", "too_short", a)
    diff = diff_snapshots(base, head, None, head_rejects, limit=5)
    fates = {r["id"]: r["fate"] for rows in diff.examples["removed"].values() for r in rows}
    assert fates == {
        a["id"]: "quality:too_short",
        child_a["id"]: "parent quality:too_short",
        b["id"]: "dropped",
        child_b["id"]: "parent dropped",
        child_c["id"]: "not regenerated",  # its parent is still exported
    }
    assert diff.by_reason == {
        "quality:too_short": {"derived_removed": 1, "newly_rejected": 1, "removed_from_export": 1}
    }
