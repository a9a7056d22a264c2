"""Quality: score every record, filter by thresholds, draw the human spot-check sample."""

from __future__ import annotations

import pyarrow.parquet as pq

from ftdata.io import table_to_records
from ftdata.ops.quality import spot_check_ids
from ftdata.params import pii_types, validated_section
from ftdata.privacy.fields import write_review
from ftdata.runner import op_calls, run_row_stage
from ftdata.stage import REVIEW, metrics_path, out_path, project_root, rejects_path, stage_main

SPOT_CHECK_FIELDS = ("id", "source", "locator", "label", "messages", "text", "lang")


@stage_main("quality")
def main() -> None:
    root = project_root()
    section = validated_section(root, "quality")
    executor = validated_section(root, "executor")
    run_row_stage(
        "quality",
        [out_path("dedup")],
        out_path("quality"),
        rejects_path("quality"),
        metrics_path("quality"),
        op_calls(section, "quality"),
        executor["chunk_size"],
    )
    # The sample is chosen on three columns; only the chosen rows are read whole,
    # so this step's memory does not grow with the dataset.
    keys = pq.read_table(out_path("quality"), columns=["id", "label", "source"]).to_pandas()
    chosen = spot_check_ids(keys, section["spot_check_fraction"], section["spot_check_seed"])
    table = pq.read_table(out_path("quality"), filters=[("id", "in", chosen or [""])])
    sample = table_to_records(table).sort_values("id")
    score_cols = sorted(c for c in sample.columns if c.startswith("score_"))
    rows = [
        {
            **{k: rec.get(k) for k in SPOT_CHECK_FIELDS},
            "scores": {c: rec[c] for c in score_cols},
            "verdict": None,
        }
        for rec in sample.to_dict("records")
    ]
    write_review(REVIEW / "spot_check.jsonl", rows, pii_types(root))
