"""Plain files reviewers and annotators hand in, and the dispatch over all annotation inputs.

- annotations CSV: ``id,annotator,label,guideline_version`` (``batch`` optional);
- adjudication CSV: ``id,label,reviewer,note``: a reviewer's final word on an item;
- gold CSV: ``id,label``: items with a known answer, hidden among the tasks;
- spot-check verdicts CSV: ``id,verdict,reviewer,note`` with ``verdict`` correct / incorrect,
  for the quality stage's spot-check sample.

A missing file or column is a SourceError (the user must fix the input); a bad
row is an annotation reject naming ``file:line``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ftdata.annotate import doccano, labelstudio
from ftdata.annotate.rows import AnnotationRow, ReadResult, annotation_reject, clean_str
from ftdata.errors import SourceError
from ftdata.reasons import Reason

TOOLS = ("label-studio", "doccano", "csv")
CSV_COLUMNS = ("id", "annotator", "label", "guideline_version")
VERDICTS = {
    "correct": True,
    "ok": True,
    "yes": True,
    "1": True,
    "true": True,
    "正确": True,
    "对": True,
    "incorrect": False,
    "wrong": False,
    "no": False,
    "0": False,
    "false": False,
    "错误": False,
    "错": False,
}


def _csv_rows(path: Path, rel: str, required: tuple[str, ...]):
    """Yield ``(line, row)`` of a UTF-8 CSV (BOM allowed), after checking its header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"{rel}: not found") from None
    except UnicodeDecodeError as err:
        raise SourceError(f"{rel}: not UTF-8 ({err}); save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(
            f"{rel}:1: missing column(s) {', '.join(missing)} (header: {','.join(header)})"
        )
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, row


def read_annotation_csv(
    path: Path, rel: str, batch: str, default_version: str | None, aliases: dict[str, str]
) -> ReadResult:
    out = ReadResult()
    for line, row in _csv_rows(path, rel, ("id", "annotator", "label")):
        out.read += 1
        locator = f"{rel}:{line}"
        task_id, who, label = (
            clean_str(row.get("id")),
            clean_str(row.get("annotator")),
            clean_str(row.get("label")),
        )
        who = aliases.get(who, who) if who else None
        row_batch = clean_str(row.get("batch")) or batch
        common = {
            "locator": locator,
            "batch": row_batch,
            "tool": "csv",
            "raw": row,
            "task_id": task_id,
            "annotator": who,
        }
        missing = [
            k for k, v in (("id", task_id), ("annotator", who), ("label", label)) if v is None
        ]
        if missing:
            out.reject(Reason.MALFORMED_ANNOTATION, f"empty {', '.join(missing)}", **common)
            continue
        if str(row.get("cancelled") or "").strip().lower() in ("1", "true", "yes"):
            out.reject(Reason.ANNOTATION_CANCELLED, f"skipped by {who}", label=label, **common)
            continue
        version = clean_str(row.get("guideline_version")) or default_version
        out.rows.append(AnnotationRow(task_id, who, label, version, row_batch, "csv", locator))
    return out


@dataclass
class InputSpec:
    path: str
    tool: str
    batch: str | None = None
    guideline_version: str | None = None
    glob: str = "*"
    annotators: dict[str, str] = field(default_factory=dict)


def _files(spec: InputSpec, root: Path) -> list[Path]:
    full = root / spec.path
    if full.is_dir():
        return sorted(p for p in full.glob(spec.glob) if p.is_file() and not p.name.startswith("."))
    if full.is_file():
        return [full]
    raise SourceError(
        f"annotate.inputs: {spec.path!r} does not exist; add the export under data/raw/annotations/"
    )


def read_input(spec: InputSpec, root: Path) -> ReadResult:
    """Read one configured input (a file, or a folder of files such as doccano's per-user export)."""
    if spec.tool not in TOOLS:
        raise SourceError(
            f"annotate.inputs: {spec.path!r}: unknown tool {spec.tool!r} (known: {', '.join(TOOLS)})"
        )
    full = root / spec.path
    out = ReadResult()
    for path in _files(spec, root):
        # `ftdata annotate report` may read an export that is not in the project yet.
        rel = (path.relative_to(root) if path.is_relative_to(root) else path).as_posix()
        batch = spec.batch or (full.name if full.is_dir() else path.stem)
        reader = {
            "label-studio": labelstudio.read_export,
            "doccano": doccano.read_export,
            "csv": read_annotation_csv,
        }[spec.tool]
        out.extend(reader(path, rel, batch, spec.guideline_version, spec.annotators))
    return out


# ---------------------------------------------------------------- reviewer files
@dataclass
class Decision:
    task_id: str
    label: str
    who: str | None
    note: str
    locator: str


def _paths(entries: list[str], root: Path, what: str) -> list[tuple[Path, str]]:
    out = []
    for entry in entries:
        full = root / entry
        if full.is_dir():
            out += [(p, p.relative_to(root).as_posix()) for p in sorted(full.glob("*.csv"))]
        elif full.is_file():
            out.append((full, full.relative_to(root).as_posix()))
        else:
            raise SourceError(f"annotate.{what}: {entry!r} does not exist")
    return out


def read_adjudications(entries: list[str], root: Path) -> tuple[list[Decision], list[dict]]:
    """Reviewers' final labels; a later file (by name) overrides an earlier one for the same id."""
    decisions, rejects = [], []
    for path, rel in _paths(entries, root, "adjudication"):
        for line, row in _csv_rows(path, rel, ("id", "label")):
            task_id, label = clean_str(row.get("id")), clean_str(row.get("label"))
            locator = f"{rel}:{line}"
            if task_id is None or label is None:
                rejects.append(
                    annotation_reject(
                        Reason.MALFORMED_ANNOTATION,
                        "adjudication needs id and label",
                        locator=locator,
                        batch="adjudication",
                        tool="adjudication",
                        raw=row,
                        task_id=task_id,
                    )
                )
                continue
            decisions.append(
                Decision(
                    task_id,
                    label,
                    clean_str(row.get("reviewer")),
                    clean_str(row.get("note")) or "",
                    locator,
                )
            )
    return decisions, rejects


def read_gold(entries: list[str], root: Path) -> tuple[list[Decision], list[dict]]:
    return _read_keyed(entries, root, "gold")


def _read_keyed(entries: list[str], root: Path, what: str) -> tuple[list[Decision], list[dict]]:
    out, rejects = [], []
    for path, rel in _paths(entries, root, what):
        for line, row in _csv_rows(path, rel, ("id", "label")):
            task_id, label = clean_str(row.get("id")), clean_str(row.get("label"))
            if task_id is None or label is None:
                rejects.append(
                    annotation_reject(
                        Reason.MALFORMED_ANNOTATION,
                        f"{what} row needs id and label",
                        locator=f"{rel}:{line}",
                        batch=what,
                        tool=what,
                        raw=row,
                        task_id=task_id,
                    )
                )
                continue
            out.append(
                Decision(task_id, label, None, clean_str(row.get("note")) or "", f"{rel}:{line}")
            )
    return out, rejects


@dataclass
class Verdict:
    task_id: str
    correct: bool
    reviewer: str | None
    locator: str


def read_verdicts(entries: list[str], root: Path) -> tuple[list[Verdict], list[dict]]:
    verdicts, rejects = [], []
    for path, rel in _paths(entries, root, "spot_check_verdicts"):
        for line, row in _csv_rows(path, rel, ("id", "verdict")):
            task_id = clean_str(row.get("id"))
            raw_verdict = (clean_str(row.get("verdict")) or "").lower()
            locator = f"{rel}:{line}"
            if task_id is None or raw_verdict not in VERDICTS:
                rejects.append(
                    annotation_reject(
                        Reason.MALFORMED_ANNOTATION,
                        f"verdict {row.get('verdict')!r} is not one of correct / incorrect",
                        locator=locator,
                        batch="spot_check",
                        tool="spot_check",
                        raw=row,
                        task_id=task_id,
                    )
                )
                continue
            verdicts.append(
                Verdict(task_id, VERDICTS[raw_verdict], clean_str(row.get("reviewer")), locator)
            )
    return verdicts, rejects
