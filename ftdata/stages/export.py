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
from ftdata.export import CONVERTERS, JsonArrayFile, dataset_info, row_errors
from ftdata.io import atomic_dir, to_jsonable
from ftdata.licenses import check_export_licenses, license_violations
from ftdata.ops.feedback import review_candidates
from ftdata.params import chunk_size, pii_types, validated_section
from ftdata.privacy.fields import FieldRedactor, write_review
from ftdata.reasons import Reason
from ftdata.record import SPLITS, params_hash
from ftdata.runner import OpCall, apply_op
from ftdata.schemas import errors_of
from ftdata.stage import (
    PROCESSED,
    REVIEW,
    out_path,
    project_root,
    stage_main,
)
from ftdata.stage_run import StageRun
from ftdata.stream import RowGroupWriter, iter_chunks

OUTPUTS = (
    PROCESSED / "openai",
    PROCESSED / "llamafactory",
    PROCESSED / "classification",
    PROCESSED / "records.parquet",
)
LICENSE_COLUMNS = ["source", "license", "locator"]  # what the licence gate reads


@stage_main("export")
def main() -> None:
    root = project_root()
    section = validated_section(root, "export")
    name, system, formats = section["dataset_name"], section["system_prompt"], section["formats"]
    with StageRun("export", *OUTPUTS) as run:
        _export(run, root, section, name, system, formats)


def _export(run: StageRun, root, section: dict, name: str, system, formats: list[str]) -> None:
    """Every output is built in a temp file or folder, renamed into place only at the end."""
    hold = OpCall("hold_for_review", section["hold_for_review"])
    factory = [f for f in formats if f in ("alpaca", "sharegpt")]
    counts = run.counts
    files = {fmt: dict.fromkeys(SPLITS, 0) for fmt in formats}
    invalid, candidates, unlicensed = [], [], []
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

    # A licence violation found at the end writes none of them (nor rejects, nor metrics).
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
            run.reject(held.rejected)

            keep, details = [], []
            for rec in records.to_dict("records"):
                converted = {fmt: CONVERTERS[fmt][0](rec["messages"], system) for fmt in formats}
                problems = [
                    f"{fmt}{e[1:]}" for fmt, row in converted.items() for e in row_errors(fmt, row)
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
            invalid.append(rejected)  # after every held record, as the rejects file lists them
            if len(kept.columns):  # a chunk held whole has no columns left (``records[[]]``)
                records_out.write(kept)
            # Intent classification JSONL per split: text, label path, label at each level.
            classification.add(kept)

        write_review(REVIEW / "feedback_candidates.jsonl", candidates, redactor.types)
        for rejected in invalid:
            run.reject(rejected)
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
