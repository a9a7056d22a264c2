"""No raw PII string survives anywhere under data/processed/ or in the rejects of any stage:
not in message text, not in ids, meta or labels, not in the raw lines ingest rejects keep."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ftdata.secrets_scan import scan_for_secret
from tests.conftest import build, copy_built

pytestmark = pytest.mark.e2e

PII_VALUES = Path(__file__).resolve().parents[1] / "data" / "raw_pii_values.txt"


def _texts_under(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix == ".parquet":
            yield path, json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
        elif path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_no_planted_pii_value_reaches_processed_outputs(built_project):
    values = [v for v in PII_VALUES.read_text(encoding="utf-8").splitlines() if v.strip()]
    assert len(values) >= 50
    raw = "\n".join(t for _, t in _texts_under(built_project / "data/raw"))
    assert sum(v in raw for v in values) == len(values), (
        "the planted values must be in the raw data"
    )
    # rejects are a DVC out too (`dvc push` copies them): redacted like the exports
    for folder in ("data/processed", "data/interim/rejects"):
        for path, text in _texts_under(built_project / folder):
            leaked = [v for v in values if v in text]
            assert not leaked, f"{path}: {leaked[:3]}"


# ---------------------------------------------------------------- PII outside message text
# A source of the kind a new user brings: its meta maps the caller's number and email, its
# conversation id *is* the caller's number, and some lines are malformed with PII inside.
CALLERS = ("13812345678", "15923456789", "17734567890")
EMAILS = ("zhang.min@example.cn", "wang.fang@corp-mail.com", "li.qiang@example.org")
IN_REJECTS = ("11010519491231002X", "6222021234567894")  # only in the malformed lines
CALLS = [
    ("信用卡年费怎么减免？", "每年刷卡满六次即可减免次年年费，金卡以上另有优惠。"),
    ("分期手续费是多少？", "账单分期十二期的月手续费率为百分之零点六，可在手机银行试算。"),
    ("临时额度能用多久？", "临时额度有效期一般为三十天，到期后自动恢复为固定额度。"),
    ("积分什么时候过期？", "消费积分自获得之日起五年内有效，逾期未用将自动清零。"),
    ("卡片丢了怎么办？", "请立即拨打客服热线或在手机银行挂失，挂失后可申请补卡。"),
    (
        "How do I raise my credit limit?",
        "Apply in the mobile app under Card Services; we review within three days.",
    ),
    ("可以提前还款吗？", "可以，提前还清分期本金后，剩余期数的手续费不再收取。"),
    ("境外消费怎么入账？", "境外消费按交易当日汇率折算为人民币，计入本期账单。"),
    (
        "How long does a replacement card take?",
        "A replacement card arrives by registered mail within seven working days.",
    ),
    ("账单日可以修改吗？", "每张卡每年可修改一次账单日，可在手机银行的卡片设置中办理。"),
]


def _callers_source(project: Path) -> None:
    lines = []
    for i, (question, answer) in enumerate(CALLS):
        caller = CALLERS[i % len(CALLERS)]
        lines.append(
            json.dumps(
                {
                    "call_id": f"C{i:03d}",
                    "caller_phone": caller,  # the conversation id
                    "q": question,
                    "a": answer,
                    "caller": caller,
                    "email": EMAILS[i % len(EMAILS)],
                    "channel": "phone",
                },
                ensure_ascii=False,
            )
        )
    lines.insert(3, f'{{"call_id": "C900", "q": "身份证{IN_REJECTS[0]}" "a": "{CALLERS[0]}"}}')
    lines.insert(8, f'{{"call_id": "C901", "q": "卡号{IN_REJECTS[1]}", "a": "{EMAILS[1]}"')
    raw = project / "data/raw/callers/calls.jsonl"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (project / "conf/source/callers.yaml").write_text(
        "path: data/raw/callers/calls.jsonl\nformat: jsonl\nkind: logs\n"
        "license: internal-use-only\nowner: cs-platform-team\ncollected_at: '2024-10-01'\n"
        "description: Call-centre Q/A with the caller's number as the session id.\n"
        "fields:\n  id: call_id\n  conversation_id: caller_phone\n  question: q\n  answer: a\n"
        "  meta: [caller, email, channel]\n",
        encoding="utf-8",
    )
    config = project / "conf/config.yaml"
    text = config.read_text(encoding="utf-8")
    anchor = "  - source@source.feedback_log: feedback_log\n"
    assert anchor in text
    config.write_text(
        text.replace(anchor, anchor + "  - source@source.callers: callers\n"), encoding="utf-8"
    )


def _leaks(folder: Path, values) -> dict[str, list[str]]:
    """Planted values found under ``folder`` (parquet decoded, jsonl/json/html as bytes)."""
    found: dict[str, list[str]] = {}
    for value in values:
        for hit in scan_for_secret(folder, value, include_git=False):
            found.setdefault(hit.path, []).append(value)
    return found


def test_ids_meta_and_rejects_hold_no_pii_and_keep_raw_rejects_brings_back_only_the_raw_lines(
    tmp_path, built_project
):
    project = copy_built(built_project, tmp_path / "project")
    _callers_source(project)
    build(project)
    planted = (*CALLERS, *EMAILS, *IN_REJECTS)
    processed, rejects = project / "data/processed", project / "data/interim/rejects"
    assert _leaks(project / "data/raw/callers", planted).keys() == {"calls.jsonl"}
    assert _leaks(processed, planted) == {}
    assert _leaks(rejects, planted) == {}

    records = pq.read_table(processed / "records.parquet").to_pylist()
    calls = [r for r in records if r["source"] == "callers"]
    assert len(calls) >= 6, "most of the callers' records must reach the export"
    for r in calls:
        meta = json.loads(r["meta"])
        assert (meta["caller"], meta["email"], meta["channel"]) == ("<PHONE>", "<EMAIL>", "phone")
        assert r["conversation_id"].startswith("callers:<PHONE>#")
        assert r["pii_redacted"] is True and {"phone", "email"} <= set(r["pii_types"])
    # One caller = one conversation = one split; three callers = three groups.
    line_of = {f"data/raw/callers/calls.jsonl:{n}": n for n in range(1, 13)}
    by_caller: dict[str, set] = {}
    for r in calls:
        raw_line = (project / "data/raw/callers/calls.jsonl").read_text(encoding="utf-8")
        caller = json.loads(raw_line.splitlines()[line_of[r["locator"]] - 1])["caller_phone"]
        by_caller.setdefault(caller, set()).add((r["conversation_id"], r["split"]))
    assert all(len(v) == 1 for v in by_caller.values()), by_caller
    assert len({next(iter(v))[0] for v in by_caller.values()}) == len(by_caller)
    ingest_rejects = pq.read_table(rejects / "ingest/callers.parquet").to_pylist()
    assert sorted(r["locator"] for r in ingest_rejects) == [
        "data/raw/callers/calls.jsonl:4",
        "data/raw/callers/calls.jsonl:9",
    ]
    export_metrics = json.loads((project / "data/metrics/export.json").read_text())
    assert export_metrics["residual_pii"]["records"] == 0

    conf = project / "conf/ingest/default.yaml"
    conf.write_text(
        conf.read_text(encoding="utf-8").replace(
            "keep_raw_rejects: false", "keep_raw_rejects: true"
        ),
        encoding="utf-8",
    )
    build(project)
    assert _leaks(processed, planted) == {}
    raw_back = _leaks(rejects, planted)
    assert set(raw_back) == {"ingest/callers.parquet"}
    assert set(IN_REJECTS) <= set(raw_back["ingest/callers.parquet"])
