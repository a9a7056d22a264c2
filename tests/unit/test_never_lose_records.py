"""Properties: on arbitrary input, readers and op chains never raise and never drop a record silently.

tests/unit/test_ingest_properties.py covers the jsonl and csv readers and
tests/unit/test_text_ops.py each text op as a ``str -> str`` function. This adds
the remaining readers (json, elk, markdown, html) and the op *chains* exactly
as conf/ configures them (clean, quality), run through the runner on whole
records: every input row comes out kept or rejected with a known reason code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftdata.ingest import read_source
from ftdata.reasons import Reason
from ftdata.runner import op_calls, run_ops
from tests.helpers import chat
from tests.miniproject import _base_params

CODES = {r.value for r in Reason}
# Arbitrary text plus the characters that break parsers and cleaners.
NASTY = st.sampled_from(
    list("\"',\n\r\t\x00{}[]:<>/&;##=银行账单积分😀\u200b\u202e\ufeff\u2028")
    + ["<script>", "</script>", "<h3>", "</h3>", "### ", "&amp;", "\r\n", "13800138000", "保本保息"]
)
ANY_TEXT = st.lists(st.one_of(st.characters(codec="utf-8"), NASTY), max_size=40).map("".join)


def _read(data: bytes, fmt: str, suffix: str, fields: dict | None = None):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "data" / f"src{suffix}").write_bytes(data)
        cfg = {
            "path": f"data/src{suffix}",
            "format": fmt,
            "kind": "crawl",
            "license": "internal",
            "owner": "o",
            "collected_at": "2024-01-01",
            "fields": fields or {},
        }
        return read_source("src", cfg, root)


def _conserved(result) -> None:
    assert result.n_read == len(result.records) + len(result.rejects)
    for reject in result.rejects:
        assert reject["reason"] in CODES
        assert reject["detail"].startswith("data/src")


BYTES = st.one_of(st.binary(max_size=300), ANY_TEXT.map(lambda t: t.encode("utf-8")))


@settings(max_examples=120, deadline=None)
@given(BYTES)
def test_json_document_reader_never_raises_and_conserves(data):
    _conserved(_read(data, "json", ".json", {"question": "q", "answer": "a"}))


@settings(max_examples=120, deadline=None)
@given(BYTES)
def test_elk_reader_never_raises_and_conserves(data):
    _conserved(_read(data, "elk", ".ndjson", {"question": "_source.q", "answer": "_source.a"}))


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        BYTES,
        st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=5).map(
            lambda pairs: "".join(f"### {q}\n{a}\n" for q, a in pairs).encode("utf-8")
        ),
    )
)
def test_markdown_reader_never_raises_and_conserves(data):
    _conserved(_read(data, "markdown", ".md"))


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        BYTES,
        st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=5).map(
            lambda pairs: "".join(f"<h3>{q}</h3><p>{a}</p>" for q, a in pairs).encode("utf-8")
        ),
    )
)
def test_html_reader_never_raises_and_conserves(data):
    _conserved(_read(data, "html", ".html"))


# ---------------------------------------------------------------- the configured op chains
ROLE = st.sampled_from(["system", "user", "assistant"])
MESSAGES = st.lists(st.fixed_dictionaries({"role": ROLE, "content": ANY_TEXT}), max_size=5)
ROWS = st.lists(st.tuples(MESSAGES, st.one_of(st.none(), ANY_TEXT)), min_size=1, max_size=6)


def _batch(rows) -> pd.DataFrame:
    records = []
    for i, (messages, text) in enumerate(rows):
        rec = chat(line=i + 1)
        rec["messages"] = messages
        rec["text"] = text
        records.append(rec)
    return pd.DataFrame(records, dtype=object)


def _accounted(batch: pd.DataFrame, kept: pd.DataFrame, rejected: list[pd.DataFrame]) -> None:
    rejected_ids = [i for part in rejected for i in part["id"]]
    assert sorted(list(kept["id"]) + rejected_ids) == sorted(batch["id"])
    for part in rejected:
        assert set(part["reason"]) <= CODES
        assert all(isinstance(d, str) and d for d in part["detail"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_the_configured_clean_chain_never_raises_and_accounts_for_every_record(rows):
    batch = _batch(rows)
    kept, rejected = run_ops(batch, op_calls(_base_params()["clean"], "clean"), "clean")
    _accounted(batch, kept, rejected)
    for msgs in kept["messages"]:
        assert all(isinstance(m["content"], str) for m in msgs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_the_configured_quality_chain_never_raises_and_accounts_for_every_record(rows):
    batch = _batch(rows)
    kept, rejected = run_ops(batch, op_calls(_base_params()["quality"], "quality"), "quality")
    _accounted(batch, kept, rejected)
