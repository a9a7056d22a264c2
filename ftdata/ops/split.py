"""Whole-dataset train/val/test assignment that is stable as data grows and never leaks.

Contract: a record keeps its split when new data arrives. So a record's split
is a function of its GROUP KEY and the seed only: ``sha256(f"{seed}:{key}")``
mapped to [0, 1) and cut at the cumulative ratios in the fixed order
train, val, test. Nothing about other records (counts, ranks, quotas) enters.

Groups (no leakage): records are joined, by union-find, when they share a
``conversation_id`` (all turns of one conversation), a ``dup_cluster`` (the
near-duplicate cluster named by dedup: its representative's id), or a
``parents`` link (an augmented record goes with the record it came from, and
siblings go together). One group lands in one split.

Group key: the smallest "conversation key" (``conversation_id``, else ``id``)
among the group's original members (those with no ``parents``; all members if
none is original). The brief suggested the smallest ``id``; the conversation
key is used instead because it does not change when a new turn of an
existing conversation or a new augmentation arrives, so neither moves the
group. Limit: a new record that JOINS two existing groups (e.g. it carries a
conversation_id of one group and a parent in another) merges them under one
key, and one of the two may move. Relabelling a record never moves it (the
label is not part of the key).

Stratification (``stratify_by``, default ``label``; ``source`` when the value
is null) is achieved in expectation only: the hash is independent of the
stratum, so within every stratum each split gets a binomial share around its
ratio. Any rule that makes it exact (sorting a stratum's groups and assigning
by rank, per-stratum quotas, forcing one group into a tiny split) makes a
record's split depend on the other records of its stratum, so adding data
would move records: that breaks the contract, so ftdata does not do it. The
cost: a stratum with k groups gets k*p +- sqrt(k*p*(1-p)) groups in a split of
ratio p, and a stratum with fewer than about 1/p groups often has none in it.
``split_report`` counts rows per split and per (stratum, split) and lists the
strata missing a split, so the stage's metrics make that visible; the remedy
is more data for the stratum, not reshuffling.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping

import pandas as pd

from ftdata.errors import ConfigError
from ftdata.ops.dedup import components
from ftdata.record import SPLITS
from ftdata.registry import OpResult, register

DEFAULT_RATIOS: dict[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}
UNKNOWN_STRATUM = "(unknown)"


def validate_ratios(ratios: Mapping[str, float] | None) -> dict[str, float]:
    """Checked ratios in the fixed order train, val, test; ConfigError naming ``split.ratios``."""
    if ratios is None:
        ratios = DEFAULT_RATIOS
    if not isinstance(ratios, Mapping) or not ratios:
        raise ConfigError(f"split.ratios: expected a mapping like {DEFAULT_RATIOS}, got {ratios!r}")
    unknown = sorted(str(k) for k in ratios if k not in SPLITS)
    if unknown:
        raise ConfigError(
            f"split.ratios: unknown split name(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(SPLITS)}"
        )
    checked: dict[str, float] = {}
    for name in SPLITS:
        if name not in ratios:
            continue
        value = ratios[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"split.ratios.{name}: expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"split.ratios.{name}: must be >= 0, got {value!r}")
        checked[name] = float(value)
    total = math.fsum(checked.values())
    if abs(total - 1.0) > 1e-9:
        raise ConfigError(f"split.ratios: must sum to 1, got {total!r} ({checked})")
    return checked


def unit_hash(seed: int, key: str) -> float:
    """``sha256(f"{seed}:{key}")`` as a number in [0, 1): uniform and stable across runs."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
    return int(digest[:16], 16) / 2.0**64


def split_for(u: float, ratios: Mapping[str, float]) -> str:
    """The split whose cumulative-ratio interval holds ``u`` (order train, val, test)."""
    positive = [(name, r) for name, r in ratios.items() if r > 0]
    cumulative = 0.0
    for name, ratio in positive:
        cumulative += ratio
        if u < cumulative:
            return name
    return positive[-1][0]  # float rounding left cumulative a hair below 1


def _present(value) -> bool:
    return isinstance(value, str) and value != ""


def _column(batch: pd.DataFrame, name: str) -> list:
    return list(batch[name]) if name in batch.columns else [None] * len(batch)


def group_keys(batch: pd.DataFrame) -> list[str]:
    """Group key per row: rows sharing a conversation, dup cluster or parent link share it."""
    n = len(batch)
    ids = [str(i) for i in batch["id"]]
    conversations = _column(batch, "conversation_id")
    clusters = _column(batch, "dup_cluster")
    parents = [
        list(p) if p is not None and not isinstance(p, float) else []
        for p in _column(batch, "parents")
    ]

    first_with: dict[tuple[str, str], int] = {}
    pairs: list[tuple[int, int]] = []
    for i in range(n):
        # ids, dup clusters (a representative's id) and parents share one namespace
        links = [("rec", ids[i])]
        if _present(conversations[i]):
            links.append(("conv", conversations[i]))
        if _present(clusters[i]):
            links.append(("rec", clusters[i]))
        links.extend(("rec", p) for p in parents[i] if _present(p))
        for link in links:
            first = first_with.setdefault(link, i)
            if first != i:
                pairs.append((first, i))
    roots = components(n, pairs)

    conv_key = [c if _present(c) else rid for c, rid in zip(conversations, ids, strict=True)]
    # original members (no parents) outrank derived ones; then the smallest key wins
    best: dict[int, tuple[bool, str]] = {}
    for i in range(n):
        candidate = (bool(parents[i]), conv_key[i])
        if roots[i] not in best or candidate < best[roots[i]]:
            best[roots[i]] = candidate
    return [best[roots[i]][1] for i in range(n)]


def strata(df: pd.DataFrame, stratify_by: str = "label") -> list[str]:
    """Stratum per row: the ``stratify_by`` value, else ``source``, else ``(unknown)``."""
    values = _column(df, stratify_by)
    sources = _column(df, "source")
    return [
        str(v) if _present(v) else (str(s) if _present(s) else UNKNOWN_STRATUM)
        for v, s in zip(values, sources, strict=True)
    ]


LINK_COLUMNS = ["id", "conversation_id", "dup_cluster", "parents"]  # all ``group_keys`` reads


def _checked(ratios, seed, stratify_by) -> dict[str, float]:
    checked = validate_ratios(ratios)
    if not isinstance(stratify_by, str) or not stratify_by:
        raise ConfigError(f"split.stratify_by: expected a column name, got {stratify_by!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"split.seed: expected an integer, got {seed!r}")
    return checked


@register("split", "split")
def split(
    batch: pd.DataFrame,
    ratios: Mapping[str, float] | None = None,
    seed: int = 42,
    stratify_by: str = "label",
) -> OpResult:
    """Add column ``split`` (train/val/test) by a stable hash of each record's group; reject nothing.

    ``ratios`` defaults to ``{"train": 0.8, "val": 0.1, "test": 0.1}``.
    ``stratify_by`` names the column ``split_report`` stratifies by; it does not
    enter the assignment (that would break stability: see the module docstring).
    """
    _checked(ratios, seed, stratify_by)
    return split_by_keys(batch, group_keys(batch), ratios, seed, stratify_by)


def split_by_keys(
    batch: pd.DataFrame,
    keys: list[str],
    ratios: Mapping[str, float] | None = None,
    seed: int = 42,
    stratify_by: str = "label",
) -> OpResult:
    """``split`` with the group keys given: a chunk's rows, keyed by a pass over the whole
    input (groups cross chunks; the assignment itself is row-local)."""
    checked = _checked(ratios, seed, stratify_by)
    if len(keys) != len(batch):
        raise AssertionError(f"split: {len(keys)} group keys for {len(batch)} rows")
    kept = batch.copy()
    assigned = [split_for(unit_hash(seed, key), checked) for key in keys]
    kept["split"] = pd.Series(
        assigned, index=kept.index, dtype=object
    )  # object, like every record column
    return OpResult(kept=kept.reset_index(drop=True))


class SplitTally:
    """``split_report``'s counts, added chunk by chunk: only (stratum, split) counts are kept."""

    def __init__(self, stratify_by: str = "label"):
        self.stratify_by = stratify_by
        self.counts: Counter = Counter()

    def add(self, df: pd.DataFrame) -> None:
        splits = [str(s) for s in df["split"]] if "split" in df.columns else []
        self.counts.update(zip(strata(df, self.stratify_by), splits, strict=True))

    def report(self) -> dict:
        """Rows per split and per (stratum, split), plus strata missing a split; JSON-ready.

        Splits are those present (train, val, test order); every stratum lists
        all of them, zeros included, so a thin stratum shows as a 0.
        """
        seen = {name for _, name in self.counts}
        present = [s for s in SPLITS if s in seen] + sorted(seen - set(SPLITS))
        per_split = {s: 0 for s in present}
        per_stratum: dict[str, dict[str, int]] = {}
        for (stratum, name), n in self.counts.items():
            per_split[name] += n
            per_stratum.setdefault(stratum, {s: 0 for s in present})[name] += n
        total = sum(per_split.values())
        ordered = {k: per_stratum[k] for k in sorted(per_stratum)}
        return {
            "stratify_by": self.stratify_by,
            "total": total,
            "splits": per_split,
            "fractions": {s: round(c / total, 6) for s, c in per_split.items()} if total else {},
            "strata": ordered,
            "strata_missing_splits": {
                k: [s for s, c in row.items() if c == 0]
                for k, row in ordered.items()
                if 0 in row.values()
            },
        }


def split_report(df: pd.DataFrame, stratify_by: str = "label") -> dict:
    """``SplitTally.report`` of one frame."""
    tally = SplitTally(stratify_by)
    tally.add(df)
    return tally.report()
