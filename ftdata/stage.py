"""Glue shared by the stage modules in stages/: paths, params, error reporting."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ftdata.errors import FtdataError

INTERIM = Path("data/interim")
PROCESSED = Path("data/processed")
METRICS = Path("data/metrics")
REVIEW = PROCESSED / "review"

# The order in which stages run; the funnel in summary.json follows it.
STAGES = (
    "ingest",
    "clean",
    "dedup",
    "quality",
    "annotate",
    "augment",
    "balance",
    "split",
    "validate",
    "export",
)


def project_root() -> Path:
    return Path(os.environ.get("FTDATA_ROOT", ".")).resolve()


def out_path(stage: str) -> Path:
    return INTERIM / f"{stage}.parquet"


def rejects_path(stage: str, source: str | None = None) -> Path:
    if source is not None:
        return INTERIM / "rejects" / stage / f"{source}.parquet"
    return INTERIM / "rejects" / f"{stage}.parquet"


def metrics_path(stage: str, source: str | None = None) -> Path:
    if source is not None:
        return METRICS / stage / f"{source}.json"
    return METRICS / f"{stage}.json"


def ingest_path(source: str) -> Path:
    return INTERIM / "ingest" / f"{source}.parquet"


def stage_main(stage: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run a stage: user errors print one clear line (no traceback) and exit non-zero."""

    def deco(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs) -> None:
            logging.basicConfig(
                level=logging.INFO, format=f"[{stage}] %(message)s", stream=sys.stderr
            )
            os.chdir(project_root())
            try:
                fn(*args, **kwargs)
            except FtdataError as err:
                print(f"ftdata {stage}: error: {err}", file=sys.stderr)
                sys.exit(err.exit_code)

        return wrapper

    return deco


log = logging.getLogger("ftdata")
