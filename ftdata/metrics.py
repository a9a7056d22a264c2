"""Per-stage accounting: in + added = out + sum(rejected by reason)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ftdata.io import write_json


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
