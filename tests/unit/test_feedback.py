"""Production feedback never reaches the exports without an adjudicated label."""

from __future__ import annotations

import json

from ftdata.ops.feedback import hold_for_review, review_candidates
from ftdata.runner import OpCall, apply_op
from tests.helpers import chat, frame


def feedback(line: int, label=None, adjudicated=None, origin=None, flag="thumbs_down") -> dict:
    rec = chat(
        ("user", "积分过期后还能找回来吗"),
        ("assistant", "不能恢复。"),
        source="feedback_log",
        line=line,
        label=label,
    )
    meta = {
        "flag": flag,
        "corrected_intent": "产品问题>积分规则>有效期管理",
        "raw_id": f"fb-{line}",
    }
    if adjudicated:
        meta["adjudicated_label"] = adjudicated
    rec.update(
        source_kind="feedback", meta=json.dumps(meta, ensure_ascii=False), label_origin=origin
    )
    return rec


def test_unadjudicated_feedback_is_held_with_its_log_line_and_the_rest_passes():
    logs = chat(
        ("user", "账单怎么查"), ("assistant", "在APP查询。"), line=7, label="账户问题>账单>账单查询"
    )
    batch = frame(
        logs,
        feedback(1),  # no label at all
        feedback(
            2, label="产品问题>积分规则>有效期管理", adjudicated="产品问题>积分规则>有效期管理"
        ),  # raw adjudication
        feedback(
            3, label="产品问题>积分规则>兑换流程", origin="consensus"
        ),  # annotators agreed: not enough
        feedback(
            4, label="产品问题>积分规则>有效期管理", origin="adjudicated"
        ),  # the review queue decided
    )
    result = apply_op(
        batch,
        OpCall("hold_for_review", {"kinds": ["feedback"], "label_origins": ["adjudicated"]}),
        "export",
    )
    assert sorted(result.kept["locator"]) == sorted(
        [logs["locator"], "data/raw/feedback_log.jsonl:2", "data/raw/feedback_log.jsonl:4"]
    )
    assert list(result.rejected["reason"]) == ["awaiting_review"] * 2
    assert list(result.rejected["detail"])[0] == (
        "data/raw/feedback_log.jsonl:1: feedback record (thumbs_down) has no adjudicated label; "
        "queued in data/processed/review/feedback_candidates.jsonl"
    )
    rows = review_candidates(result.rejected)
    assert [r["locator"] for r in rows] == [
        "data/raw/feedback_log.jsonl:1",
        "data/raw/feedback_log.jsonl:3",
    ]
    assert (
        rows[0]["suggested_label"] == "产品问题>积分规则>有效期管理" and rows[0]["raw_id"] == "fb-1"
    )
    assert rows[0]["flag"] == "thumbs_down" and rows[0]["verdict"] is None


def test_holding_can_be_configured_per_source_kind():
    batch = frame(feedback(1))
    assert len(hold_for_review(batch, kinds=["crowd"]).kept) == 1
    assert len(hold_for_review(batch).rejected) == 1


def test_example_feedback_log_is_what_its_generator_writes():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location(
        "make_feedback_log", ROOT / "tools/make_feedback_log.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    committed = (ROOT / "data/raw/feedback/assistant_2024-09.jsonl").read_text(encoding="utf-8")
    assert committed == "\n".join(tool.make_lines()) + "\n"
    flags = {json.loads(line)["flag"] for line in committed.splitlines()[:3]}
    assert flags == {"thumbs_down", "agent_correction", "escalation"}
