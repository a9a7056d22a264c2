"""Split: train / val / test by a hash of each record's group (stable as data grows)."""

from __future__ import annotations

from ftdata.compose import validated_section
from ftdata.io import read_records, rejects_frame, remove_stale_temps, write_records, write_rejects
from ftdata.metrics import StageCounts
from ftdata.ops.split import split_report
from ftdata.runner import OpCall, apply_op
from ftdata.stage import metrics_path, out_path, project_root, rejects_path, stage_main


@stage_main("split")
def main() -> None:
    root = project_root()
    section = validated_section(root, "split")
    out, rej, met = out_path("split"), rejects_path("split"), metrics_path("split")
    remove_stale_temps(out, rej, met)
    records = read_records(out_path("quality"))
    result = apply_op(records, OpCall("split", section), "split")
    counts = StageCounts("split", n_in=len(records), out=len(result.kept))
    if len(result.rejected):
        counts.reject(result.rejected["reason"])
    counts.extra = {"splits": split_report(result.kept, section["stratify_by"])}
    write_records(out, result.kept)
    write_rejects(rej, [rejects_frame("split", result.rejected)])
    counts.write(met)


if __name__ == "__main__":
    main()
