"""PII outside message text: meta (nested), ids, labels, annotations, review files and rejects.

Unit tests of ftdata/privacy/fields.py and privacy.rejects.rejects_frame, then the real stage
entry points on a small project (tests/miniproject.py): ingest with and without
``ingest.keep_raw_rejects``, and a build whose ``clean.ops`` leaves ``redact_pii``
out, which the export boundary must still keep private.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq

from ftdata.io import read_records
from ftdata.ops.feedback import review_candidates
from ftdata.ops.split import group_keys
from ftdata.privacy.fields import FieldRedactor, redact_new_records, write_review
from ftdata.privacy.rejects import rejects_frame
from ftdata.reasons import Reason
from ftdata.record import new_record
from tests.miniproject import balanced, build, make_project, metrics, rejects, run_stage, source_cfg

PHONE, PHONE2, EMAIL, ID_CARD = (
    "13812345678",
    "13987654321",
    "li.wei@example.com",
    "11010519491231002X",
)
PLANTED = (PHONE, PHONE2, EMAIL, ID_CARD)


def _no_planted(text: str) -> list[str]:
    return [v for v in PLANTED if v in text]


def rec(**extra) -> dict:
    base = new_record(
        source="crm",
        source_kind="logs",
        license="internal-use-only",
        locator="data/raw/crm.jsonl:1",
        raw=json.dumps(extra, sort_keys=True, default=str),
        messages=[
            {"role": "user", "content": "账单怎么查？"},
            {"role": "assistant", "content": "登录手机银行查看。"},
        ],
        conversation_id=extra.pop("conversation_id", None),
        meta=extra.pop("meta", None),
        label=extra.pop("label", None),
    )
    return {**base, **extra}


# ---------------------------------------------------------------- fields
def test_meta_values_are_redacted_nested_in_lists_and_as_json_numbers():
    meta = {
        "caller": PHONE,
        "contact": {"email": EMAIL, "backup": [f"tel {PHONE2}", "none"]},
        "caller_number": int(PHONE),  # a phone exported as a JSON number
        "channel": "app",
        "csat": 5,
    }
    new, kinds = FieldRedactor().record(rec(meta=meta))
    out = json.loads(new["meta"])
    assert out == {
        "caller": "<PHONE>",
        "contact": {"email": "<EMAIL>", "backup": ["tel <PHONE>", "none"]},
        "caller_number": "<PHONE>",
        "channel": "app",
        "csat": 5,
    }
    assert kinds == ["email", "phone"]


def test_a_record_without_pii_comes_back_unchanged_byte_for_byte():
    original = rec(meta={"channel": "app", "agent_id": "A-0042", "csat": 4}, conversation_id="s-77")
    new, kinds = FieldRedactor().record(original)
    assert kinds == [] and new == original and new["meta"] is original["meta"]


def test_conversation_id_holding_a_phone_becomes_a_pseudonym_without_the_number():
    a = FieldRedactor().record(rec(conversation_id=PHONE))[0]["conversation_id"]
    again = FieldRedactor().record(rec(conversation_id=PHONE))[0]["conversation_id"]
    other = FieldRedactor().record(rec(conversation_id=PHONE2))[0]["conversation_id"]
    assert a.startswith("crm:<PHONE>#") and PHONE not in a
    assert a == again  # the same raw id: the same conversation
    assert a != other  # two numbers do not collapse into one group
    assert not any(ch.isdigit() for ch in a.split("#")[1])  # no number for a detector to see


def test_pseudonyms_and_placeholders_are_stable_under_a_second_pass():
    first, kinds = FieldRedactor().record(
        rec(conversation_id=f"sess-{PHONE}", meta={"raw_id": f"sess-{PHONE}", "email": EMAIL})
    )
    second, again = FieldRedactor().record(first)
    assert kinds == ["email", "phone"] and again == [] and second == first


def test_raw_id_in_meta_gets_the_conversation_ids_pseudonym_and_raw_label_is_masked():
    records = [
        rec(conversation_id=PHONE, meta={"raw_id": PHONE, "raw_label": f"回拨{PHONE2}"}),
    ]
    assert redact_new_records(records, ("phone", "email")) == 1
    out = records[0]
    meta = json.loads(out["meta"])
    assert out["conversation_id"] == f"crm:{meta['raw_id']}"
    assert meta["raw_label"] == "回拨<PHONE>"
    assert out["pii_redacted"] is True and out["pii_types"] == ["phone"]


def test_the_pseudonym_key_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("FTDATA_PII_KEY", raising=False)
    unkeyed = FieldRedactor().record(rec(conversation_id=PHONE))[0]["conversation_id"]
    monkeypatch.setenv("FTDATA_PII_KEY", "s3cret")
    keyed = FieldRedactor().record(rec(conversation_id=PHONE))[0]["conversation_id"]
    assert unkeyed != keyed and keyed.startswith("crm:<PHONE>#")


def test_split_grouping_still_holds_after_ids_are_pseudonymised():
    records = [
        rec(conversation_id=PHONE, label="a"),
        rec(conversation_id=PHONE, label="b"),  # same session, second turn pair
        rec(conversation_id=PHONE2, label="c"),
        rec(conversation_id="plain-1", label="d"),
    ]
    records[1]["id"], records[2]["id"], records[3]["id"] = "1" * 16, "2" * 16, "3" * 16
    redact_new_records(records, ("phone",))
    keys = group_keys(pd.DataFrame(records))
    assert keys[0] == keys[1] and len({keys[0], keys[2], keys[3]}) == 3
    assert _no_planted(" ".join(keys)) == []


def test_feedback_label_annotations_and_every_other_free_text_column_are_redacted():
    record = rec(
        label=f"投诉>{PHONE}",
        meta={"comment": f"客户邮箱 {EMAIL}", "corrected_intent": f"回电 {PHONE2}"},
        annotations=[
            {"annotator": EMAIL, "label": "a>b", "guideline_version": "1", "note": f"id {ID_CARD}"}
        ],
        augment_note=f"from {PHONE}",
        pii_types=["phone"],
        pii_redacted=True,
    )
    frame, found = FieldRedactor().frame(pd.DataFrame([record]))
    out = frame.to_dict("records")[0]
    assert _no_planted(json.dumps(out, ensure_ascii=False, default=str)) == []
    assert out["label"] == "投诉><PHONE>"
    assert out["annotations"][0]["annotator"] == "<EMAIL>"
    assert found == [["email", "id_card", "phone"]]
    assert out["pii_types"] == ["email", "id_card", "phone"] and out["pii_redacted"] is True
    # structural columns are never touched
    assert (out["id"], out["locator"], out["source"]) == (
        record["id"],
        record["locator"],
        record["source"],
    )


def test_the_boundary_pass_adds_a_lineage_entry_only_where_it_changed_something():
    clean = rec(meta={"channel": "app"}, pii_types=[], pii_redacted=False)
    dirty = rec(meta={"caller": PHONE}, pii_types=[], pii_redacted=False)
    dirty["id"] = "f" * 16
    entry = {"stage": "export", "op": "redact_fields", "params_hash": "x"}
    frame, found = FieldRedactor().frame(pd.DataFrame([clean, dirty]), entry)
    assert found == [[], ["phone"]]
    assert frame["ops"].tolist() == [[], [entry]]
    assert frame["pii_redacted"].tolist() == [False, True]


def test_review_files_hold_no_pii_and_count_what_they_had_to_redact(tmp_path):
    held = pd.DataFrame(
        [
            rec(
                conversation_id=PHONE,
                label=None,
                meta={"raw_id": PHONE, "comment": f"请回拨 {PHONE2}", "flag": "thumbs_down"},
            )
        ]
    )
    rows = review_candidates(held)
    assert PHONE in json.dumps(rows, ensure_ascii=False)  # the raw row: what must not be written
    path = tmp_path / "review" / "feedback_candidates.jsonl"
    assert write_review(path, rows, ("phone", "email")) == 1
    text = path.read_text(encoding="utf-8")
    assert _no_planted(text) == []
    row = json.loads(text)
    assert row["comment"] == "请回拨 <PHONE>" and row["flag"] == "thumbs_down"
    assert row["conversation_id"] == f"crm:{row['raw_id']}"


# ---------------------------------------------------------------- rejects
def _ingest_reject(raw: str) -> dict:
    return {
        "id": "a" * 16,
        "source": "crm",
        "locator": "data/raw/crm.jsonl:7",
        "reason": Reason.MALFORMED_JSON,
        "detail": "data/raw/crm.jsonl:7: Expecting ',' delimiter",
        "raw": raw,
    }


def test_ingest_rejects_keep_their_locator_and_redact_the_raw_line_by_default():
    raw = f'{{"question": "卡号{ID_CARD}" "answer": "回拨{PHONE}"}}'
    row = rejects_frame("ingest", pd.DataFrame([_ingest_reject(raw)])).iloc[0]
    assert row["locator"] == "data/raw/crm.jsonl:7"
    assert row["detail"].startswith("data/raw/crm.jsonl:7: ")
    assert row["record"] == '{"question": "卡号<ID_CARD>" "answer": "回拨<PHONE>"}'


def test_keep_raw_rejects_keeps_the_raw_line_as_read():
    raw = f'{{"question": "卡号{ID_CARD}" "answer": "回拨{PHONE}"}}'
    row = rejects_frame("ingest", pd.DataFrame([_ingest_reject(raw)]), keep_raw=True).iloc[0]
    assert row["record"] == raw


def test_rejects_of_any_stage_hold_no_pii_even_when_rejected_before_redact_pii():
    rejected = rec(conversation_id=PHONE, meta={"caller": PHONE2, "email": EMAIL})
    rejected["messages"] = [{"role": "user", "content": f"我的身份证 {ID_CARD}"}]
    rejected.update(reason=Reason.NO_SUBSTANCE, detail=f"turn quoted: {PHONE}")
    row = rejects_frame("clean", pd.DataFrame([rejected])).iloc[0]
    assert _no_planted(row["record"] + row["detail"]) == []
    body = json.loads(row["record"])
    assert body["messages"][0]["content"] == "我的身份证 <ID_CARD>"
    assert body["locator"] == rejected["locator"] and body["id"] == rejected["id"]


# ---------------------------------------------------------------- through the stages
def _raw_lines() -> str:
    good = [
        {
            "log_id": f"L{i}",
            "session": PHONE if i < 2 else PHONE2,
            "query": q,
            "reply": a,
            "caller": PHONE if i < 2 else PHONE2,
            "contact": {"email": EMAIL},
            "channel": "app",
        }
        for i, (q, a) in enumerate(
            [
                ("信用卡账单怎么查询？", "登录手机银行，进入信用卡账单页面即可查看本期账单。"),
                ("积分可以兑换什么礼品？", "积分可以在积分商城兑换航空里程、商品和年费。"),
                ("How do I report a lost card?", "Call the hotline or freeze it in the app."),
                ("年费可以减免吗？", "每年刷卡满六次即可减免次年年费。"),
            ]
        )
    ]
    lines = [json.dumps(g, ensure_ascii=False) for g in good]
    lines.insert(2, f'{{"log_id": "L9", "query": "回拨{PHONE}" "reply": "{EMAIL}"}}')  # malformed
    return "\n".join(lines) + "\n"


def _project(tmp_path, **sections):
    cfg = source_cfg(
        "data/raw/crm.jsonl",
        fields={
            "id": "log_id",
            "conversation_id": "session",
            "question": "query",
            "answer": "reply",
            "meta": ["caller", "contact", "channel"],
        },
    )
    sections.setdefault("ingest", {"max_reject_ratio": 0.5})
    return make_project(tmp_path, {"crm": cfg}, {"data/raw/crm.jsonl": _raw_lines()}, **sections)


def test_ingest_stage_redacts_ids_and_meta_and_rejects_unless_keep_raw_rejects(
    tmp_path, monkeypatch
):
    project = _project(tmp_path / "default")
    assert run_stage(project, monkeypatch, "ingest", "crm") == 0
    m = metrics(project, "ingest", "crm")
    assert balanced(m) and m["pii_fields_redacted"] == 4
    out = pq.read_table(project / "data/interim/ingest/crm.parquet")
    assert _no_planted(json.dumps(out.select(["conversation_id", "meta"]).to_pylist())) == []
    records = read_records(project / "data/interim/ingest/crm.parquet")
    assert records["pii_redacted"].tolist() == [True] * 4
    [reject] = rejects(project, "ingest", "crm")
    assert reject["locator"] == "data/raw/crm.jsonl:3" and _no_planted(reject["record"]) == []

    opted_in = _project(
        tmp_path / "raw", ingest={"max_reject_ratio": 0.5, "keep_raw_rejects": True}
    )
    assert run_stage(opted_in, monkeypatch, "ingest", "crm") == 0
    [raw_reject] = rejects(opted_in, "ingest", "crm")
    assert PHONE in raw_reject["record"] and EMAIL in raw_reject["record"]
    # the opt-in is for rejects only: the records are as private as before
    kept = pq.read_table(opted_in / "data/interim/ingest/crm.parquet")
    assert _no_planted(json.dumps(kept.select(["conversation_id", "meta"]).to_pylist())) == []


def test_export_keeps_outputs_private_when_clean_ops_leave_redact_pii_out(tmp_path, monkeypatch):
    from tests.miniproject import _base_params

    ops = [op for op in _base_params()["clean"]["ops"] if op != "redact_pii"]
    project = _project(tmp_path, clean={"ops": ops}, ingest={"max_reject_ratio": 0.5})
    # plant PII in content too: the clean chain will not redact it now
    raw = (project / "data/raw/crm.jsonl").read_text(encoding="utf-8")
    raw = raw.replace("即可查看本期账单。", f"即可查看本期账单，或致电 {PHONE}。")
    (project / "data/raw/crm.jsonl").write_text(raw, encoding="utf-8")
    statuses = build(project, monkeypatch, until="export")
    assert set(statuses.values()) == {0}, statuses
    m = metrics(project, "export")
    assert m["residual_pii"]["records"] >= 1 and m["residual_pii"]["types"]["phone"] >= 1
    for path in sorted((project / "data/processed").rglob("*")):
        if path.suffix == ".parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
        elif path.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            continue
        assert _no_planted(text) == [], path
    exported = read_records(project / "data/processed/records.parquet")
    assert any(
        "export" == e["stage"] and e["op"] == "redact_fields"
        for ops_ in exported["ops"]
        for e in ops_
    )
    assert all(exported["pii_redacted"])


def test_a_build_with_redact_pii_in_clean_leaves_no_residual_pii_for_the_export(
    tmp_path, monkeypatch
):
    project = _project(tmp_path)
    statuses = build(project, monkeypatch, until="export")
    assert set(statuses.values()) == {0}, statuses
    m = metrics(project, "export")
    assert m["residual_pii"]["records"] == 0 and set(m["residual_pii"]["types"].values()) == {0}


def test_record_ids_quoted_in_a_reject_detail_are_not_mistaken_for_bank_cards():
    rep = "6222021234567894"  # 16 hex digits, all decimal, Luhn-valid: an id, not a card here
    rejected = rec()
    rejected.update(reason=Reason.NEAR_DUPLICATE, detail=f"near duplicate of {rep} (jaccard 0.8)")
    rejected["duplicate_of"] = rep
    row = rejects_frame("dedup", pd.DataFrame([rejected])).iloc[0]
    assert row["detail"] == f"near duplicate of {rep} (jaccard 0.8)"
    assert row["duplicate_of"] == rep
    leaked = rejects_frame(
        "clean", pd.DataFrame([{**rejected, "detail": f"matched '回拨{PHONE}' in messages[0]"}])
    ).iloc[0]
    assert leaked["detail"] == "matched '回拨<PHONE>' in messages[0]"
