"""Hard-example mining: records that sit close to another intent, so they get more augmentation.

Where the confusable intents come from:
- ``augment.hard.confusable`` in conf: label pairs people know are confused
  (信用卡逾期 vs 贷款逾期; compliant vs borderline sales talk), with a note
  the boundary prompt quotes;
- an evaluation in ``data/raw/eval/`` when there is one: a confusion matrix
  (``*.csv`` with columns ``true,predicted,count``, or ``*.json`` with
  ``labels`` and a square ``matrix`` whose rows are the true labels), or a
  model's predictions (``*.jsonl``, the evaluate stage's format) scored
  against the records' labels: a pair whose confusion reaches
  ``min_confusion`` of the true label's row.

Which records are hard: user text is vectorised with TF-IDF over character
n-grams (characters, so Chinese needs no segmentation) and each record's
nearest neighbours (cosine) are searched for one with ANOTHER label. A
record is hard when that nearest foreign neighbour is at least
``pair_similarity`` similar and the two labels form a known confusable pair,
or at least ``min_similarity`` similar for any pair (a confusion nobody
listed yet; it is reported in the metrics so someone can add it to conf).

Only records bound for train are mined (the caller passes them): boundary
examples quote the partner record, so the partner must be train data too.
Cost: brute-force cosine over all pairs, fine for tens of thousands of
records, not for millions.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ftdata.errors import SourceError


@dataclass
class HardResult:
    hard: list[bool]  # one per mined row
    partner: list[str | None]  # id of the nearest foreign neighbour that made it hard
    similarity: list[float | None]
    why: list[str | None]  # "conf" | "eval" | "neighbours"
    pairs: Counter = field(default_factory=Counter)  # "A | B" -> hard records


def pair_key(a: str, b: str) -> str:
    return " | ".join(sorted((a, b)))


def conf_pairs(confusable: list[dict]) -> dict[str, str]:
    """``pair_key -> note`` from ``augment.hard.confusable`` entries ``{labels: [a, b], note}``."""
    out = {}
    for entry in confusable:
        a, b = entry["labels"]
        out[pair_key(a, b)] = entry.get("note") or ""
    return out


def _read_matrix(path: Path) -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            labels, matrix = data["labels"], data["matrix"]
        except (ValueError, KeyError, TypeError) as err:
            raise SourceError(f"{path}: expected JSON with `labels` and `matrix` ({err})") from None
        if len(matrix) != len(labels) or any(len(row) != len(labels) for row in matrix):
            raise SourceError(f"{path}: `matrix` must be {len(labels)}x{len(labels)} like `labels`")
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                counts[(labels[i], labels[j])] = float(value)
        return counts
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"true", "predicted", "count"} - set(reader.fieldnames or [])
        if missing:
            raise SourceError(
                f"{path}:1: missing column(s) {', '.join(sorted(missing))} (need true,predicted,count)"
            )
        for line, row in enumerate(reader, start=2):
            try:
                value = float(row["count"])
            except (TypeError, ValueError):
                raise SourceError(
                    f"{path}:{line}: field `count` is not a number: {row['count']!r}"
                ) from None
            key = (row["true"], row["predicted"])
            counts[key] = counts.get(key, 0.0) + value
    return counts


def _predictions_matrix(path: Path, gold: dict[str, str]) -> dict[tuple[str, str], float]:
    """(gold, predicted) counts from a predictions file in the evaluate stage's format.

    Lines are parsed by ``ftdata.evaluate`` (one source of truth for that
    format); lines it cannot score, and ids without a gold label here, are
    skipped: the evaluate stage reports them.
    """
    from ftdata.evaluate import LabelSet, parse_line, read_lines

    labels = LabelSet(sorted(set(gold.values())), "labels of the augment input")
    counts: dict[tuple[str, str], float] = {}
    for locator, raw in read_lines(path, str(path)):
        line = parse_line(locator, raw, labels)
        if line.label is None or line.id not in gold:
            continue
        key = (gold[line.id], line.label)
        counts[key] = counts.get(key, 0.0) + 1.0
    return counts


def eval_pairs(
    eval_dir: Path, min_confusion: float, gold: dict[str, str] | None = None
) -> tuple[dict[str, float], list[str]]:
    """Confusable pairs from the evaluation files under ``eval_dir``; and the files read.

    ``*.csv`` / ``*.json`` are confusion matrices; ``*.jsonl`` are model
    predictions (the evaluate stage's input), turned into a matrix with the
    ``gold`` labels (record id -> label).
    """
    if not eval_dir.is_dir():
        return {}, []
    files = sorted(
        p for p in eval_dir.iterdir() if p.suffix in (".csv", ".json", ".jsonl") and p.is_file()
    )
    pairs: dict[str, float] = {}
    used = []
    for path in files:
        if path.suffix == ".jsonl":
            if not gold:
                continue
            counts = _predictions_matrix(path, gold)
        else:
            counts = _read_matrix(path)
        used.append(str(path))
        totals: Counter = Counter()
        for (true, _pred), n in counts.items():
            totals[true] += n
        for (true, pred), n in sorted(counts.items()):
            if true == pred or not totals[true]:
                continue
            share = n / totals[true]
            if share >= min_confusion:
                key = pair_key(true, pred)
                pairs[key] = max(pairs.get(key, 0.0), round(share, 6))
    return pairs, used


def mine(
    texts: list[str],
    labels: list[str | None],
    ids: list[str],
    *,
    known_pairs: dict[str, str],
    ngram_min: int = 1,
    ngram_max: int = 3,
    neighbours: int = 5,
    min_similarity: float = 0.6,
    pair_similarity: float = 0.35,
) -> HardResult:
    """Flag rows whose nearest foreign-label neighbour is close (see module docstring).

    ``known_pairs``: pair_key -> origin (``conf`` or ``eval``). Unlabelled rows
    are never hard and never partners.
    """
    n = len(texts)
    result = HardResult([False] * n, [None] * n, [None] * n, [None] * n)
    usable = [i for i in range(n) if isinstance(labels[i], str) and labels[i] and texts[i].strip()]
    if len(usable) < 2 or len({labels[i] for i in usable}) < 2:
        return result
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    vectors = TfidfVectorizer(
        analyzer="char", ngram_range=(ngram_min, ngram_max), sublinear_tf=True, lowercase=True
    ).fit_transform([texts[i] for i in usable])
    k = min(len(usable), neighbours + 1)
    distances, indices = (
        NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
        .fit(vectors)
        .kneighbors(vectors)
    )
    for row, (dist_row, idx_row) in enumerate(zip(distances, indices, strict=True)):
        i = usable[row]
        # nearest first; equal distances in index order, so the result is deterministic
        for dist, local in sorted(
            zip(dist_row, idx_row, strict=True), key=lambda t: (round(t[0], 12), t[1])
        ):
            j = usable[local]
            if j == i or labels[j] == labels[i]:
                continue
            similarity = round(1.0 - float(dist), 6)
            key = pair_key(labels[i], labels[j])
            origin = known_pairs.get(key)
            if origin is not None and similarity >= pair_similarity:
                why = origin
            elif similarity >= min_similarity:
                why = "neighbours"
            else:
                break
            result.hard[i] = True
            result.partner[i] = ids[j]
            result.similarity[i] = similarity
            result.why[i] = why
            result.pairs[key] += 1
            break
    return result


def user_text(messages, text) -> str:
    """What an intent is judged on: the user turns (and ``text`` for classification records)."""
    parts = [m["content"] for m in (messages or []) if m.get("role") == "user" and m.get("content")]
    if isinstance(text, str) and text:
        parts.append(text)
    return "\n".join(parts)


def frame_texts(df: pd.DataFrame) -> list[str]:
    texts = df["text"] if "text" in df.columns else [None] * len(df)
    return [user_text(m, t) for m, t in zip(df["messages"], texts, strict=True)]
