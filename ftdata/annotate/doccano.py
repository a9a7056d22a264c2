"""doccano round trip (text classification projects): import file and label set out, JSONL in.

Out: doccano's JSONL import format (``text``, ``label`` as a list for
pre-annotation, plus our ``record_id`` and ``guideline_version`` which doccano
keeps as metadata) and a label-types file for *Labels > Import*.

In: doccano's JSONL export. A project without collaborative mode exports one
file per user (``<username>.jsonl``); a line may also name its annotator in
``annotator`` / ``user``. Lines without a label are unlabelled examples, not
annotations, and are only counted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ftdata.annotate.rows import (
    GUIDELINE_FIELD,
    TASK_ID_FIELD,
    AnnotationRow,
    ReadResult,
    clean_str,
)
from ftdata.annotate.taxonomy import Taxonomy
from ftdata.reasons import Reason

TOOL = "doccano"


def import_rows(
    items: list[dict], guideline_version: str, tax: Taxonomy, with_predictions: bool = True
) -> list[dict]:
    rows = []
    for item in items:
        label = item.get("label")
        rows.append(
            {
                "text": item["text"],
                "label": [label] if with_predictions and tax.is_label(label) else [],
                TASK_ID_FIELD: item["id"],
                GUIDELINE_FIELD: guideline_version,
                "source": item.get("source"),
            }
        )
    return rows


def label_types(tax: Taxonomy) -> list[dict]:
    """doccano's label import format; colours are derived from the top-level node (stable)."""
    out = []
    for path in tax.leaves:
        digest = hashlib.sha256(path.split(">")[0].encode("utf-8")).hexdigest()
        out.append(
            {
                "text": path,
                "prefix_key": None,
                "suffix_key": None,
                "background_color": f"#{digest[:6]}",
                "text_color": "#ffffff",
            }
        )
    return out


def read_export(
    path: Path,
    rel: str,
    batch: str,
    default_version: str | None,
    aliases: dict[str, str],
) -> ReadResult:
    out = ReadResult()
    file_user = path.stem
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        out.read += 1
        out.reject(
            Reason.MALFORMED_ANNOTATION,
            f"not UTF-8: {err}",
            locator=rel,
            batch=batch,
            tool=TOOL,
            raw="",
        )
        return out
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        locator = f"{rel}:{lineno}"
        common = {"locator": locator, "batch": batch, "tool": TOOL, "raw": line}
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            out.read += 1
            out.reject(Reason.MALFORMED_ANNOTATION, f"not JSON: {err.msg}", **common)
            continue
        if not isinstance(row, dict):
            out.read += 1
            out.reject(Reason.MALFORMED_ANNOTATION, "line is not a JSON object", **common)
            continue
        meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
        task_id = clean_str(row.get(TASK_ID_FIELD)) or clean_str(meta.get(TASK_ID_FIELD))
        raw_user = clean_str(row.get("annotator")) or clean_str(row.get("user")) or file_user
        who = aliases.get(raw_user, raw_user)
        version = (
            clean_str(row.get(GUIDELINE_FIELD))
            or clean_str(meta.get(GUIDELINE_FIELD))
            or default_version
        )
        labels = row.get("label", row.get("labels"))
        if labels in (None, [], ""):
            out.skipped["unlabelled"] += 1
            continue
        out.read += 1
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            out.reject(
                Reason.MALFORMED_ANNOTATION,
                "`label` is not a list of category names (span labels?)",
                task_id=task_id,
                annotator=who,
                **common,
            )
            continue
        if task_id is None:
            out.reject(
                Reason.MALFORMED_ANNOTATION, f"line has no {TASK_ID_FIELD}", annotator=who, **common
            )
            continue
        if len(labels) != 1:
            out.reject(
                Reason.MALFORMED_ANNOTATION,
                f"{who} gave {len(labels)} labels ({', '.join(labels)}); exactly one is expected",
                task_id=task_id,
                annotator=who,
                label=labels[0],
                **common,
            )
            continue
        out.rows.append(
            AnnotationRow(task_id, who, labels[0].strip(), version, batch, TOOL, locator)
        )
    return out
