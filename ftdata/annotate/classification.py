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
    with ClassificationWriter(directory, splits) as writer:
        writer.add(records)
    return writer.counts()


class ClassificationWriter:
    """``write_classification`` chunk by chunk (the export stage streams its records):
    one open file per split in a temp directory swapped into place on success."""

    def __init__(self, directory, splits: tuple[str, ...]):
        from ftdata.io import atomic_dir

        self._ctx = atomic_dir(directory)
        self.splits = splits
        self.written: dict[str, int] = {s: 0 for s in splits}
        self.unlabelled = 0
        self.invalid: list[str] = []
        self._files: dict = {}

    def __enter__(self) -> ClassificationWriter:
        tmp = self._ctx.__enter__()
        try:
            for split in self.splits:
                self._files[split] = open(tmp / f"{split}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        except BaseException as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def add(self, records) -> None:
        import json

        from ftdata.io import to_jsonable
        from ftdata.schemas import errors_of

        for rec in records.to_dict("records"):
            row = to_classification(rec)
            if row is None:
                self.unlabelled += 1
            elif errors_of(row, "classification.schema.json"):
                self.invalid.append(rec["id"])
            else:
                fh = self._files[rec["split"]]
                fh.write(json.dumps(to_jsonable(row), ensure_ascii=False) + "\n")
                self.written[rec["split"]] += 1

    def counts(self) -> dict:
        return {**self.written, "unlabelled": self.unlabelled, "invalid": len(self.invalid)}

    def __exit__(self, exc_type, exc, tb) -> None:
        for fh in self._files.values():
            fh.close()
        self._ctx.__exit__(exc_type, exc, tb)
