"""Dedup: exact and MinHash near duplicates across the whole dataset."""

from __future__ import annotations

from ftdata.compose import validated_section
from ftdata.executors import make_executor
from ftdata.io import read_records, rejects_frame, remove_stale_temps, write_records, write_rejects
from ftdata.metrics import StageCounts
from ftdata.ops.dedup_dask import distributed_dedup
from ftdata.runner import OpCall, apply_op, executor_settings
from ftdata.stage import metrics_path, out_path, project_root, rejects_path, stage_main


@stage_main("dedup")
def main() -> None:
    root = project_root()
    section = validated_section(root, "dedup")
    out, rej, met = out_path("dedup"), rejects_path("dedup"), metrics_path("dedup")
    remove_stale_temps(out, rej, met)
    records = read_records(out_path("clean"))
    with make_executor(executor_settings()) as executor:
        # On dask the pair search runs on the cluster; the result is the same.
        fn = distributed_dedup(executor) if executor.kind == "dask" else None
        result = apply_op(records, OpCall("dedup", section), "dedup", fn=fn)
    counts = StageCounts("dedup", n_in=len(records), out=len(result.kept))
    if len(result.rejected):
        counts.reject(result.rejected["reason"])
    write_records(out, result.kept)
    write_rejects(rej, [rejects_frame("dedup", result.rejected)])
    counts.write(met)


if __name__ == "__main__":
    main()
