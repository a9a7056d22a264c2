"""Augment: generated train records (rule-based, model-backed), hard-example flags; see ftdata/augment/engine.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ftdata.augment.checks import check_augment
from ftdata.augment.engine import augment
from ftdata.augment.records import write_metrics
from ftdata.errors import ConfigError
from ftdata.io import read_records, write_records
from ftdata.llm.cache import LlmCache
from ftdata.params import validated_section
from ftdata.stage import STAGES, log, out_path, project_root, stage_main
from ftdata.stage_run import StageRun

# The stage that feeds this one (annotate today): whatever precedes augment in the pipeline order.
INPUT_STAGE = STAGES[STAGES.index("augment") - 1]


@stage_main("augment")
def main() -> None:
    root = project_root()
    section = validated_section(root, "augment")
    try:
        check_augment(section)
    except ConfigError as err:
        raise ConfigError(f"params.yaml: {err}") from None
    out = out_path("augment")
    with StageRun("augment", out, write_metrics=write_metrics) as run:
        records = read_records(out_path(INPUT_STAGE))
        llm = section["llm"]
        cache = LlmCache(root / llm["cache_dir"])
        cache.ensure()  # the DVC out exists even when no call is made
        client = None
        if llm["enabled"]:
            from ftdata.llm.client import ChatClient

            client = ChatClient(llm, cache)
        result = augment(
            records,
            section,
            split_params=validated_section(root, "split"),
            dedup_params=validated_section(root, "dedup"),
            balance_params=validated_section(root, "balance"),
            eval_dir=root / Path(section["hard"]["eval_dir"]),
            client=client,
        )
        run.counts.n_in, run.counts.added, run.counts.out = (
            len(records),
            result.added,
            len(result.records),
        )
        run.reject(pd.DataFrame(result.rejected) if result.rejected else None)
        run.counts.extra = result.report
        llm_report = result.report["llm"]
        log.info(
            "%d records in, %d generated, %d kept; model calls made %s, saved by the cache %s",
            len(records),
            result.added,
            len(result.records) - len(records),
            llm_report.get("calls_made"),
            llm_report.get("calls_saved"),
        )
        write_records(out, result.records)
