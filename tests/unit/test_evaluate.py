"""Scoring predictions: every line scored or rejected with a reason; figures match scikit-learn's definitions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ftdata.evaluate import (
    LabelSet,
    evaluate,
    first_wrong_level,
    label_set,
    normalise_label,
    parse_line,
)

BILL = "账户问题>账单>账单查询"
LOSS = "账户问题>卡片>挂失补卡"
FREEZE = "账户问题>卡片>冻结解冻"
REDEEM = "产品问题>积分规则>兑换流程"
LABELS = LabelSet([BILL, LOSS, FREEZE, REDEEM], "test labels")


def records() -> pd.DataFrame:
    rows = [
        ("t1", "test", BILL),
        ("t2", "test", BILL),
        ("t3", "test", LOSS),
        ("t4", "test", FREEZE),
        ("t5", "test", REDEEM),
        ("t6", "test", None),
        ("r1", "train", BILL),
    ]
    return pd.DataFrame(
        [
            {
                "id": i,
                "split": s,
                "label": lbl,
                "source": "unit",
                "locator": f"raw.jsonl:{n}",
                "messages": [],
                "text": None,
            }
            for n, (i, s, lbl) in enumerate(rows, start=1)
        ]
    )


def lines(*rows) -> list[tuple[str, str]]:
    return [
        (f"p.jsonl:{n}", r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
        for n, r in enumerate(rows, 1)
    ]


def test_each_prediction_line_is_scored_or_rejected_with_its_reason():
    result = evaluate(
        records(),
        lines(
            {"id": "t1", "prediction": BILL},
            {"id": "t2", "prediction": REDEEM},
            {
                "id": "t3",
                "response": {
                    "choices": [{"message": {"role": "assistant", "content": f"意图：{FREEZE}"}}]
                },
            },
            {
                "id": "t4",
                "messages": [
                    {"role": "user", "content": "卡冻结了"},
                    {"role": "assistant", "content": "「冻结解冻」"},
                ],
            },
            {"id": "t5", "prediction": "产品问题>积分规则>积分转赠"},
            {"id": "t6", "prediction": BILL},
            {"id": "r1", "prediction": BILL},
            {"id": "nope", "prediction": BILL},
            {"id": "t1", "prediction": LOSS},
            '{"id": "t5", "prediction": ',
            {"id": "t5", "response": "抱歉，我不确定。"},
        ),
        LABELS,
    )
    counts = result.counts
    assert counts.n_in == 11 and counts.out == 4 and counts.balanced()
    assert dict(counts.rejected) == {
        "unknown_label": 2,
        "no_reference_label": 1,
        "not_in_test_split": 1,
        "unknown_id": 1,
        "duplicate_id": 1,
        "malformed_json": 1,
    }
    details = dict(zip(result.rejects["reason"], result.rejects["detail"], strict=True))
    assert list(result.rejects["detail"])[0].startswith("p.jsonl:5: field 'prediction'")
    assert details["unknown_label"].startswith("p.jsonl:11: response names no single label")
    assert "split 'train'" in details["not_in_test_split"]
    assert "already predicted at p.jsonl:1" in details["duplicate_id"]
    assert list(result.rejects["raw"])[5] == '{"id": "t5", "prediction": '  # the raw line, whole


def test_figures_follow_the_definitions_at_every_taxonomy_level():
    result = evaluate(
        records(),
        lines(
            {"id": "t1", "prediction": BILL},
            {"id": "t2", "prediction": REDEEM},  # wrong from level 1
            {"id": "t3", "prediction": FREEZE},  # wrong at level 3 only
            {"id": "t4", "prediction": FREEZE},
            {"id": "t5", "prediction": REDEEM},
        ),
        LABELS,
    )
    m = result.metrics
    assert m["scored"] == 5 and m["labelled_split_records"] == 5 and m["coverage"] == 1.0
    assert m["levels"]["1"]["accuracy"] == 0.8
    assert m["levels"]["2"]["accuracy"] == 0.8
    assert m["levels"]["3"]["accuracy"] == 0.6 == m["accuracy"]
    bill = m["levels"]["3"]["labels"][BILL]
    assert bill == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    freeze = m["levels"]["3"]["labels"][FREEZE]
    assert freeze == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    # macro-F1: mean over the four labels seen (bill .6667, loss 0, freeze .6667, redeem .6667)
    assert m["macro_f1"] == pytest.approx(0.5, abs=1e-4)
    assert result.confusions[3]["labels"] == sorted([BILL, FREEZE, LOSS, REDEEM])
    assert sum(map(sum, result.confusions[3]["matrix"])) == 5
    assert {"actual": LOSS, "predicted": FREEZE} in result.confusion_rows[3]
    assert result.confusion_rows[1] == [
        {"actual": a, "predicted": p}
        for a, p in [
            ("账户问题", "账户问题"),
            ("账户问题", "产品问题"),
            ("账户问题", "账户问题"),
            ("账户问题", "账户问题"),
            ("产品问题", "产品问题"),
        ]
    ]


def test_misclassified_records_become_hard_examples_traced_to_both_lines():
    result = evaluate(
        records(),
        lines({"id": "t2", "prediction": REDEEM}, {"id": "t3", "prediction": FREEZE}),
        LABELS,
    )
    hard = {h["id"]: h for h in result.hard_examples}
    assert set(hard) == {"t2", "t3"}
    assert hard["t3"]["label"] == LOSS and hard["t3"]["prediction"] == FREEZE
    assert hard["t3"]["wrong_from_level"] == 3 and hard["t2"]["wrong_from_level"] == 1
    assert (
        hard["t3"]["locator"] == "raw.jsonl:3" and hard["t3"]["prediction_locator"] == "p.jsonl:2"
    )
    coarse = evaluate(
        records(),
        lines({"id": "t2", "prediction": REDEEM}, {"id": "t3", "prediction": FREEZE}),
        LABELS,
        hard_level=1,
    )
    assert [h["id"] for h in coarse.hard_examples] == ["t2"]


def test_same_lines_give_identical_results_whatever_their_order():
    rows = [
        {"id": f"t{i}", "prediction": p}
        for i, p in zip(range(1, 6), [BILL, REDEEM, FREEZE, FREEZE, REDEEM], strict=True)
    ]
    a = evaluate(records(), lines(*rows), LABELS)
    b = evaluate(records(), lines(*reversed(rows)), LABELS)
    assert a.metrics == b.metrics and a.confusion_rows == b.confusion_rows
    assert [h["id"] for h in a.hard_examples] == [h["id"] for h in b.hard_examples]


def test_no_scorable_line_gives_empty_figures_not_an_error():
    result = evaluate(records(), lines({"id": "nope", "prediction": BILL}), LABELS)
    assert result.metrics["scored"] == 0 and result.metrics["accuracy"] is None
    assert result.hard_examples == [] and result.counts.balanced()


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        (f" {BILL}。", BILL),
        ("账户问题 > 卡片 > 挂失补卡", LOSS),
        (f"这是{REDEEM}类问题", REDEEM),
        ("冻结解冻", FREEZE),  # a leaf name that only one label has
        (f"{BILL} 或 {LOSS}", None),  # two labels: not one answer
        ("账户问题", None),  # an inner node is not a label
    ],
)
def test_a_chat_reply_becomes_a_label_only_when_it_names_exactly_one(reply, label):
    line = parse_line(
        "p.jsonl:1", json.dumps({"id": "t1", "response": reply}, ensure_ascii=False), LABELS
    )
    assert line.label == label
    assert (line.reason is None) == (label is not None)


def test_label_set_comes_from_the_taxonomy_when_params_have_one():
    taxonomy = {
        "name": "t",
        "version": "1",
        "nodes": {"账户问题": {"description": "d", "children": {"账单": {"description": "d"}}}},
    }
    from_tax = label_set({"taxonomy": taxonomy}, records())
    assert from_tax.labels == ["账户问题>账单"] and "taxonomy t 1" in from_tax.origin
    from_records = label_set({}, records())
    assert from_records.labels == sorted({BILL, LOSS, FREEZE, REDEEM})


def test_helpers():
    assert normalise_label("「账户问题 >账单」") == "账户问题>账单"
    assert first_wrong_level(BILL, BILL) is None
    assert first_wrong_level(LOSS, FREEZE) == 3
