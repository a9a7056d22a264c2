"""Dedup: exact and MinHash near duplicates across the whole dataset."""

from __future__ import annotations

from ftdata.compose import validated_section
from ftdata.io import read_records, rejects_frame, remove_stale_temps, write_records, write_rejects
from ftdata.metrics import StageCounts
from ftdata.runner import OpCall, apply_op
from ftdata.stage import metrics_path, out_path, project_root, rejects_path, stage_main


@stage_main("dedup")
def main() -> None:
    root = project_root()
    section = validated_section(root, "dedup")
    out, rej, met = out_path("dedup"), rejects_path("dedup"), metrics_path("dedup")
    remove_stale_temps(out, rej, met)
    records = read_records(out_path("clean"))
    result = apply_op(records, OpCall("dedup", section), "dedup")
    counts = StageCounts("dedup", n_in=len(records), out=len(result.kept))
    if len(result.rejected):
        counts.reject(result.rejected["reason"])
    write_records(out, result.kept)
    write_rejects(rej, [rejects_frame("dedup", result.rejected)])
    counts.write(met)


if __name__ == "__main__":
    main()
