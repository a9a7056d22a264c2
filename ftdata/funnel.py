"""The whole-build funnel and the distributions DVC plots render.

Pure functions over stage metrics and the final records, so the report stage
and tests compute the same figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd

from ftdata.record import content_of


def stage_metrics(metrics_dir: Path, stages: tuple[str, ...]) -> list[dict]:
    """Per-stage counts in pipeline order; ingest is summed over its sources."""
    funnel = []
    for stage in stages:
        if stage == "ingest":
            parts = [
                json.loads(p.read_text(encoding="utf-8"))
                for p in sorted((metrics_dir / "ingest").glob("*.json"))
            ]
            rejected: Counter = Counter()
            for part in parts:
                rejected.update(part["rejected"])
            funnel.append(
                {
                    "stage": "ingest",
                    "in": sum(p["in"] for p in parts),
                    "added": sum(p["added"] for p in parts),
                    "out": sum(p["out"] for p in parts),
                    "rejected": dict(sorted(rejected.items())),
                    "by_source": {
                        p["source"]: {k: p[k] for k in ("in", "out", "rejected")} for p in parts
                    },
                }
            )
        else:
            m = json.loads((metrics_dir / f"{stage}.json").read_text(encoding="utf-8"))
            funnel.append({k: m[k] for k in ("stage", "in", "added", "out", "rejected")})
    return funnel


def label_levels(label: str | None) -> list[str]:
    """``a>b>c`` -> [``a``, ``a>b``, ``a>b>c``]; the label at each taxonomy level."""
    if not isinstance(label, str) or not label:
        return []
    parts = label.split(">")
    return [">".join(parts[: i + 1]) for i in range(len(parts))]


def label_distribution(records: pd.DataFrame) -> list[dict]:
    counts: Counter = Counter()
    for label, split in zip(records["label"], records["split"], strict=True):
        levels = label_levels(label) or ["(unlabelled)"]
        for depth, path in enumerate(levels, start=1):
            counts[(depth, path, split)] += 1
    return [
        {"level": depth, "label": path, "split": split, "count": n}
        for (depth, path, split), n in sorted(counts.items())
    ]


def source_distribution(records: pd.DataFrame) -> list[dict]:
    counts = Counter(zip(records["source"], records["source_kind"], records["split"], strict=True))
    return [
        {"source": s, "kind": k, "split": sp, "count": n}
        for (s, k, sp), n in sorted(counts.items())
    ]


def length_histogram(records: pd.DataFrame, bins: list[int]) -> list[dict]:
    """Characters of trainable text per record, bucketed by ``bins`` (last bucket open)."""
    lengths = [
        len(content_of(m, t)) for m, t in zip(records["messages"], records["text"], strict=True)
    ]
    edges = sorted(bins)
    counts = Counter()
    for n in lengths:
        i = max(j for j, e in enumerate(edges) if n >= e) if n >= edges[0] else 0
        counts[i] += 1
    out = []
    for i, lo in enumerate(edges):
        name = f"{lo}-{edges[i + 1] - 1}" if i + 1 < len(edges) else f"{lo}+"
        out.append({"bin": name, "lower": lo, "count": counts.get(i, 0)})
    return out
