"""The ingest stage streams its source in batches; the outputs must not notice.

Records are read, size-checked, redacted and written a batch at a time
(``ftdata.ingest.BATCH_RECORDS``) into fixed row groups (``ftdata.stream``), and JSON
lines are decoded block by block (``ftdata.ingest.encoding.BLOCK_BYTES``). Each test
shrinks one of these so a few lines cross every boundary, and checks the bytes
against the whole-source way: one batch, one frame, ``write_records``.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ftdata.ingest
import ftdata.stages.ingest
from ftdata.ingest import encoding
from ftdata.ingest.spec import check_source
from ftdata.io import write_records
from ftdata.limits import split_oversize
from ftdata.params import load_params, pii_types
from ftdata.privacy.fields import redact_new_records
from ftdata.stream import RowGroupWriter
from tests.miniproject import balanced, make_project, metrics, rejects, run_stage, source_cfg

PHONE = "13812345678"
FIELDS = {
    "id": "sid",
    "conversation_id": "sid",
    "messages": "turns",
    "role": "speaker",
    "content": "text",
    "label": "tag",
    "meta": ["channel"],
}


def _session(sid: str, question: str, **extra) -> str:
    turns = [{"speaker": "user", "text": question}, {"speaker": "assistant", "text": "好的。"}]
    return json.dumps({"sid": sid, "turns": turns, **extra}, ensure_ascii=False)


def _lines() -> list[str]:
    """No label, meta or PII in the first records; a malformed line, a record too large,
    then labels, meta and a phone number in an id (pii_redacted / pii_types) later on."""
    lines = [_session(f"s{i}", f"第{i}个问题：账单怎么查？") for i in range(5)]
    lines.append('{"sid": "broken", "turns": [')
    lines.append(_session("s6", "年费怎么收？", tag="ANNUAL_FEE", channel="app"))
    lines.append(_session(PHONE, "我的手机号就是会话号"))  # a phone in the id: redacted
    lines.append(_session("s8", "长" * 500))  # more than max_record_chars
    lines += [_session(f"s{i}", f"Question {i}?", tag="BILL", channel="web") for i in range(9, 14)]
    return lines


def _project(tmp_path: Path, name: str, lines: list[str], **ingest) -> Path:
    cfg = source_cfg("data/raw/src.jsonl", "jsonl", fields=FIELDS)
    files = {"data/raw/src.jsonl": "".join(line + "\n" for line in lines)}
    settings = {"max_record_chars": 200, **ingest}
    return make_project(tmp_path / name, {"src": cfg}, files, ingest=settings)


def _outputs(project: Path) -> tuple[bytes, bytes, dict]:
    m = metrics(project, "ingest", "src")
    return (
        (project / "data/interim/ingest/src.parquet").read_bytes(),
        (project / "data/interim/rejects/ingest/src.parquet").read_bytes(),
        m,
    )


def _ingest(tmp_path, monkeypatch, name, lines, batch, row_group_rows=None, **ingest):
    monkeypatch.setattr(ftdata.ingest, "BATCH_RECORDS", batch)
    if row_group_rows:
        writer = functools.partial(RowGroupWriter, row_group_rows=row_group_rows)
        monkeypatch.setattr(ftdata.stages.ingest, "RowGroupWriter", writer)
    project = _project(tmp_path, name, lines, **ingest)
    status = run_stage(project, monkeypatch, "ingest", "src")
    monkeypatch.undo()
    return project, status


def test_batches_give_the_bytes_of_one_frame_and_lose_no_record(tmp_path, monkeypatch):
    lines = _lines()
    whole, status = _ingest(tmp_path, monkeypatch, "whole", lines, batch=10_000)
    assert status == 0
    for batch in (1, 2, 3):
        project, status = _ingest(tmp_path, monkeypatch, f"b{batch}", lines, batch=batch)
        assert status == 0
        assert _outputs(project) == _outputs(whole)
    # ... and the bytes ``write_records`` gave the whole source as one frame
    cfg = check_source("src", load_params(whole)["source"]["src"], "params.yaml", whole)
    result = ftdata.ingest.read_source("src", cfg, whole)
    kept, _ = split_oversize(result.records, 200)
    redact_new_records(kept, pii_types(whole))
    write_records(tmp_path / "frame.parquet", pd.DataFrame(kept))
    assert (tmp_path / "frame.parquet").read_bytes() == _outputs(whole)[0]
    m = metrics(whole, "ingest", "src")
    assert balanced(m) and m["in"] == len(lines) and m["out"] == len(lines) - 2
    reasons = [r["reason"] for r in rejects(whole, "ingest", "src")]
    assert reasons == ["malformed_json", "record_too_large"]


def test_columns_first_set_in_a_later_row_group_survive(tmp_path, monkeypatch):
    """Row groups of 3: the first has no label, meta nor PII; the phone's record is the
    7th written. Whatever the batch size, the file is the same bytes and keeps them."""
    lines = _lines()
    outputs = set()
    for batch in (1, 2, 5, 100):
        project, status = _ingest(
            tmp_path, monkeypatch, f"g{batch}", lines, batch=batch, row_group_rows=3
        )
        assert status == 0
        outputs.add(_outputs(project)[0])
    assert len(outputs) == 1
    path = project / "data/interim/ingest/src.parquet"
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    rows = pq.read_table(path).to_pylist()
    assert len(rows) == len(lines) - 2
    assert [r["label"] for r in rows[:5]] == [None] * 5 and rows[5]["label"] == "ANNUAL_FEE"
    assert json.loads(rows[5]["meta"])["channel"] == "app"
    assert [r["pii_redacted"] for r in rows] == [None] * 6 + [True] + [None] * 5
    assert rows[6]["pii_types"] == ["phone"] and PHONE not in rows[6]["conversation_id"]


def test_an_empty_source_writes_the_typed_empty_file(tmp_path, monkeypatch):
    project, status = _ingest(tmp_path, monkeypatch, "empty", [], batch=2)
    assert status == 0
    write_records(tmp_path / "empty.parquet", pd.DataFrame())
    assert _outputs(project)[0] == (tmp_path / "empty.parquet").read_bytes()
    assert metrics(project, "ingest", "src")["out"] == 0


def test_a_failing_gate_leaves_no_output_after_batches_were_written(tmp_path, monkeypatch):
    lines = _lines()[:5] + ['{"broken'] * 20
    project, status = _ingest(tmp_path, monkeypatch, "gate", lines, batch=2, row_group_rows=2)
    assert status == 4  # GateError: 20 of 25 rejected
    assert list((project / "data/interim/ingest").iterdir()) == []
    assert not (project / "data/metrics/ingest/src.json").exists()


def _decode_cases() -> list[bytes]:
    cases = [
        b"",
        b"\n",
        b"\n\n",
        b"a",
        b"a\n",
        b"\na",
        b"a\r\nb\r",
        b"\r",
        b"\xef\xbb\xbfa\nb",
        "\ufeff\ufeffx\n".encode(),
        "中文\r\n第二行\r第三\n".encode(),
        b"ok\n\xff\xfebad\nok2\n",
        "\ufeffa\r\nb".encode("utf-16"),
        "x\n中".encode("gb18030"),
        b"a\x00b\x00\n\x00",  # BOM-less UTF-16: not taken for UTF-8
    ]
    rng = random.Random(7)
    alphabet = ["a", "中", "\r", "\n", "\r\n", "\ufeff", "😀"]
    for _ in range(150):
        data = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))).encode()
        if data and rng.random() < 0.4:  # a bad byte, maybe inside a character
            i = rng.randrange(len(data))
            data = data[:i] + bytes([rng.choice([0xFF, 0x80, 0xE4])]) + data[i:]
        cases.append(data)
    return cases


@pytest.mark.parametrize("block", [2, 4, 6])
def test_lines_decoded_in_blocks_are_the_lines_of_the_whole_file(tmp_path, monkeypatch, block):
    monkeypatch.setattr(encoding, "BLOCK_BYTES", block)
    path = tmp_path / "f.jsonl"
    for data in _decode_cases():
        path.write_bytes(data)
        for name in ("auto", "utf-8", "gb18030"):
            whole = encoding.decode_lines(data, name)
            found, lines = encoding.iter_file_lines(path, name)
            assert (found, list(lines)) == (whole.encoding, whole.lines), (data, name)


def _table(**columns) -> pa.Table:
    return pa.table(columns)


def test_row_group_writer_fills_a_column_a_later_chunk_lacks(tmp_path):
    out = tmp_path / "out.parquet"
    with RowGroupWriter(out, row_group_rows=2) as writer:
        writer.write(_table(id=["a", "b"], label=["x", "y"]))
        writer.write(_table(id=["c"], label=["z"]))
        writer.write(_table(id=["d"]))
    assert pq.read_table(out).to_pydict() == {"id": list("abcd"), "label": ["x", "y", "z", None]}


def test_row_group_writer_refuses_a_column_first_seen_after_the_schema(tmp_path):
    with pytest.raises(ValueError, match="lang"), RowGroupWriter(tmp_path / "o.parquet", 1) as w:
        w.write(_table(id=["a"]))
        w.write(_table(id=["b"]))
        w.write(_table(id=["c"], lang=["zh"]))
    assert list(tmp_path.iterdir()) == []
