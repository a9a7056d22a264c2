"""Export: trainer formats per split, every row validated, plus records.parquet with every column."""

from __future__ import annotations

import json

from ftdata.annotate.classification import write_classification
from ftdata.compose import validated_section
from ftdata.export import dataset_info, to_alpaca, to_openai, to_sharegpt
from ftdata.io import (
    atomic_dir,
    read_records,
    rejects_frame,
    remove_stale_temps,
    to_jsonable,
    write_jsonl,
    write_records,
    write_rejects,
)
from ftdata.licenses import check_export_licenses
from ftdata.metrics import StageCounts
from ftdata.ops.feedback import review_candidates
from ftdata.reasons import Reason
from ftdata.runner import OpCall, apply_op
from ftdata.schemas import errors_of
from ftdata.stage import (
    PROCESSED,
    REVIEW,
    metrics_path,
    out_path,
    project_root,
    rejects_path,
    stage_main,
)

SPLITS = ("train", "val", "test")
CONVERTERS = {
    "openai": (to_openai, "openai_chat.schema.json", False),
    "alpaca": (to_alpaca, "alpaca.schema.json", True),
    "sharegpt": (to_sharegpt, "sharegpt.schema.json", True),
}


def _row_errors(fmt: str, row: dict) -> list[str]:
    _, schema, is_array = CONVERTERS[fmt]
    return errors_of([row] if is_array else row, schema)


@stage_main("export")
def main() -> None:
    root = project_root()
    section = validated_section(root, "export")
    name, system, formats = section["dataset_name"], section["system_prompt"], section["formats"]
    rej, met = rejects_path("export"), metrics_path("export")
    remove_stale_temps(
        PROCESSED / "openai", PROCESSED / "llamafactory", PROCESSED / "records.parquet", rej, met
    )
    records = read_records(out_path("validate"))
    # Production feedback waits in the review queue until adjudicated (ftdata/ops/feedback.py).
    n_read = len(records)
    held = apply_op(records, OpCall("hold_for_review", section["hold_for_review"]), "export")
    records = held.kept
    write_jsonl(REVIEW / "feedback_candidates.jsonl", review_candidates(held.rejected))

    rows: dict[str, dict[str, list]] = {fmt: {s: [] for s in SPLITS} for fmt in formats}
    keep, details = [], []
    for rec in records.to_dict("records"):
        converted = {fmt: CONVERTERS[fmt][0](rec["messages"], system) for fmt in formats}
        problems = [
            f"{fmt}{e[1:]}" for fmt, row in converted.items() for e in _row_errors(fmt, row)
        ]
        keep.append(not problems)
        details.append(f"{rec['locator']}: " + "; ".join(problems[:3]) if problems else "")
        if not problems:
            for fmt, row in converted.items():
                rows[fmt][rec["split"]].append(row)

    kept = records[keep].reset_index(drop=True)
    # Before anything is written: a licence outside export.accepted_licenses fails the build.
    check_export_licenses(kept, section["accepted_licenses"])
    rejected = records[[not k for k in keep]].assign(reason=str(Reason.SCHEMA_INVALID))
    rejected["detail"] = [d for d, k in zip(details, keep, strict=True) if not k]
    counts = StageCounts("export", n_in=n_read, out=len(kept))
    counts.reject(rejected["reason"])
    counts.reject(held.rejected["reason"] if len(held.rejected) else [])
    counts.extra = {
        "files": {fmt: {s: len(v) for s, v in by_split.items()} for fmt, by_split in rows.items()}
    }

    # Both directories always exist (they are DVC outs); a disabled format leaves its files out.
    with atomic_dir(PROCESSED / "openai") as tmp:
        for split in SPLITS if "openai" in formats else ():
            lines = [
                json.dumps(to_jsonable(r), ensure_ascii=False) + "\n" for r in rows["openai"][split]
            ]
            (tmp / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    factory = [f for f in formats if f in ("alpaca", "sharegpt")]
    with atomic_dir(PROCESSED / "llamafactory") as tmp:
        for fmt in factory:
            for split in SPLITS:
                text = json.dumps(rows[fmt][split], ensure_ascii=False, indent=2) + "\n"
                (tmp / f"{name}_{fmt}_{split}.json").write_text(text, encoding="utf-8")
        info = dataset_info(name, list(SPLITS), factory)
        assert not errors_of(info, "dataset_info.schema.json")
        (tmp / "dataset_info.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    write_records(PROCESSED / "records.parquet", kept)
    # Intent classification JSONL per split: text, label path, label at each level (labelled records only).
    counts.extra["classification"] = write_classification(
        PROCESSED / "classification", kept, SPLITS
    )
    write_rejects(rej, [rejects_frame("export", held.rejected), rejects_frame("export", rejected)])
    counts.write(met)


if __name__ == "__main__":
    main()
