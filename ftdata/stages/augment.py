"""Augment: generated train records (rule-based, model-backed), hard-example flags; see ftdata/augment/engine.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ftdata.augment.checks import check_augment
from ftdata.augment.engine import augment
from ftdata.augment.records import write_metrics
from ftdata.errors import ConfigError
from ftdata.io import read_records, remove_stale_temps, write_records
from ftdata.llm.cache import LlmCache
from ftdata.metrics import StageCounts
from ftdata.params import validated_section
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.stage import STAGES, log, metrics_path, out_path, project_root, rejects_path, stage_main

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
    out, rej, met = out_path("augment"), rejects_path("augment"), metrics_path("augment")
    remove_stale_temps(out, rej, met)
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
    counts = StageCounts("augment", n_in=len(records), added=result.added, out=len(result.records))
    counts.reject(r["reason"] for r in result.rejected)
    counts.extra = result.report
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
    rejected = pd.DataFrame(result.rejected) if result.rejected else None
    write_rejects(rej, [rejects_frame("augment", rejected)])
    write_metrics(counts, met)
