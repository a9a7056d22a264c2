"""Validate: every record against schemas/record.schema.json, and SFT trainability."""

from __future__ import annotations

from ftdata.errors import GateError
from ftdata.params import validated_section
from ftdata.runner import op_calls, run_row_stage
from ftdata.stage import metrics_path, out_path, project_root, rejects_path, stage_main


@stage_main("validate")
def main() -> None:
    root = project_root()
    section = validated_section(root, "validate")
    executor = validated_section(root, "executor")
    names = ["json_schema"] + (["trainable"] if section["require_assistant_reply"] else [])
    if (section.get("token_budget") or {}).get("tokenizer"):
        names.append("token_budget")
    counts = run_row_stage(
        "validate",
        [out_path("split")],
        out_path("validate"),
        rejects_path("validate"),
        metrics_path("validate"),
        op_calls(section, "validate", names),
        executor["chunk_size"],
    )
    ratio = counts.rejected_total / counts.n_in if counts.n_in else 0.0
    if ratio > section["max_reject_ratio"]:
        raise GateError(
            f"validate: {counts.rejected_total} of {counts.n_in} records invalid ({ratio:.1%}) > "
            f"validate.max_reject_ratio {section['max_reject_ratio']:.0%}; see {rejects_path('validate')}"
        )
