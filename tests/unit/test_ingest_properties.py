"""Properties of the line readers: they never raise on any input and lose nothing."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.ingest import read_source
from ftdata.ingest.encoding import decode_lines
from ftdata.reasons import Reason

QA_FIELDS = {"question": "question", "answer": "answer"}
# Any text: CJK, control characters, NUL, CR, quotes, delimiters, emoji.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\"',\n\r\t\x00{}[]:银行账单积分")),
    ),
    max_size=60,
)


def _read(data: bytes, fmt: str, **extra):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "data" / f"src.{fmt}").write_bytes(data)
        cfg = {
            "path": f"data/src.{fmt}",
            "format": fmt,
            "kind": "logs",
            "license": "internal",
            "owner": "o",
            "collected_at": "2024-01-01",
            "fields": QA_FIELDS,
        }
        return read_source("src", cfg | extra, root)


def _conserved(result) -> None:
    assert result.n_read == len(result.records) + len(result.rejects)
    for reject in result.rejects:
        assert reject["reason"] in set(Reason)
        assert reject["detail"].startswith("data/src.")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300), ANY_TEXT.map(lambda t: t.encode("utf-8"))))
def test_jsonl_reader_never_raises_and_conserves_records(data):
    _conserved(_read(data, "jsonl"))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300), ANY_TEXT.map(lambda t: t.encode("utf-8"))))
def test_csv_reader_never_raises_and_conserves_records(data):
    _conserved(_read(data, "csv"))


def _expected(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=6))
def test_jsonl_round_trips_any_content_or_rejects_it_as_empty(pairs):
    lines = [json.dumps({"question": q, "answer": a}, ensure_ascii=False) for q, a in pairs]
    result = _read(("\n".join(lines) + "\n").encode("utf-8"), "jsonl", encoding="utf-8")
    _conserved(result)
    kept = [p for p in pairs if p[0].strip() and p[1].strip()]
    assert result.n_read == len(pairs)
    assert [
        (r["messages"][0]["content"], r["messages"][1]["content"]) for r in result.records
    ] == kept
    assert {r["reason"] for r in result.rejects} <= {Reason.EMPTY_RECORD}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=6))
def test_csv_round_trips_any_content_or_rejects_it_as_empty(pairs):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["question", "answer"])
    writer.writerows(pairs)
    result = _read(buffer.getvalue().encode("utf-8"), "csv", encoding="utf-8")
    _conserved(result)
    normalised = [
        (_expected(q).replace("\x00", ""), _expected(a).replace("\x00", "")) for q, a in pairs
    ]
    kept = [p for p in normalised if p[0].strip() and p[1].strip()]
    assert result.n_read == len(pairs)
    assert [
        (r["messages"][0]["content"], r["messages"][1]["content"]) for r in result.records
    ] == kept


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))
def test_auto_detection_decodes_any_utf8_text_as_itself(text):
    assert (
        decode_lines(text.encode("utf-8")).lines
        == decode_lines(text.encode("utf-8"), "utf-8").lines
    )
