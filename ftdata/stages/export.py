"""Export: trainer formats per split, every row validated, plus records.parquet with every column.

Every row is converted and checked on its own, so records stream through in
chunks of ``executor.chunk_size`` into files that stay open for the whole run;
only rejects, feedback candidates and counts are kept across chunks.
"""

from __future__ import annotations

import contextlib
import json

import pandas as pd

from ftdata.annotate.classification import ClassificationWriter
from ftdata.export import dataset_info, to_alpaca, to_openai, to_sharegpt
from ftdata.io import atomic_dir, remove_stale_temps, to_jsonable
from ftdata.licenses import check_export_licenses, license_violations
from ftdata.metrics import StageCounts
from ftdata.ops.feedback import review_candidates
from ftdata.params import chunk_size, pii_types, validated_section
from ftdata.privacy.fields import FieldRedactor, write_review
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.reasons import Reason
from ftdata.record import params_hash
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
from ftdata.stream import RowGroupWriter, iter_chunks

SPLITS = ("train", "val", "test")
LICENSE_COLUMNS = ["source", "license", "locator"]  # what the licence gate reads
CONVERTERS = {
    "openai": (to_openai, "openai_chat.schema.json", False),
    "alpaca": (to_alpaca, "alpaca.schema.json", True),
    "sharegpt": (to_sharegpt, "sharegpt.schema.json", True),
}


def _row_errors(fmt: str, row: dict) -> list[str]:
    _, schema, is_array = CONVERTERS[fmt]
    return errors_of([row] if is_array else row, schema)


class JsonArrayFile:
    """``json.dumps(rows, ensure_ascii=False, indent=2) + "\\n"``, written a row at a time
    (an item of an indented array is its own indented dump, shifted one level)."""

    def __init__(self, path):
        self._fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.rows = 0

    def add(self, row: dict) -> None:
        text = json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self._fh.write(("[\n  " if not self.rows else ",\n  ") + text)
        self.rows += 1

    def close(self) -> None:
        self._fh.write("\n]\n" if self.rows else "[]\n")
        self._fh.close()


@stage_main("export")
def main() -> None:
    root = project_root()
    section = validated_section(root, "export")
    name, system, formats = section["dataset_name"], section["system_prompt"], section["formats"]
    rej, met = rejects_path("export"), metrics_path("export")
    remove_stale_temps(
        PROCESSED / "openai",
        PROCESSED / "llamafactory",
        PROCESSED / "classification",
        PROCESSED / "records.parquet",
        rej,
        met,
    )
    hold = OpCall("hold_for_review", section["hold_for_review"])
    factory = [f for f in formats if f in ("alpaca", "sharegpt")]
    counts = StageCounts("export")
    files = {fmt: dict.fromkeys(SPLITS, 0) for fmt in formats}
    held_rejects, invalid_rejects, candidates, unlicensed = [], [], [], []
    # The last line of defence: every string field of every record is redacted again here,
    # whatever clean.ops holds; what it still finds is counted as residual PII (0 expected).
    redactor = FieldRedactor(pii_types(root))
    residual, residual_records = dict.fromkeys(redactor.types, 0), 0
    guard_entry = {
        "stage": "export",
        "op": "redact_fields",
        "params_hash": params_hash(
            {"op": "redact_fields", "params": {"types": list(redactor.types)}}
        ),
    }

    # Every output is built in a temp file or directory and renamed into place when the
    # block ends without error: a licence violation found at the end writes none of them.
    with contextlib.ExitStack() as stack:
        openai_dir = stack.enter_context(atomic_dir(PROCESSED / "openai"))
        factory_dir = stack.enter_context(atomic_dir(PROCESSED / "llamafactory"))
        records_out = stack.enter_context(RowGroupWriter(PROCESSED / "records.parquet"))
        classification = stack.enter_context(
            ClassificationWriter(PROCESSED / "classification", SPLITS)
        )
        # Both directories always exist (they are DVC outs); a disabled format leaves its files out.
        outputs = {}
        for split in SPLITS if "openai" in formats else ():
            fh = stack.enter_context(open(openai_dir / f"{split}.jsonl", "w", encoding="utf-8"))
            outputs["openai", split] = fh
        for fmt in factory:
            for split in SPLITS:
                array = JsonArrayFile(factory_dir / f"{name}_{fmt}_{split}.json")
                stack.callback(array.close)
                outputs[fmt, split] = array

        for records in iter_chunks(out_path("validate"), chunk_size(root)):
            counts.n_in += len(records)
            records, found = redactor.frame(records, guard_entry)
            residual_records += sum(bool(kinds) for kinds in found)
            for kinds in found:
                for kind in kinds:
                    residual[kind] += 1
            # Production feedback waits in the review queue until adjudicated (ftdata/ops/feedback.py).
            held = apply_op(records, hold, "export")
            records = held.kept
            candidates += review_candidates(held.rejected)
            if len(held.rejected):
                counts.reject(held.rejected["reason"])
                held_rejects.append(rejects_frame("export", held.rejected))

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
                        files[fmt][rec["split"]] += 1
                        if fmt == "openai":
                            outputs[fmt, rec["split"]].write(
                                json.dumps(to_jsonable(row), ensure_ascii=False) + "\n"
                            )
                        elif fmt in factory:
                            outputs[fmt, rec["split"]].add(row)

            kept = records[keep].reset_index(drop=True)
            if license_violations(kept, section["accepted_licenses"]):
                unlicensed.append(kept[[c for c in LICENSE_COLUMNS if c in kept.columns]])
            rejected = records[[not k for k in keep]].assign(reason=str(Reason.SCHEMA_INVALID))
            rejected["detail"] = [d for d, k in zip(details, keep, strict=True) if not k]
            counts.out += len(kept)
            counts.reject(rejected["reason"])
            if len(rejected):
                invalid_rejects.append(rejects_frame("export", rejected))
            if len(kept.columns):  # a chunk held whole has no columns left (``records[[]]``)
                records_out.write(kept)
            # Intent classification JSONL per split: text, label path, label at each level.
            classification.add(kept)

        write_review(REVIEW / "feedback_candidates.jsonl", candidates, redactor.types)
        # Before any export is in place: a licence outside export.accepted_licenses fails the build.
        check_export_licenses(
            pd.concat(unlicensed, ignore_index=True) if unlicensed else pd.DataFrame(),
            section["accepted_licenses"],
        )
        info = dataset_info(name, list(SPLITS), factory)
        assert not errors_of(info, "dataset_info.schema.json")
        (factory_dir / "dataset_info.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    counts.extra = {
        "files": files,
        "classification": classification.counts(),
        # records in which the export still found PII (redacted before writing), per type
        "residual_pii": {"records": residual_records, "types": residual},
    }
    write_rejects(rej, held_rejects + invalid_rejects)
    counts.write(met)
