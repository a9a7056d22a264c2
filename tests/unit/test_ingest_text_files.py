"""Ingest of text files in the encodings real exports use, and of CSV and JSON documents."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from ftdata.ingest import read_source
from ftdata.ingest.encoding import decode_lines, detect_encoding
from ftdata.reasons import Reason


def _read(root: Path, name: str, data: bytes | str, fmt: str, **extra):
    path = root / "data" / "raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    cfg = {
        "path": f"data/raw/{name}",
        "format": fmt,
        "kind": "logs",
        "license": "internal",
        "owner": "cc-team",
        "collected_at": "2024-05-01",
        "fields": {"question": "question", "answer": "answer"},
    }
    result = read_source("src", cfg | extra, root)
    assert result.n_read == len(result.records) + len(result.rejects)
    return result


QA_ROWS = [
    ("如何查询信用卡账单？", "登录手机银行，进入“账单”页面即可查询。"),
    ("积分可以兑换什么？", "可兑换航空里程、商品和年费。"),
    ("How do I report a lost card?", "Call 95588 or freeze the card in the app."),
]
RARE_GB18030 = ("姓名里有生僻字𠀾和䶮怎么办？", "请到网点办理，€ 手续费免收。")  # 4-byte GB18030


def _csv_text(rows) -> str:
    return "question,answer\n" + "".join(f'"{q}","{a}"\n' for q, a in rows)


def _jsonl_text(rows) -> str:
    return "".join(
        json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n" for q, a in rows
    )


def _contents(result) -> list[tuple[str, str]]:
    return [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in result.records]


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoding", "rows"),
    [
        ("gbk", QA_ROWS),
        ("gb18030", QA_ROWS + [RARE_GB18030]),
        ("utf-16", QA_ROWS + [RARE_GB18030]),  # Python writes the BOM
        ("utf-8-sig", QA_ROWS + [RARE_GB18030]),
        ("utf-8", QA_ROWS + [RARE_GB18030]),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_auto_encoding_decodes_chinese_exports(tmp_path, encoding, rows, fmt):
    text = _csv_text(rows) if fmt == "csv" else _jsonl_text(rows)
    result = _read(tmp_path, f"qa.{fmt}", text.encode(encoding), fmt)
    assert _contents(result) == rows
    assert result.rejects == []


def test_short_gbk_file_is_not_mistaken_for_big5():
    data = "question,answer\n额度\n".encode("gbk")
    assert detect_encoding(data) == "gb18030"
    assert decode_lines(data).lines == ["question,answer", "额度"]


def test_explicit_encoding_is_used_as_given(tmp_path):
    data = _jsonl_text(QA_ROWS[:1]).encode("gbk")
    result = _read(tmp_path, "qa.jsonl", data, "jsonl", encoding="gbk")
    assert _contents(result) == QA_ROWS[:1]
    assert result.files[0]["encoding"] == "gbk"


def test_utf8_bom_with_explicit_utf8_still_parses_the_first_line(tmp_path):
    data = codecs.BOM_UTF8 + _jsonl_text(QA_ROWS[:1]).encode()
    result = _read(tmp_path, "qa.jsonl", data, "jsonl", encoding="utf-8")
    assert _contents(result) == QA_ROWS[:1]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_undecodable_bytes_reject_only_their_line(tmp_path, encoding):
    good = [_jsonl_text([row]).encode(encoding) for row in QA_ROWS]
    broken = (
        '{"question": "年费'.encode(encoding)
        + b"\xff\xfe"
        + '", "answer": "免"}\n'.encode(encoding)
    )
    result = _read(tmp_path, "qa.jsonl", good[0] + good[1] + broken + good[2], "jsonl")
    assert _contents(result) == QA_ROWS
    (reject,) = result.rejects
    assert reject["reason"] == Reason.DECODE_ERROR
    assert reject["detail"].startswith("data/raw/qa.jsonl:3: bytes ")
    assert "\\xff" in reject["raw"]


def test_utf16_file_with_truncated_last_byte_keeps_the_good_lines(tmp_path):
    data = _jsonl_text(QA_ROWS).encode("utf-16") + b"{"
    result = _read(tmp_path, "qa.jsonl", data, "jsonl")
    assert _contents(result) == QA_ROWS
    assert [r["reason"] for r in result.rejects] == [Reason.DECODE_ERROR]


# ---------------------------------------------------------------- CSV
def test_csv_quoted_field_with_embedded_newline_keeps_its_start_line(tmp_path):
    text = 'question,answer\n"分期怎么办？","第一步：登录\n第二步：选择分期"\n"年费？","首年免"\n'
    result = _read(tmp_path, "qa.csv", text, "csv")
    assert _contents(result) == [
        ("分期怎么办？", "第一步：登录\n第二步：选择分期"),
        ("年费？", "首年免"),
    ]
    assert [r["locator"] for r in result.records] == ["data/raw/qa.csv:2", "data/raw/qa.csv:4"]


def test_csv_crlf_inside_quoted_field_is_normalised(tmp_path):
    text = 'question,answer\r\n"q","line1\r\nline2"\r\n'
    result = _read(tmp_path, "qa.csv", text, "csv")
    assert _contents(result) == [("q", "line1\nline2")]


def test_ragged_csv_row_is_rejected_with_its_physical_line(tmp_path):
    text = 'question,answer\n"多行\n问题",答案\n只有一列\n正常,行\n'
    result = _read(tmp_path, "qa.csv", text, "csv")
    assert _contents(result) == [("多行\n问题", "答案"), ("正常", "行")]
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MALFORMED_ROW
    assert reject["detail"] == "data/raw/qa.csv:4: row has 1 fields, the header has 2"
    assert reject["raw"] == "只有一列"


def test_csv_unterminated_quote_at_end_is_a_malformed_row(tmp_path):
    text = 'question,answer\nq1,a1\n"q2,"a2 never closed\n'
    result = _read(tmp_path, "qa.csv", text, "csv")
    assert _contents(result) == [("q1", "a1")]
    assert [r["reason"] for r in result.rejects] == [Reason.MALFORMED_ROW]
    assert result.rejects[0]["detail"].startswith("data/raw/qa.csv:3: ")


def test_csv_missing_column_is_a_missing_field_naming_the_config_key(tmp_path):
    text = "question,reply\nq,a\n"
    result = _read(tmp_path, "qa.csv", text, "csv")
    (reject,) = result.rejects
    assert reject["detail"] == "data/raw/qa.csv:2: field 'answer' (fields.answer) is missing"


def test_csv_delimiter_nul_bytes_and_duplicate_headers(tmp_path):
    text = "question\tanswer\tanswer\n额\x00度\t可调整\t备用\n"
    result = _read(
        tmp_path, "qa.tsv", text, "csv", csv_delimiter="\t",
        fields={"question": "question", "answer": "answer", "meta": ["answer.1"]},
    )  # fmt: skip
    (record,) = result.records
    assert _contents(result) == [("额度", "可调整")]
    assert json.loads(record["meta"]) == {"answer.1": "备用", "nul_bytes_removed": 1}


def test_csv_with_only_a_header_has_no_records(tmp_path):
    result = _read(tmp_path, "qa.csv", "question,answer\n", "csv")
    assert result.n_read == 0


# ---------------------------------------------------------------- JSON documents
def test_json_array_records_are_located_by_pointer_and_line(tmp_path):
    rows = [{"question": q, "answer": a} for q, a in QA_ROWS]
    text = json.dumps(rows, ensure_ascii=False, indent=2)
    result = _read(tmp_path, "qa.json", text, "json")
    assert _contents(result) == QA_ROWS
    assert [r["locator"] for r in result.records] == [f"data/raw/qa.json#/{i}" for i in range(3)]


def test_json_records_path_and_errors_report_the_element_line(tmp_path):
    doc = {
        "meta": {"v": 1},
        "data": {"items": [{"question": "q1", "answer": "a1"}, {"question": 7, "answer": "a2"}]},
    }
    text = json.dumps(doc, indent=2)
    result = _read(tmp_path, "qa.json", text, "json", records_path="data.items")
    assert [r["locator"] for r in result.records] == ["data/raw/qa.json#/data/items/0"]
    (reject,) = result.rejects
    assert reject["reason"] == Reason.WRONG_TYPE
    # 0-based index of the '"question": 7' line == 1-based line of the element's "{"
    line = next(i for i, ln in enumerate(text.split("\n")) if '"question": 7' in ln)
    assert reject["detail"].startswith(f"data/raw/qa.json:{line}: field 'question'")


def test_malformed_json_document_keeps_elements_before_the_error(tmp_path):
    text = '[\n{"question": "q1", "answer": "a1"},\n{"question": "q2" "answer": "a2"},\n{"question": "q3", "answer": "a3"}\n]'
    result = _read(tmp_path, "qa.json", text, "json")
    assert _contents(result) == [("q1", "a1")]
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MALFORMED_JSON
    assert reject["detail"].startswith("data/raw/qa.json:3: Expecting ',' delimiter")
    assert reject["raw"].startswith('{"question": "q2"') and "q3" in reject["raw"]


def test_json_object_without_records_path_suggests_the_list(tmp_path):
    text = json.dumps({"faqs": [{"question": "q", "answer": "a"}]})
    result = _read(tmp_path, "qa.json", text, "json")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.WRONG_TYPE
    assert "source.src.records_path" in reject["detail"] and "faqs" in reject["detail"]


def test_json_trailing_garbage_after_the_array_is_reported(tmp_path):
    text = '[{"question": "q", "answer": "a"}]\n]'
    result = _read(tmp_path, "qa.json", text, "json")
    assert len(result.records) == 1
    assert [r["reason"] for r in result.rejects] == [Reason.MALFORMED_JSON]


def test_json_missing_records_path_is_one_reject_for_the_file(tmp_path):
    result = _read(tmp_path, "qa.json", '{"data": {}}', "json", records_path="data.items")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MISSING_FIELD
    assert "source.src.records_path" in reject["detail"]
