"""Split: train / val / test by a hash of each record's group (stable as data grows).

Groups join records across the whole input, so the group keys come from one pass
over the link columns only (``LINK_COLUMNS``: ids, no text); with the keys known,
a record's split is row-local and records stream through in chunks.

Then decontamination (ftdata/ops/decontaminate.py): records of the splits
``decontaminate.splits`` names that overlap a benchmark file are rejected
(``contaminated``); it runs here because it needs each record's split.
"""

from __future__ import annotations

from functools import partial

from ftdata.benchmarks import benchmark_index, contamination_report
from ftdata.io import read_columns, table_to_records, write_json
from ftdata.ops.decontaminate import decontaminate
from ftdata.ops.split import LINK_COLUMNS, SplitTally, group_keys, split_by_keys
from ftdata.params import chunk_size, validated_section
from ftdata.runner import OpCall, apply_op
from ftdata.stage import METRICS, out_path, project_root, stage_main
from ftdata.stage_run import StageRun
from ftdata.stream import RowGroupWriter, iter_chunks

STRATA_PLOT = METRICS / "plots" / "split_strata.json"


@stage_main("split")
def main() -> None:
    root = project_root()
    section = validated_section(root, "split")
    checks = validated_section(root, "decontaminate")
    index = benchmark_index(root, checks)
    contamination = OpCall("decontaminate", {"splits": list(checks["splits"])})
    out, source = out_path("split"), out_path("balance")
    with StageRun("split", out, STRATA_PLOT) as run:
        keys = group_keys(table_to_records(read_columns(source, LINK_COLUMNS)))
        run.counts.n_in = len(keys)
        tally = SplitTally(section["stratify_by"])
        call, start = OpCall("split", section), 0
        with RowGroupWriter(out) as writer:
            for chunk in iter_chunks(source, chunk_size(root)):
                own = keys[start : start + len(chunk)]
                start += len(chunk)
                # The registered op's lineage and accounting, with the whole input's group keys.
                result = apply_op(chunk, call, "split", fn=partial(split_by_keys, keys=own))
                checked = apply_op(
                    result.kept, contamination, "split", fn=partial(decontaminate, index=index)
                )
                writer.write(checked.kept)
                tally.add(checked.kept)
                run.counts.out += len(checked.kept)
                run.reject(result.rejected)
                run.reject(checked.rejected)
        report = tally.report()
        # Per-stratum counts are a plot (one row per stratum and split), not a metric column each.
        strata = report.pop("strata")
        report["strata_missing_splits"] = len(report["strata_missing_splits"])
        run.counts.extra = {
            "splits": report,
            "decontaminate": contamination_report(checks, index),
        }
        write_json(
            STRATA_PLOT,
            [
                {"stratum": k, "split": s, "count": n}
                for k, by_split in sorted(strata.items())
                for s, n in by_split.items()
            ],
        )
