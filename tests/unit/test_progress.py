"""Progress: a rich bar for a person at a terminal, a few plain log lines in CI."""

from __future__ import annotations

import logging
import sys

from ftdata import progress
from ftdata.progress import StageProgress


def test_ci_gets_a_plain_line_per_quarter_and_at_the_end(monkeypatch, caplog):
    monkeypatch.setenv("CI", "true")
    assert not progress.interactive()
    with caplog.at_level(logging.INFO, logger="ftdata"), StageProgress("clean", 1000) as bar:
        for _ in range(10):
            bar.advance(100)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "300/1000 records (30%)",
        "500/1000 records (50%)",
        "800/1000 records (80%)",
        "1000/1000 records (100%)",
    ]


def test_a_terminal_without_ci_gets_the_bar_and_no_log_lines(monkeypatch, caplog):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("FTDATA_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress.interactive()
    with caplog.at_level(logging.INFO, logger="ftdata"), StageProgress("clean", 10) as bar:
        bar.advance(10)
        assert bar._bar is not None
    assert caplog.records == []
    monkeypatch.setenv("FTDATA_PROGRESS", "plain")
    assert not progress.interactive()
