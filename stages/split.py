"""Split: train / val / test by a hash of each record's group (stable as data grows)."""

from __future__ import annotations

from ftdata.compose import validated_section
from ftdata.io import (
    read_records,
    rejects_frame,
    remove_stale_temps,
    write_json,
    write_records,
    write_rejects,
)
from ftdata.metrics import StageCounts
from ftdata.ops.split import split_report
from ftdata.runner import OpCall, apply_op
from ftdata.stage import METRICS, metrics_path, out_path, project_root, rejects_path, stage_main

STRATA_PLOT = METRICS / "plots" / "split_strata.json"


@stage_main("split")
def main() -> None:
    root = project_root()
    section = validated_section(root, "split")
    out, rej, met = out_path("split"), rejects_path("split"), metrics_path("split")
    remove_stale_temps(out, rej, met)
    records = read_records(out_path("balance"))
    result = apply_op(records, OpCall("split", section), "split")
    counts = StageCounts("split", n_in=len(records), out=len(result.kept))
    if len(result.rejected):
        counts.reject(result.rejected["reason"])
    report = split_report(result.kept, section["stratify_by"])
    # Per-stratum counts are a plot (one row per stratum and split), not a metric column each.
    strata = report.pop("strata")
    report["strata_missing_splits"] = len(report["strata_missing_splits"])
    counts.extra = {"splits": report}
    write_json(
        STRATA_PLOT,
        [
            {"stratum": k, "split": s, "count": n}
            for k, by_split in sorted(strata.items())
            for s, n in by_split.items()
        ],
    )
    write_records(out, result.kept)
    write_rejects(rej, [rejects_frame("split", result.rejected)])
    counts.write(met)


if __name__ == "__main__":
    main()
