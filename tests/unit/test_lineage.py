"""Lineage display: ops that changed a record's content are told apart from ops that only
scored or flagged it (both stay in the record's ``ops`` list)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ftdata.catalog import all_ops
from ftdata.lineage import Lineage, _op_entry, lineage, to_markdown
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.revisions import RECORDS


def _lineage(ops: list[dict]) -> Lineage:
    return Lineage(
        id="0123456789abcdef",
        rev="workspace",
        status="exported",
        source="chat_logs",
        source_kind="logs",
        license="internal-use-only",
        locator="data/raw/chat_logs/sessions.jsonl:3",
        raw={"path": "data/raw/chat_logs/sessions.jsonl", "line": 3, "text": None},
        label=None,
        split="train",
        ops=[_op_entry(o) for o in ops],
        parents=[],
        annotations=[],
        export=None,
        rejected=None,
        first_release=None,
    )


def _section(md: str, start: str) -> str:
    lines = md.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith(start))
    block = [lines[i]]
    for line in lines[i + 1 :]:
        if line.startswith("- "):
            break
        block.append(line)
    return "\n".join(block)


def test_scoring_and_flagging_ops_are_registered_as_not_changing_content():
    ops = all_ops()
    assert not ops["score"].changes_content
    assert not ops["compliance"].changes_content
    assert ops["redact_pii"].changes_content and ops["nfkc"].changes_content


def test_lineage_lists_score_apart_from_the_ops_that_changed_the_record():
    md = to_markdown(
        _lineage(
            [
                {"stage": "clean", "op": "redact_pii", "params_hash": "aaaaaaaaaaaa"},
                {"stage": "quality", "op": "score", "params_hash": "bbbbbbbbbbbb"},
            ]
        )
    )
    changed = _section(md, "- ops that changed it")
    assert "redact_pii" in changed and "score" not in changed
    assert "quality/score" in _section(md, "- ops that scored or flagged it")


def test_a_record_only_scored_shows_no_content_change_and_keeps_unknown_ops_as_changes():
    md = to_markdown(_lineage([{"stage": "quality", "op": "score", "params_hash": "b" * 12}]))
    assert "- ops that changed it: none" in md
    assert "quality/score" in md
    # An op this install does not know (a plugin, a retired name) is not hidden.
    unknown = to_markdown(_lineage([{"stage": "clean", "op": "retired_op", "params_hash": "c"}]))
    assert "retired_op" in _section(unknown, "- ops that changed it")


def _project_with_ingest_rejects(root: Path) -> None:
    """A workspace whose ingest kept two raw lines: malformed JSON, and JSON of the raw
    file's own shape (``id`` / ``source`` keys that are not ftdata's)."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    raw = root / "data/raw/tickets.jsonl"
    raw.parent.mkdir(parents=True)
    lines = ['{"q": "ok", "a": "fine"}', '{"q": "x" "a": "y"}', '{"id": "T9", "source": "crm"}']
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = {"source": {"tickets": {"kind": "logs", "license": "internal-use-only"}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    records = root / RECORDS
    records.parent.mkdir(parents=True)
    pq.write_table(pa.table({"id": ["aaaaaaaaaaaaaaaa"]}), records)
    rejected = pd.DataFrame(
        {
            "id": ["bbbbbbbbbbbbbbbb", "cccccccccccccccc"],
            "source": ["tickets", "tickets"],
            "locator": ["data/raw/tickets.jsonl:2", "data/raw/tickets.jsonl:3"],
            "reason": ["malformed_json", "empty_record"],
            "detail": ["data/raw/tickets.jsonl:2: Expecting ',' delimiter", "no text"],
            "raw": [lines[1], lines[2]],
        }
    )
    write_rejects(
        root / "data/interim/rejects/ingest/tickets.parquet", [rejects_frame("ingest", rejected)]
    )


def test_lineage_of_an_ingest_reject_that_kept_a_malformed_raw_line_shows_the_line(tmp_path):
    _project_with_ingest_rejects(tmp_path)
    item = lineage(tmp_path, "bbbbbbbbbbbbbbbb")
    assert (item.status, item.rejected["reason"]) == ("rejected", "malformed_json")
    assert (item.source, item.source_kind, item.license) == ("tickets", "logs", "internal-use-only")
    assert item.raw["text"] == '{"q": "x" "a": "y"}'
    md = to_markdown(item)
    assert "no label" in md and "None" not in md
    assert "- source: `tickets` (logs, licence internal-use-only)" in md


def test_lineage_of_an_ingest_reject_does_not_read_the_raw_lines_keys_as_the_records(tmp_path):
    _project_with_ingest_rejects(tmp_path)
    item = lineage(tmp_path, "cccccccccccccccc")
    assert (item.id, item.source, item.locator) == (
        "cccccccccccccccc",
        "tickets",
        "data/raw/tickets.jsonl:3",
    )
