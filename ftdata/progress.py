"""Progress of a long stage: a rich progress bar on a terminal, plain log lines in CI and logs.

Only what is shown changes: stage outputs are the same bytes either way. The bar
goes to stderr (where DVC shows a stage's output); it is used only when stderr
is a terminal and ``CI`` is not set, so CI logs and ``dvc repro`` captured into
files get a handful of lines (every ``LOG_EVERY`` of the total) instead of
control characters.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import AbstractContextManager

log = logging.getLogger("ftdata")

LOG_EVERY = 0.25  # plain mode: a line per quarter of the total (and at the end)


def interactive() -> bool:
    """A person is watching: stderr is a terminal and this is not a CI run."""
    if os.environ.get("CI") or os.environ.get("FTDATA_PROGRESS") == "plain":
        return False
    return sys.stderr.isatty()


class StageProgress(AbstractContextManager):
    """``with StageProgress("clean", total) as bar: ... bar.advance(n)``; records, not chunks."""

    def __init__(self, stage: str, total: int, unit: str = "records"):
        self.stage = stage
        self.total = max(int(total), 0)
        self.unit = unit
        self.done = 0
        self._next_log = LOG_EVERY
        self._bar = None
        self._task = None

    def __enter__(self) -> StageProgress:
        if interactive() and self.total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn(f"[bold]{self.stage}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.stage, total=self.total)
        return self

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
        elif self.total and self.done >= self._next_log * self.total:
            log.info(
                "%d/%d %s (%d%%)",  # the stage's log prefix already names the stage
                self.done,
                self.total,
                self.unit,
                100 * self.done // self.total,
            )
            while self._next_log * self.total <= self.done:
                self._next_log += LOG_EVERY

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return None
