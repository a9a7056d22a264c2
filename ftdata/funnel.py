"""The whole-build funnel and the distributions DVC plots render.

Pure functions over stage metrics and the final records, so the report stage
and tests compute the same figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd

from ftdata.record import AUGMENT_KIND, SPLITS, content_of


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
                    # unmapped_labels / file_notes: what ingest could not place (older
                    # metrics files lack them)
                    "by_source": {
                        p["source"]: {
                            k: p[k]
                            for k in ("in", "out", "rejected", "unmapped_labels", "file_notes")
                            if k in p
                        }
                        for p in parts
                    },
                }
            )
        else:
            m = json.loads((metrics_dir / f"{stage}.json").read_text(encoding="utf-8"))
            funnel.append({k: m[k] for k in ("stage", "in", "added", "out", "rejected")})
    return funnel


ORIGINAL, AUGMENTED, RESAMPLED = "original", "augmented", "resampled"
DERIVED = (AUGMENTED, RESAMPLED)


def derivation(records: pd.DataFrame) -> list[str]:
    """Per record: ``original`` (from a raw record), ``augmented`` or ``resampled``.

    Derived records (source kind ``augment``) keep their parent's source, so
    counting exported records per source mixes originals with copies and
    paraphrases; a resampled record is one whose last op is ``resample``.
    """
    if not len(records):
        return []
    kinds = records["source_kind"] if "source_kind" in records.columns else [None] * len(records)
    ops = records["ops"] if "ops" in records.columns else [None] * len(records)
    out = []
    for kind, rec_ops in zip(kinds, ops, strict=True):
        if kind != AUGMENT_KIND:
            out.append(ORIGINAL)
            continue
        last = rec_ops[-1] if rec_ops is not None and len(rec_ops) else {}
        out.append(RESAMPLED if (last or {}).get("op") == "resample" else AUGMENTED)
    return out


def origin_counts(records: pd.DataFrame, funnel: list[dict]) -> dict:
    """Raw -> kept originals, and the derived records, overall and per source.

    ``kept_ratio`` is kept originals over raw records: an honest share, which
    the share of exported over raw (augmented and resampled records counted)
    is not.
    """
    kinds = derivation(records)
    sources = list(records["source"]) if len(records) else []
    total = Counter(kinds)
    per_source: dict[str, Counter] = {}
    for source, kind in zip(sources, kinds, strict=True):
        per_source.setdefault(str(source), Counter())[kind] += 1
    ingest = next((f for f in funnel if f["stage"] == "ingest"), {})
    raw = int(ingest.get("in", 0))
    by_source = ingest.get("by_source", {})
    names = sorted(set(by_source) | set(per_source))
    return {
        "raw_records": raw,
        "kept_originals": total[ORIGINAL],
        "derived_records": {k: total[k] for k in DERIVED},
        "kept_ratio": round(total[ORIGINAL] / raw, 4) if raw else 0.0,
        "by_source": {
            n: {
                "raw": int(by_source.get(n, {}).get("in", 0)),
                "kept": per_source.get(n, Counter())[ORIGINAL],
                **{k: per_source.get(n, Counter())[k] for k in DERIVED},
            }
            for n in names
        },
    }


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


def histogram(values, bins: list[int]) -> list[dict]:
    """``values`` bucketed by ``bins`` (lower edges; the last bucket is open)."""
    edges = sorted(bins)
    counts = Counter()
    for n in values:
        i = max(j for j, e in enumerate(edges) if n >= e) if n >= edges[0] else 0
        counts[i] += 1
    out = []
    for i, lo in enumerate(edges):
        name = f"{lo}-{edges[i + 1] - 1}" if i + 1 < len(edges) else f"{lo}+"
        out.append({"bin": name, "lower": lo, "count": counts.get(i, 0)})
    return out


def length_histogram(records: pd.DataFrame, bins: list[int]) -> list[dict]:
    """Characters of trainable text per record, bucketed by ``bins`` (last bucket open)."""
    return histogram(
        (len(content_of(m, t)) for m, t in zip(records["messages"], records["text"], strict=True)),
        bins,
    )


def token_summary(records: pd.DataFrame, tokenizer: str | None) -> dict | None:
    """What a fine-tuning run will read: tokens per split and per source (None: not counted).

    Percentiles are nearest-rank over records, so they are counts a record really has.
    """
    if tokenizer is None or "n_tokens" not in records.columns:
        return None
    by_split = {}
    for split in SPLITS:
        counts = sorted(int(n) for n in records.loc[records["split"] == split, "n_tokens"])
        by_split[split] = {
            "records": len(counts),
            "tokens": sum(counts),
            "p50": _nearest_rank(counts, 50),
            "p95": _nearest_rank(counts, 95),
            "max": counts[-1] if counts else 0,
        }
    by_source: dict[str, dict[str, int]] = {}
    for source, split, n in zip(
        records["source"], records["split"], records["n_tokens"], strict=True
    ):
        row = by_source.setdefault(str(source), {s: 0 for s in SPLITS})
        row[str(split)] = row.get(str(split), 0) + int(n)
    return {
        "tokenizer": tokenizer,
        "total": sum(s["tokens"] for s in by_split.values()),
        "splits": by_split,
        "sources": dict(sorted(by_source.items())),
    }


TOKEN_HEADER = ["split", "records", "tokens", "p50", "p95", "max"]


def token_rows(tokens: dict) -> list[list]:
    """``token_summary``'s splits as table rows in split order (the card's and the report's)."""
    return [
        [s, *(tokens["splits"][s][k] for k in TOKEN_HEADER[1:])]
        for s in SPLITS
        if s in tokens["splits"]
    ]


def _nearest_rank(sorted_counts: list[int], p: int) -> int:
    if not sorted_counts:
        return 0
    return sorted_counts[max(0, -(-p * len(sorted_counts) // 100) - 1)]


def token_histogram(records: pd.DataFrame, bins: list[int]) -> list[dict]:
    """Records per token bucket and split (plot rows; ``step`` orders the buckets)."""
    if "n_tokens" not in records.columns:
        return []
    rows = []
    for split in SPLITS:
        values = [int(n) for n in records.loc[records["split"] == split, "n_tokens"]]
        for i, row in enumerate(histogram(values, bins), start=1):
            rows.append({**row, "split": split, "step": f"{split} {i:02d} {row['bin']}"})
    return rows


def label_counts(records: pd.DataFrame) -> dict[int, dict[str, dict[str, int]]]:
    """level -> label -> split -> count over exported records."""
    out: dict[int, dict[str, dict[str, int]]] = {}
    if not len(records):
        return out
    for label, split in zip(records["label"], records["split"], strict=True):
        for depth, path in enumerate(label_levels(label) or ["(unlabelled)"], start=1):
            by_split = out.setdefault(depth, {}).setdefault(path, {})
            by_split[str(split)] = by_split.get(str(split), 0) + 1
    return out


# The card's and the report's tables of stage figures: one row builder each, so the two
# cannot disagree. Here, not beside the stages that compute the figures: those modules
# import ops, and the report stage (which renders both) must not rerun on an op edit.
CONTAMINATION_TESTS = ("exact", "ngram", "minhash")  # ftdata/ops/decontaminate.py, in order
BENCHMARK_HEADER = [
    "benchmark",
    "file",
    "licence",
    "texts",
    "rejected",
    "exact",
    "n-gram",
    "MinHash",
]


def benchmark_rows(found: dict) -> list[list]:
    """``contamination_report``'s benchmarks as table rows (the card's and the report's)."""
    return [
        [name, b["path"], b["license"], b["texts"], b["contaminated"]]
        + [b["by_method"].get(m, 0) for m in CONTAMINATION_TESTS]
        for name, b in sorted(found["benchmarks"].items())
    ]


PREFERENCE_HEADER = ["split", "pairs", "KTO desirable", "KTO undesirable"]


def preference_rows(metrics: dict) -> list[list]:
    """The stage's per-split figures as table rows (the card's and the report's)."""
    return [
        [s, metrics["pairs"][s], metrics["kto"][s]["desirable"], metrics["kto"][s]["undesirable"]]
        for s in SPLITS
    ]
