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

Why there is a cap (``max_mined``): the neighbour search is exact,
brute-force cosine over sparse vectors, so its cost is (records mined) x
(records searched). Mining every record against every other is O(n^2):
seconds at 2k, over 20 minutes at 100k, days at 1M. Approximate searches
(LSH, SVD projections, clustering) would make the flags depend on float
rounding and BLAS threading and would silently change which partner a record
gets; an exact search over fewer *queries* keeps every flag that is made
exact and reproducible. So above ``max_mined`` usable records, only
``max_mined`` of them are mined, each still against ALL usable records (its
neighbours and partner are the true ones): cost grows linearly with n. The
mined records are those with the smallest hash of their user text (ties: by
id): the choice depends on each record alone, not on input order, so adding
data keeps the rest of the sample, and it is unbiased across labels. The
price: a record outside the sample is never flagged (its ``hard`` is null,
"not mined", rather than false), so hard examples thin out to about
``max_mined / n`` of what full mining would find; the metrics report mined
vs skipped. Below the cap nothing changes. Raise the cap when the time is
worth it (about 13 s per 1,000 mined records per 70k searched on the
benchmark box).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ftdata.errors import SourceError


@dataclass
class HardResult:
    hard: list[bool | None]  # one per row; None: usable but not mined (over ``max_mined``)
    partner: list[str | None]  # id of the nearest foreign neighbour that made it hard
    similarity: list[float | None]
    why: list[str | None]  # "conf" | "eval" | "neighbours"
    pairs: Counter = field(default_factory=Counter)  # "A | B" -> hard records
    mined: int = 0  # rows searched for a foreign neighbour
    skipped: int = 0  # usable rows not mined because of ``max_mined``


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
    max_mined: int = 0,
    search: str = "neighbours",
) -> HardResult:
    """Flag rows whose nearest foreign-label neighbour is close (see module docstring).

    ``known_pairs``: pair_key -> origin (``conf`` or ``eval``). Unlabelled rows
    are never hard and never partners. ``max_mined`` (0: no cap): mine at most
    this many rows (``mined_rows``), each against all usable rows. ``search``:
    ``neighbours`` looks for the foreign neighbour among the ``neighbours``
    nearest rows of any label; ``foreign`` among rows of other labels only.
    """
    n = len(texts)
    result = HardResult([False] * n, [None] * n, [None] * n, [None] * n)
    usable = [i for i in range(n) if isinstance(labels[i], str) and labels[i] and texts[i].strip()]
    if len(usable) < 2 or len({labels[i] for i in usable}) < 2:
        return result
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    queries = mined_rows([texts[i] for i in usable], [ids[i] for i in usable], max_mined)
    result.mined, result.skipped = len(queries), len(usable) - len(queries)
    if result.skipped:
        for row in sorted(set(range(len(usable))) - set(queries)):
            result.hard[usable[row]] = None
    vectors = TfidfVectorizer(
        analyzer="char", ngram_range=(ngram_min, ngram_max), sublinear_tf=True, lowercase=True
    ).fit_transform([texts[i] for i in usable])
    if search == "foreign":
        found = _nearest_foreign(vectors, [labels[i] for i in usable], queries, neighbours)
    else:
        k = min(len(usable), neighbours + 1)
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors)
        found = _kneighbors(index, vectors[queries])
    for row, (dist_row, idx_row) in zip(queries, found, strict=True):
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


# Queries per kneighbors call. Each query's neighbours do not depend on the batch, so this only
# bounds memory: sklearn's brute search on sparse input holds a sparse (batch x n) product (nearly
# dense for character n-grams) besides the dense distances; 3.8 GiB at 70k with its own chunking.
_QUERY_BATCH = 256


def _kneighbors(index, queries) -> list:
    """``index.kneighbors(queries)`` as (distances, indices) per query, in fixed-size batches."""
    out: list = []
    for start in range(0, queries.shape[0], _QUERY_BATCH):
        distances, indices = index.kneighbors(queries[start : start + _QUERY_BATCH])
        out.extend(zip(distances, indices, strict=True))
    return out


def _nearest_foreign(vectors, labels: list[str], queries: list[int], neighbours: int) -> list:
    """Per query row: (distances, row indices) of its nearest rows with another label, nearest first.

    One exact brute-force search per label (its queries against every row of
    the other labels): together at most queries x rows distances, like the
    ``neighbours`` search, but a close foreign row is found however many
    same-label rows are closer still.
    """
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    found: dict[int, tuple] = {}
    for label in sorted(set(labels)):
        mine_rows = [r for r in queries if labels[r] == label]
        others = np.array([r for r, lb in enumerate(labels) if lb != label], dtype=np.int64)
        if not mine_rows or not len(others):
            continue
        k = min(len(others), max(1, neighbours))
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
        index.fit(vectors[others])
        for row, (dist_row, idx_row) in zip(
            mine_rows, _kneighbors(index, vectors[mine_rows]), strict=True
        ):
            found[row] = (dist_row, others[idx_row])
    return [found[row] for row in queries]


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def mined_rows(texts: list[str], ids: list[str], max_mined: int) -> list[int]:
    """Positions (ascending) of the rows to mine: all, or the ``max_mined`` smallest text hashes."""
    if not max_mined or len(texts) <= max_mined:
        return list(range(len(texts)))
    order = sorted(range(len(texts)), key=lambda r: (content_hash(texts[r]), ids[r]))
    return sorted(order[:max_mined])


def user_text(messages, text) -> str:
    """What an intent is judged on: the user turns (and ``text`` for classification records)."""
    parts = [m["content"] for m in (messages or []) if m.get("role") == "user" and m.get("content")]
    if isinstance(text, str) and text:
        parts.append(text)
    return "\n".join(parts)


def frame_texts(df: pd.DataFrame) -> list[str]:
    texts = df["text"] if "text" in df.columns else [None] * len(df)
    return [user_text(m, t) for m, t in zip(df["messages"], texts, strict=True)]
