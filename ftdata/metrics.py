"""Per-stage accounting: in + added = out + sum(rejected by reason).

Each stage writes two files. ``data/metrics/<stage>.json`` holds every figure
(rejects per reason, per label, per annotator...): the report, the card, the
release manifest and the tests read it, and dvc.yaml declares it a plain
output. ``data/metrics/headline/<stage>.json`` holds a handful of numbers and is
what dvc.yaml declares as DVC metrics, because ``dvc metrics show`` puts every
key of every metrics file in one column of one table: with the detail in it
that table was 24,000 characters wide.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ftdata.io import write_json

HEADLINE_DIR = "headline"
# Stage-specific headline figures: column name -> dotted key in the stage's full metrics.
# Names are shared across stages where the meaning is the same (train/val/test), so the
# `dvc metrics show` table gains one column per name, not one per stage; every name
# widens that table, so a figure earns a place here only if a release diff should show it.
HEADLINE_EXTRAS: dict[str, dict[str, str]] = {
    "annotate": {"alpha": "overall.krippendorff_alpha"},
    "evaluate": {"accuracy": "accuracy", "macro_f1": "macro_f1"},
    "split": {
        "train": "splits.splits.train",
        "val": "splits.splits.val",
        "test": "splits.splits.test",
    },
}


def headline_path(path: str | Path) -> Path:
    """``data/metrics/x.json`` -> ``data/metrics/headline/x.json`` (ingest: ``headline/ingest/s.json``)."""
    path = Path(path)
    parts = path.parts
    if "metrics" in parts:
        i = len(parts) - 1 - parts[::-1].index("metrics")
        return Path(*parts[: i + 1], HEADLINE_DIR, *parts[i + 1 :])
    return path.parent / HEADLINE_DIR / path.name


def _dotted(data: dict, key: str):
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def headline(full: dict) -> dict:
    """The few numbers of a stage's metrics that belong in ``dvc metrics show``."""
    rejected = full.get("rejected")
    out = {
        "in": full.get("in", 0),
        "out": full.get("out", 0),
        "added": full.get("added", 0),
        "rejected": sum(rejected.values()) if isinstance(rejected, dict) else rejected or 0,
    }
    for name, key in HEADLINE_EXTRAS.get(str(full.get("stage")), {}).items():
        value = _dotted(full, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out


def summary_headline(summary: dict) -> dict:
    """The whole build in a few numbers: raw -> kept originals, the derived records, the splits."""
    derived = summary.get("derived_records") or {}
    return {
        "in": summary.get("raw_records", 0),
        "kept": summary.get("kept_originals", 0),
        "augmented": derived.get("augmented", 0),
        "resampled": derived.get("resampled", 0),
        "out": summary.get("exported_records", 0),
        "kept_ratio": summary.get("kept_ratio", 0.0),
        **{s: n for s, n in (summary.get("splits") or {}).items()},
    }


def write_headline(path: str | Path, full: dict) -> None:
    """Write the headline next to the full metrics file at ``path`` (see the module docstring)."""
    write_json(headline_path(path), headline(full))


@dataclass
class StageCounts:
    stage: str
    n_in: int = 0
    out: int = 0
    added: int = 0
    rejected: Counter = field(default_factory=Counter)
    extra: dict = field(default_factory=dict)

    def reject(self, reasons) -> None:
        self.rejected.update(str(r) for r in reasons)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def balanced(self) -> bool:
        return self.n_in + self.added == self.out + self.rejected_total

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "in": self.n_in,
            "added": self.added,
            "out": self.out,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": self.rejected_total,
            **self.extra,
        }

    def write(self, path: str | Path) -> None:
        if not self.balanced():
            raise AssertionError(
                f"{self.stage}: records lost: in {self.n_in} + added {self.added} != "
                f"out {self.out} + rejected {self.rejected_total}"
            )
        write_json(path, self.as_dict())
        write_headline(path, self.as_dict())
