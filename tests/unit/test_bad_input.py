"""Every bad input of docs/bad-input.md, through the real stage entry points.

The reader-level tests (tests/unit/test_ingest_*.py) pin down parsing; these run
the *stages* (in process, on a temp project composed from this repository's
conf/) and check what a user sees: the exit status, the reject written to
data/interim/rejects/ with its stable reason and a detail naming file, line or
row and field, and conservation (in + added = out + rejected) in the metrics.
"""

from __future__ import annotations

import codecs
import json
import re

import pandas as pd
import pytest
import yaml

from ftdata.compose import dump_params
from ftdata.io import read_records
from ftdata.reasons import Reason
from tests.miniproject import balanced, build, make_project, metrics, rejects, run_stage, source_cfg

ZH = [
    ("信用卡账单怎么查询？", "登录手机银行，进入信用卡账单页面即可查看本期账单。"),
    ("积分可以兑换什么礼品？", "积分可以在积分商城兑换航空里程、商品和年费。"),
    (
        "How do I report a lost card?",
        "Call the hotline or freeze the card in the mobile app right away.",
    ),
]


def jl(*objs) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


def qa(i: int) -> dict:
    q, a = ZH[i % len(ZH)]
    return {"question": q, "answer": a}


GOOD = jl(qa(0), qa(1), qa(2))
CSV_GOOD = "question,answer\n" + "".join(f'"{q}","{a}"\n' for q, a in ZH)


def ingest(tmp_path, monkeypatch, data: bytes | str, fmt: str = "jsonl", **cfg):
    """Run `python -m stages.ingest src` on one raw file; (exit status, metrics, rejects, records).

    These files are a few lines long, so one bad line is more than the default
    ingest.max_reject_ratio (20 %); the gate gets its own test below.
    """
    rel = f"data/raw/s.{fmt}"
    project = make_project(
        tmp_path,
        {"src": source_cfg(rel, fmt, **cfg)},
        {rel: data},
        ingest={"max_reject_ratio": 0.5},
    )
    status = run_stage(project, monkeypatch, "ingest", "src")
    if status:
        return status, None, [], None
    m = metrics(project, "ingest", "src")
    assert balanced(m), m
    records = read_records(project / "data/interim/ingest/src.parquet")
    rej = rejects(project, "ingest", "src")
    assert (m["out"], m["rejected_total"]) == (len(records), len(rej))
    for row in rej:
        assert row["reason"] in {r.value for r in Reason} and row["record"], row
        assert row["detail"].startswith(f"{row['locator']}: ") or row["detail"].startswith(rel), row
    return status, m, rej, records


def contents(records: pd.DataFrame) -> list[tuple[str, str]]:
    return [(m[0]["content"], m[1]["content"]) for m in records["messages"]]


# ---------------------------------------------------------------- ingest: rejected with a reason
# (id, format, raw bytes, extra source config, reason, detail pattern, records kept)
REJECTED = [
    (
        "malformed_json_line",
        "jsonl",
        jl(qa(0)) + '{"question": "年费" "answer": "免"}\n' + jl(qa(1)),
        {},
        Reason.MALFORMED_JSON,
        r"^data/raw/s.jsonl:2: Expecting ',' delimiter: line 1 column 19",
        2,
    ),
    (
        "truncated_last_line",
        "jsonl",
        GOOD + '{"question": "额度',
        {},
        Reason.MALFORMED_JSON,
        r"^data/raw/s.jsonl:4: Unterminated string starting at: line 1 column 14",
        3,
    ),
    (
        "missing_required_field",
        "jsonl",
        jl(qa(0), {"question": "年费怎么收？"}),
        {},
        Reason.MISSING_FIELD,
        r"^data/raw/s.jsonl:2: field 'answer' \(fields.answer\) is missing$",
        1,
    ),
    (
        "null_required_field",
        "jsonl",
        jl(qa(0), {"question": "年费怎么收？", "answer": None}),
        {},
        Reason.MISSING_FIELD,
        r"^data/raw/s.jsonl:2: field 'answer' \(fields.answer\) is null$",
        1,
    ),
    (
        "wrong_type",
        "jsonl",
        jl(qa(0), {"question": "年费多少？", "answer": 300}),
        {},
        Reason.WRONG_TYPE,
        r"^data/raw/s.jsonl:2: field 'answer' \(fields.answer\) is a number, expected a string$",
        1,
    ),
    (
        "line_not_an_object",
        "jsonl",
        GOOD + '["question", "answer"]\n',
        {},
        Reason.WRONG_TYPE,
        r"^data/raw/s.jsonl:4: record is a list, expected an object$",
        3,
    ),
    (
        "undecodable_bytes_in_gbk",
        "jsonl",
        jl(qa(0), qa(1)).encode("gbk")
        + '{"question": "年费'.encode("gbk")
        + b"\xff"
        + '", "answer": "免"}\n'.encode("gbk"),
        {},
        Reason.DECODE_ERROR,
        r"^data/raw/s.jsonl:3: bytes b'\\xff' are not valid gb18030 \(detected; set source.src.encoding",
        2,
    ),
    (
        "csv_ragged_row",
        "csv",
        'question,answer\n"额度怎么调？","在手机银行申请。"\n"年费？","首年免","多出来的一列"\n"积分？","可兑换里程。"\n',
        {},
        Reason.MALFORMED_ROW,
        r"^data/raw/s.csv:3: row has 3 fields, the header has 2$",
        2,
    ),
    (
        "csv_missing_column_value",
        "csv",
        'question,answer\n"额度怎么调？",""\n"年费？","首年免"\n',
        {},
        Reason.EMPTY_RECORD,
        r"^data/raw/s.csv:2: field 'answer' \(fields.answer\) is empty$",
        1,
    ),
]


@pytest.mark.parametrize(
    ("fmt", "data", "cfg", "reason", "detail", "n_kept"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_bad_raw_records_are_rejected_with_a_stable_reason_naming_file_line_and_field(
    tmp_path, monkeypatch, fmt, data, cfg, reason, detail, n_kept
):
    status, m, rej, records = ingest(tmp_path, monkeypatch, data, fmt, **cfg)
    assert status == 0
    assert len(records) == n_kept
    (row,) = rej
    assert row["reason"] == reason
    assert re.search(detail, row["detail"]), row["detail"]
    assert m["rejected"] == {reason.value: 1}


# ---------------------------------------------------------------- ingest: read correctly
@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le"], ids=lambda e: e
)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_bom_and_chinese_and_utf16_encodings_are_detected_and_nothing_is_rejected(
    tmp_path, monkeypatch, encoding, fmt
):
    text = GOOD if fmt == "jsonl" else CSV_GOOD
    if encoding == "utf-16-le":  # no BOM: detected from the NUL pattern of mostly-ASCII text
        text = GOOD.replace("？", "?") if fmt == "jsonl" else CSV_GOOD
    status, m, rej, records = ingest(tmp_path, monkeypatch, text.encode(encoding), fmt)
    assert status == 0 and rej == []
    assert contents(records)[2] == ZH[2]
    assert contents(records)[0][0].startswith("信用卡账单") or encoding == "utf-16-le"
    assert m["out"] == 3


def test_a_utf8_bom_does_not_hide_the_first_field_name(tmp_path, monkeypatch):
    # The classic failure: the header becomes "\ufeffquestion" and every row misses `question`.
    status, _, rej, records = ingest(
        tmp_path, monkeypatch, codecs.BOM_UTF8 + CSV_GOOD.encode(), "csv"
    )
    assert status == 0 and rej == [] and contents(records) == ZH


def test_mixed_line_endings_give_one_record_per_line_with_true_line_numbers(tmp_path, monkeypatch):
    lines = [json.dumps(qa(i), ensure_ascii=False) for i in range(3)]
    data = lines[0] + "\r\n" + lines[1] + "\r" + lines[2] + "\n"
    status, _, rej, records = ingest(tmp_path, monkeypatch, data)
    assert status == 0 and rej == []
    assert list(records["locator"]) == [
        "data/raw/s.jsonl:1",
        "data/raw/s.jsonl:2",
        "data/raw/s.jsonl:3",
    ]


def test_nul_bytes_are_removed_and_counted_in_meta_not_rejected(tmp_path, monkeypatch):
    line = json.dumps(qa(0), ensure_ascii=False)
    data = (
        line[:5]
        + "\x00\x00\x00"
        + line[5:]
        + "\n"
        + json.dumps(qa(1), ensure_ascii=False)
        + "\x00\n"
    )
    status, _, rej, records = ingest(tmp_path, monkeypatch, data)
    assert status == 0 and rej == []
    assert [json.loads(m)["nul_bytes_removed"] for m in records["meta"]] == [3, 1]
    assert contents(records)[0] == ZH[0]


def test_csv_embedded_newlines_in_quoted_fields_stay_in_the_field_and_rows_keep_their_start_line(
    tmp_path, monkeypatch
):
    data = 'question,answer\n"分期怎么办？","第一步：登录\n第二步：选择分期"\n"年费？","首年免"\n'
    status, _, rej, records = ingest(tmp_path, monkeypatch, data, "csv")
    assert status == 0 and rej == []
    assert contents(records) == [
        ("分期怎么办？", "第一步：登录\n第二步：选择分期"),
        ("年费？", "首年免"),
    ]
    assert list(records["locator"]) == ["data/raw/s.csv:2", "data/raw/s.csv:4"]


def test_a_10mb_record_is_rejected_at_ingest_before_it_can_cost_dedup_gigabytes(
    tmp_path, monkeypatch
):
    big = "信用卡账单" * (10_000_000 // 15)  # 10 MB of UTF-8 in one JSON line
    data = jl(qa(0), {"question": "请看附件", "answer": big}, qa(1))
    assert len(data.encode("utf-8")) > 10_000_000
    status, m, rej, records = ingest(tmp_path, monkeypatch, data)
    assert status == 0 and len(records) == 2
    (row,) = rej
    assert row["reason"] == Reason.RECORD_TOO_LARGE
    assert row["detail"] == (
        "data/raw/s.jsonl:2: record has 3,333,335 characters of content, more than "
        "ingest.max_record_chars (100,000); split it upstream or raise the limit"
    )
    assert big in row["record"]  # rejected whole, as every reject is
    assert m["rejected"] == {"record_too_large": 1}


def test_empty_file_is_an_empty_source_not_an_error(tmp_path, monkeypatch):
    status, m, rej, records = ingest(tmp_path, monkeypatch, b"")
    assert status == 0 and rej == [] and len(records) == 0
    assert (m["in"], m["out"]) == (0, 0)


def test_a_source_folder_without_matching_files_fails_with_exit_3_naming_the_source(
    tmp_path, monkeypatch, capsys
):
    project = make_project(
        tmp_path,
        {"src": source_cfg("data/raw/exports", "jsonl", glob="*.jsonl")},
        {"data/raw/exports/README.txt": "x"},
    )
    assert run_stage(project, monkeypatch, "ingest", "src") == 3
    err = capsys.readouterr().err
    assert err.startswith("ftdata ingest: error: ") and "src" in err and "data/raw/exports" in err
    assert "Traceback" not in err


def test_too_many_bad_lines_fail_the_source_with_exit_4_and_write_nothing(
    tmp_path, monkeypatch, capsys
):
    data = jl(qa(0)) + "{not json\n" * 3
    rel = "data/raw/s.jsonl"
    project = make_project(tmp_path, {"src": source_cfg(rel)}, {rel: data})
    assert run_stage(project, monkeypatch, "ingest", "src") == 4
    err = capsys.readouterr().err
    assert (
        "source `src` (data/raw/s.jsonl): 3 of 4 raw records rejected (75.0%) > ingest.max_reject_ratio 20%"
        in err
    )
    assert "first: data/raw/s.jsonl:2: Expecting property name enclosed in double quotes" in err
    assert not (project / "data/interim/ingest/src.parquet").exists()


def test_empty_sources_build_an_empty_dataset_with_every_stage_balanced(tmp_path, monkeypatch):
    files = {"data/raw/a.jsonl": b"", "data/raw/b.csv": "question,answer\n"}
    sources = {"a": source_cfg("data/raw/a.jsonl"), "b": source_cfg("data/raw/b.csv", "csv")}
    project = make_project(tmp_path, sources, files)
    statuses = build(project, monkeypatch)
    assert set(statuses.values()) == {0}, statuses
    assert "report" in statuses
    for stage in ("clean", "dedup", "quality", "annotate", "split", "validate", "export"):
        m = metrics(project, stage)
        assert (m["in"], m["out"]) == (0, 0) and balanced(m), stage
    summary = json.loads((project / "data/metrics/summary.json").read_text(encoding="utf-8"))
    assert summary["exported_records"] == 0 and summary["raw_records"] == 0
    assert (project / "data/processed/openai/train.jsonl").read_text(encoding="utf-8") == ""
    # With the example's contracts, an empty build is one that broke its promises.
    example = {"min_records_per_split": {"train": 1000}, "label_share": None}
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    params["contracts"].update(example)
    (project / "params.yaml").write_text(dump_params(params), encoding="utf-8")
    assert run_stage(project, monkeypatch, "report") == 4
    gates = metrics(project, "contracts")["gates"]
    assert [g["detail"] for g in gates if not g["passed"]] == [
        "records[train] = 0, bound >= 1000 (contracts.min_records_per_split.train)"
    ]


# ---------------------------------------------------------------- across sources
def test_the_same_raw_id_in_two_sources_gives_two_records_and_dedup_names_the_copy(
    tmp_path, monkeypatch
):
    ticket = {"ticket_id": "T-1001", **qa(0)}
    other = {"ticket_id": "T-1002", **qa(1)}
    fields = {
        "id": "ticket_id",
        "conversation_id": "ticket_id",
        "question": "question",
        "answer": "answer",
    }
    sources = {
        "crm": source_cfg("data/raw/crm.jsonl", fields=fields),
        "legacy": source_cfg("data/raw/legacy.jsonl", fields=fields),
    }
    # Same raw id in both: once with the same content (a re-export), once with different content.
    files = {
        "data/raw/crm.jsonl": jl(ticket, other),
        "data/raw/legacy.jsonl": jl(ticket, {"ticket_id": "T-1002", **qa(2)}),
    }
    project = make_project(tmp_path, sources, files)
    assert set(build(project, monkeypatch, until="dedup").values()) == {0}
    ingested = pd.concat(
        [read_records(project / f"data/interim/ingest/{s}.parquet") for s in ("crm", "legacy")]
    )
    assert ingested["id"].is_unique  # ids are scoped by source + locator + raw content
    assert sorted(ingested["conversation_id"]) == [
        "crm:T-1001",
        "crm:T-1002",
        "legacy:T-1001",
        "legacy:T-1002",
    ]
    assert sorted(json.loads(m)["raw_id"] for m in ingested["meta"]) == [
        "T-1001",
        "T-1001",
        "T-1002",
        "T-1002",
    ]
    (dup,) = rejects(project, "dedup")
    assert dup["reason"] == Reason.EXACT_DUPLICATE and dup["source"] == "legacy"
    assert dup["locator"] == "data/raw/legacy.jsonl:1"
    crm_first = ingested[ingested["locator"] == "data/raw/crm.jsonl:1"]["id"].item()
    assert dup["duplicate_of"] == crm_first
    kept = read_records(project / "data/interim/dedup.parquet")
    assert len(kept) == 3 and balanced(metrics(project, "dedup"))


# ---------------------------------------------------------------- text content (clean stage)
TEXT_CASES = {
    # id: (user turn, assistant turn)
    "script_only": ("<script>alert('x')</script>", "<b>您好</b>，请问有什么可以帮您？"),
    "script_inside": (
        "我的账单<script>document.location='http://evil.example'</script>怎么查？",
        "请登录<a href='/app'>手机银行</a>查看。",
    ),
    "invisible_only": ("\u200b\u200d\u202e\u2066\u2069\ufeff", "请问您要办理什么业务？"),
    "invisible_inside": ("账\u200b单怎么\u202e查\u2069？", "登录手机银行查看本期账单。"),
    "emoji_only": ("😀😀👍🙏", "请问您要办理什么业务？"),
    "emoji_with_text": ("积分怎么兑换😀", "在积分商城兑换👍"),
}


def test_html_scripts_invisible_characters_and_emoji_only_turns_are_cleaned_or_rejected(
    tmp_path, monkeypatch
):
    data = jl(*({"question": q, "answer": a} for q, a in TEXT_CASES.values()))
    rel = "data/raw/s.jsonl"
    project = make_project(tmp_path, {"src": source_cfg(rel)}, {rel: data})
    assert set(build(project, monkeypatch, until="clean").values()) == {0}
    assert metrics(project, "ingest", "src")["out"] == len(TEXT_CASES)  # nothing is lost at ingest
    m = metrics(project, "clean")
    assert balanced(m) and m["in"] == len(TEXT_CASES)
    kept = read_records(project / "data/interim/clean.parquet")
    by_line = {
        int(loc.rsplit(":", 1)[1]): contents(kept.iloc[[i]])[0]
        for i, loc in enumerate(kept["locator"])
    }
    assert by_line == {
        2: (
            "我的账单怎么查？",
            "请登录手机银行查看。",
        ),  # script content dropped, not shown as text
        4: ("账单怎么查？", "登录手机银行查看本期账单。"),  # zero-width and bidi controls removed
        6: ("积分怎么兑换😀", "在积分商城兑换👍"),  # emoji are content unless remove_emoji is on
    }
    rejected = {int(r["locator"].rsplit(":", 1)[1]): r for r in rejects(project, "clean")}
    assert sorted(rejected) == [1, 3, 5]
    for line, row in rejected.items():
        assert row["reason"] == Reason.NO_SUBSTANCE and row["locator"] == f"{rel}:{line}"
        assert "no user turn followed by an assistant turn" in row["detail"]
    assert "script" not in json.dumps([list(m) for m in kept["messages"]], ensure_ascii=False)
