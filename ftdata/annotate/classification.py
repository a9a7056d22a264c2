"""The intent-classification view of a record: its text, and the export row.

A chat record has no ``text`` of its own; what an intent annotator reads (and a
classifier learns from) is what the customer said: the user turns, joined by
newlines. A classification record's ``text`` wins when present. The annotation
tasks, the review queue and the classification export all use this one
function, so annotators label exactly the text that is exported.
"""

from __future__ import annotations

from ftdata.annotate.taxonomy import levels


def classification_text(messages: list[dict] | None, text: str | None) -> str:
    if isinstance(text, str) and text.strip():
        return text.strip()
    turns = [m.get("content") or "" for m in (messages or []) if m.get("role") == "user"]
    return "\n".join(t.strip() for t in turns if t and t.strip())


def to_classification(record: dict) -> dict | None:
    """``{id, text, label, label_levels, lang, source}`` or None for an unlabelled record."""
    label = record.get("label")
    if not isinstance(label, str) or not label:
        return None
    return {
        "id": record["id"],
        "text": classification_text(record.get("messages"), record.get("text")),
        "label": label,
        "label_levels": levels(label),
        "lang": record.get("lang"),
        "source": record.get("source"),
    }


def write_classification(directory, records, splits: tuple[str, ...]) -> dict:
    """Write ``<split>.jsonl`` of labelled records under ``directory``; return the counts.

    Unlabelled records are counted, not written (they stay in the chat exports);
    a row that fails schemas/classification.schema.json (e.g. no user text) is
    counted as invalid with its id, never written.
    """
    import json

    from ftdata.io import atomic_dir, to_jsonable
    from ftdata.schemas import errors_of

    rows: dict[str, list[dict]] = {s: [] for s in splits}
    unlabelled, invalid = 0, []
    for rec in records.to_dict("records"):
        row = to_classification(rec)
        if row is None:
            unlabelled += 1
        elif errors_of(row, "classification.schema.json"):
            invalid.append(rec["id"])
        else:
            rows[rec["split"]].append(row)
    with atomic_dir(directory) as tmp:
        for split, split_rows in rows.items():
            lines = [json.dumps(to_jsonable(r), ensure_ascii=False) + "\n" for r in split_rows]
            (tmp / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    return {
        **{s: len(v) for s, v in rows.items()},
        "unlabelled": unlabelled,
        "invalid": len(invalid),
    }
