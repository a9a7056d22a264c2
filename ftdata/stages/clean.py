"""Clean: normalise text, strip noise, redact PII, drop small talk (ops from `clean.ops`)."""

from __future__ import annotations

from ftdata.params import load_params, validated_section
from ftdata.runner import op_calls, run_row_stage
from ftdata.stage import ingest_path, metrics_path, out_path, project_root, rejects_path, stage_main


@stage_main("clean")
def main() -> None:
    root = project_root()
    section = validated_section(root, "clean")
    executor = validated_section(root, "executor")
    # Sources in name order: the input order downstream tie-breaks (dedup) rely on.
    inputs = [ingest_path(name) for name in sorted(load_params(root)["source"])]
    run_row_stage(
        "clean",
        inputs,
        out_path("clean"),
        rejects_path("clean"),
        metrics_path("clean"),
        op_calls(section, "clean"),
        executor["chunk_size"],
    )
