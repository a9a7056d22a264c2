"""What every annotation reader returns: annotation rows, annotation-level rejects, skip counts.

An annotation is not a record of the dataset: a rejected annotation is kept
(with reason, detail and the raw text) in the annotation-rejects file, and the
records it was meant for stay in the build.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

from ftdata.reasons import Reason

# The field of a task (Label Studio ``data``, a doccano line) that carries our record id.
TASK_ID_FIELD = "record_id"
GUIDELINE_FIELD = "guideline_version"


@dataclass
class AnnotationRow:
    task_id: str
    annotator: str
    label: str
    guideline_version: str | None
    batch: str
    tool: str
    locator: str  # file and line, or file#/json/pointer


@dataclass
class ReadResult:
    rows: list[AnnotationRow] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # not annotations at all (e.g. unlabelled)
    read: int = 0  # annotation entries seen (rows + rejects)

    def extend(self, other: ReadResult) -> None:
        self.rows += other.rows
        self.rejects += other.rejects
        self.skipped.update(other.skipped)
        self.read += other.read

    def reject(
        self,
        reason: Reason,
        detail: str,
        *,
        locator: str,
        batch: str,
        tool: str,
        raw: object,
        task_id: str | None = None,
        annotator: str | None = None,
        label: str | None = None,
    ) -> None:
        self.rejects.append(
            annotation_reject(
                reason,
                detail,
                locator=locator,
                batch=batch,
                tool=tool,
                raw=raw,
                task_id=task_id,
                annotator=annotator,
                label=label,
            )
        )


REJECT_FIELDS = [
    "reason",
    "detail",
    "batch",
    "tool",
    "locator",
    "task_id",
    "annotator",
    "label",
    "raw",
]


def annotation_reject(
    reason: Reason,
    detail: str,
    *,
    locator: str,
    batch: str,
    tool: str,
    raw: object,
    task_id: str | None = None,
    annotator: str | None = None,
    label: str | None = None,
) -> dict:
    if not isinstance(raw, str):
        raw = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    return {
        "reason": str(reason),
        "detail": f"{locator}: {detail}",
        "batch": batch,
        "tool": tool,
        "locator": locator,
        "task_id": task_id,
        "annotator": annotator,
        "label": label,
        "raw": raw,
    }


def row_reject(row: AnnotationRow, reason: Reason, detail: str) -> dict:
    return annotation_reject(
        reason,
        detail,
        locator=row.locator,
        batch=row.batch,
        tool=row.tool,
        raw=asdict(row),
        task_id=row.task_id,
        annotator=row.annotator,
        label=row.label,
    )


def clean_str(value: object) -> str | None:
    """A stripped string, or None for missing / empty values (ints become strings)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    return text or None
