"""What a source's ingest says beyond its counts: metrics headlines and end-of-stage warnings.

Kept to a handful of figures per source (``dvc metrics show`` prints every key):
files read and files that gave no record by reason, the top raw labels that
``label_map`` does not map, JSON NaN/Infinity read as null, invisible characters
removed from ids, meta and labels.
"""

from __future__ import annotations

from collections import Counter

from ftdata.ingest.items import IngestResult

TOP_LABELS = 5
NOTES_SHOWN = 5  # file notes named in the metrics and the warning; the rest are counted


def ingest_notes(result: IngestResult, cfg: dict) -> dict:
    """The extra keys of ``data/metrics/ingest/<source>.json``."""
    refused = Counter(str(note.reason) for note in result.notes if note.refused)
    empty = Counter(str(note.reason) for note in result.notes if not note.refused)
    top = result.unmapped_labels.most_common(TOP_LABELS)
    return {
        "files": {
            "read": len(result.files),
            "refused": dict(sorted(refused.items())),  # not opened: symlink out, too big, bomb
            "without_records": dict(sorted(empty.items())),  # no_records, binary_file
        },
        # path -> reason of the first few; the warning and the stage log give the details
        "file_notes": {note.path: str(note.reason) for note in result.notes[:NOTES_SHOWN]},
        "unmapped_labels": {
            "records": sum(result.unmapped_labels.values()),
            "distinct": len(result.unmapped_labels),
            "action": cfg.get("unmapped_label") or "keep",
            "top": dict(top),
        },
        "nonfinite_to_null": result.nonfinite_to_null,
        "control_chars_removed": result.controls_removed,
    }


def warnings(name: str, result: IngestResult, n_in: int, cfg: dict) -> list[str]:
    """One line per problem a user should see even when the build succeeds."""
    lines = []
    if result.notes:
        shown = "; ".join(f"{note.detail} [{note.reason}]" for note in result.notes[:NOTES_SHOWN])
        more = len(result.notes) - NOTES_SHOWN
        lines.append(
            f"source `{name}`: {len(result.notes)} file(s) gave no record: {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )
    unmapped = sum(result.unmapped_labels.values())
    if unmapped:
        top = ", ".join(
            f"{label!r} x{n}" for label, n in result.unmapped_labels.most_common(TOP_LABELS)
        )
        lines.append(
            f"source `{name}`: {unmapped} of {n_in} record(s) have a raw label that "
            f"source.{name}.label_map does not map ({top}); they are "
            + (
                "rejected (unmapped_label)"
                if cfg.get("unmapped_label") == "reject"
                else f"kept unlabelled with meta.raw_label (set source.{name}.unmapped_label: "
                "reject to drop them)"
            )
        )
    if result.nonfinite_to_null:
        lines.append(
            f"source `{name}`: {result.nonfinite_to_null} JSON NaN/Infinity value(s) read as "
            "null (not valid JSON; see meta.nonfinite_to_null)"
        )
    return lines
