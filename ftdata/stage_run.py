"""The shell every stage runs in: its temps, counts, rejects and metrics, owned once.

Each stage used to rebuild it (remove a killed run's temps, count, collect redacted
rejects, write them, check and write the metrics), and each copy could forget a step.
A stage now enters a :class:`StageRun`, records what it kept and rejected, and leaves:

- on entry, the temp files and folders a killed earlier run left beside the stage's
  outputs, rejects and metrics are removed (ftdata/io.py writes every output atomically);
- ``reject(frame)`` counts the rows by reason and keeps them, made private by
  ftdata/privacy/rejects.py, for the stage's rejects file;
- on a clean exit the rejects file is written, then the metrics, which refuse to be
  written when a record was lost (in + added != out + rejected);
- on an error neither is written, so the last good metrics stay (they are
  ``persist: true`` DVC outs) and the error reaches the stage's one-line report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ftdata.io import remove_stale_temps
from ftdata.metrics import StageCounts
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.stage import metrics_path, rejects_path


class StageRun:
    def __init__(
        self,
        stage: str,
        *outputs: str | Path,
        rejects: str | Path | None = None,
        metrics: str | Path | None = None,
        source: str | None = None,
        write_metrics: Callable[[StageCounts, Path], None] = StageCounts.write,
    ) -> None:
        """``outputs``: the stage's data outs; rejects and metrics default to the stage's
        (``data/interim/rejects/<stage>[/<source>].parquet``, ``data/metrics/...``);
        ``write_metrics`` serialises them (augment's escape non-ASCII labels)."""
        self.stage = stage
        self.outputs = tuple(Path(p) for p in outputs)
        self.rejects_file = Path(rejects) if rejects else rejects_path(stage, source)
        self.metrics_file = Path(metrics) if metrics else metrics_path(stage, source)
        self.counts = StageCounts(f"{stage}@{source}" if source else stage)
        self._rejected: list[pd.DataFrame] = []
        self._write_metrics = write_metrics

    def __enter__(self) -> StageRun:
        remove_stale_temps(*self.outputs, self.rejects_file, self.metrics_file)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            write_rejects(self.rejects_file, self._rejected)
            self._write_metrics(self.counts, self.metrics_file)
        return False

    def reject(self, frame: pd.DataFrame | None, keep_raw: bool = False) -> None:
        """Count ``frame``'s rows (a ``reason`` column each) and keep them for the rejects."""
        if frame is None or not len(frame):
            return
        self.counts.reject(frame["reason"])
        self._rejected.append(rejects_frame(self.stage, frame, keep_raw))

    def reject_built(self, frame: pd.DataFrame) -> None:
        """Rejects a worker already built with ``rejects_frame``: counted and kept."""
        if len(frame):
            self.counts.reject(frame["reason"])
            self._rejected.append(frame)
