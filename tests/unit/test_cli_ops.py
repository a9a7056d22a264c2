"""`ftdata ops` prints op docstrings for a terminal: RST markup rendered, never shown raw."""

from __future__ import annotations

from typer.testing import CliRunner

from ftdata.catalog import all_ops
from ftdata.cli import app, rst_line_to_text


def test_ftdata_ops_prints_no_rst_markup():
    # Some first docstring lines carry RST literals; the listing must not show the backticks.
    marked = [op for op in all_ops().values() if "``" in (op.doc.splitlines() or [""])[0]]
    assert marked, "no op docstring uses ``literal`` markup any more: pick another case"
    result = CliRunner().invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "``" not in result.output
    assert "redact_pii" in result.output and "every message and text;" in result.output


def test_rst_literals_keep_their_words_and_get_a_style():
    text = rst_line_to_text("Reject fewer than ``min_chars`` characters; see :func:`ftdata.io.x`.")
    assert text.plain == "Reject fewer than min_chars characters; see ftdata.io.x."
    styled = [text.plain[s.start : s.end] for s in text.spans if s.style]
    assert styled == ["min_chars"]
