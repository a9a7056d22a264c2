"""Split: train / val / test by a hash of each record's group (stable as data grows).

Groups join records across the whole input, so the group keys come from one pass
over the link columns only (``LINK_COLUMNS``: ids, no text); with the keys known,
a record's split is row-local and records stream through in chunks.
"""

from __future__ import annotations

from functools import partial

from ftdata.io import read_columns, table_to_records, write_json
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
                writer.write(result.kept)
                tally.add(result.kept)
                run.counts.out += len(result.kept)
                run.reject(result.rejected)
        report = tally.report()
        # Per-stratum counts are a plot (one row per stratum and split), not a metric column each.
        strata = report.pop("strata")
        report["strata_missing_splits"] = len(report["strata_missing_splits"])
        run.counts.extra = {"splits": report}
        write_json(
            STRATA_PLOT,
            [
                {"stratum": k, "split": s, "count": n}
                for k, by_split in sorted(strata.items())
                for s, n in by_split.items()
            ],
        )
