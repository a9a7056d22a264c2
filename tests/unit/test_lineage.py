"""Lineage display: ops that changed a record's content are told apart from ops that only
scored or flagged it (both stay in the record's ``ops`` list)."""

from __future__ import annotations

from ftdata.lineage import Lineage, _op_entry, to_markdown
from ftdata.registry import all_ops


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
