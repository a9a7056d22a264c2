"""Whole-dataset deduplication: exact (normalised hash) then near (MinHash LSH).

Both steps read a record's trainable text, ``content_of(messages, text)``,
after ``normalise_for_dedup``: NFKC, casefold, then every whitespace,
punctuation (Chinese and English), control and format character removed.
Exact dedup runs on that normalised text, not the raw one, because a session
logged twice often differs only in spacing, full-width forms (``？`` vs ``?``,
``ＡＢＣ`` vs ``abc``), case or a trailing ``。``: for training those are the
same sample, and counting it twice skews the data towards whatever got logged
twice. (A record whose normalised text is empty, e.g. only ``？？？``, is
keyed on its raw text instead, so distinct punctuation-only records are not
merged.)

Near dedup shingles the normalised text into character n-grams (characters,
not words, so Chinese needs no segmentation; a text shorter than ``ngram`` is
one shingle), builds MinHash signatures in bulk and finds candidate pairs with
MinHash LSH. LSH only proposes: every candidate pair is verified with the exact
Jaccard similarity of the two shingle sets (>= ``threshold``), so precision
does not depend on the sketch. Because of that, the LSH bands are tuned for
recall (false negatives weigh 0.9, false positives 0.1): at Jaccard 0.8 a pair
is proposed ~87 % of the time instead of ~40 % with datasketch's default
weights, at the cost of a few more verifications. Verified pairs are merged
with union-find, so clusters are the connected components of the "verified
near duplicate" graph. Limit: components are transitive, so A~B and B~C puts
A and C together even when J(A, C) < threshold; the detail of such a row names
the member it was linked through.

Representative rule: within a cluster (exact or near) the record that comes
FIRST IN INPUT ORDER is kept; every other member is rejected with
``duplicate_of`` = that record's id. Stage inputs are ordered by source name
then raw locator, so this keeps the earliest raw occurrence. Union-find roots
are always the smallest index, and LSH candidates are visited in sorted
order, so nothing depends on hash-set iteration order. Clusters themselves do
not depend on input order (LSH candidates are a function of content only);
permuting the input changes only which member is kept.

Kept rows get ``dup_cluster`` = the kept representative's id (their own id).
Rejected rows get ``reason``, ``detail``, ``duplicate_of`` and ``dup_cluster``.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from functools import cache

import numpy as np
import pandas as pd
import xxhash
from datasketch import MinHash, MinHashLSH

from ftdata.errors import ConfigError
from ftdata.reasons import Reason
from ftdata.record import content_of
from ftdata.registry import OpResult, register

# LSH only proposes candidates (each is verified by exact Jaccard), so weigh
# false negatives far above false positives when datasketch picks bands/rows.
_LSH_WEIGHTS = (0.1, 0.9)
# Fast 32-bit shingle hash (the default scheme is 32-bit): ~2.5x faster bulk
# signatures than datasketch's sha1 default (RESOURCES.md).
_SHINGLE_HASH = xxhash.xxh32_intdigest


@cache
def _removal_table() -> dict[int, None]:
    """``str.translate`` table deleting whitespace, punctuation, control and format chars.

    Built once per process from the Unicode database (~0.15 s), which covers
    Chinese punctuation (，。？！、；：“”《》【】…) as well as ASCII. ``~`` is
    a math symbol to Unicode but Chinese chat uses it (and full-width ``～``,
    NFKC'd to ``~``) as punctuation, so it goes too.
    """
    table: dict[int, None] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PZ" or cat in ("Cc", "Cf"):
            table[cp] = None
    table[ord("~")] = None
    return table


def normalise_for_dedup(text: str) -> str:
    """NFKC, casefold, drop whitespace and punctuation: the text duplicates are judged on."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return folded.translate(_removal_table())


def shingles(text: str, n: int) -> set[str]:
    """Character ``n``-grams of ``text`` as given (normalise first); short text is one shingle."""
    if not text:
        return set()
    if len(text) <= n:
        return {text}
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity; two empty sets are not similar (0.0)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def components(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Union-find over ``pairs`` of indices in ``range(n)``; root = smallest index of each component.

    Always attaching the larger root under the smaller one makes the result a
    function of the pair set only (not of the order pairs arrive in).
    """
    parent = list(range(n))

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            parent[hi] = lo
    return [find(i) for i in range(n)]


def _check_params(ngram: int, threshold: float, num_perm: int) -> None:
    if isinstance(ngram, bool) or not isinstance(ngram, int) or ngram < 1:
        raise ConfigError(f"dedup.ngram: expected an integer >= 1, got {ngram!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"dedup.threshold: expected a number in (0, 1], got {threshold!r}")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"dedup.threshold: expected a number in (0, 1], got {threshold!r}")
    if isinstance(num_perm, bool) or not isinstance(num_perm, int) or num_perm < 2:
        raise ConfigError(f"dedup.num_perm: expected an integer >= 2, got {num_perm!r}")


def _signatures(shingle_sets: Sequence[set[str]], num_perm: int, seed: int) -> Iterator[MinHash]:
    """MinHash per shingle set, streamed (``MinHash.generator`` is ``bulk`` without the list)."""
    encoded = ([s.encode("utf-8") for s in sh] for sh in shingle_sets)
    return MinHash.generator(encoded, num_perm=num_perm, seed=seed, hashfunc=_SHINGLE_HASH)


def _verified_pairs(
    normalised: Sequence[str], ngram: int, threshold: float, num_perm: int, seed: int
) -> list[tuple[int, int, float]]:
    """Pairs ``(earlier, later, jaccard)`` proposed by LSH and verified by exact Jaccard."""
    _check_params(ngram, threshold, num_perm)
    shingle_sets = [shingles(t, ngram) for t in normalised]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
    pairs: list[tuple[int, int, float]] = []
    # Query before insert: each unordered candidate pair is seen once, from its later member.
    for i, signature in enumerate(_signatures(shingle_sets, num_perm, seed)):
        if not shingle_sets[i]:
            continue  # empty text has no shingles: never a near duplicate
        for j in sorted(lsh.query(signature)):
            score = jaccard(shingle_sets[i], shingle_sets[j])
            if score >= threshold:
                pairs.append((j, i, score))
        lsh.insert(i, signature)
    return pairs


def near_duplicate_clusters(
    texts: list[str], ngram: int = 5, threshold: float = 0.8, num_perm: int = 128, seed: int = 1
) -> list[int]:
    """Cluster representative index per text (the first member in list order).

    Texts are normalised with ``normalise_for_dedup`` first; identical texts
    (Jaccard 1) fall in one cluster too. Empty texts are always singletons.
    """
    normalised = [normalise_for_dedup(t) for t in texts]
    pairs = _verified_pairs(normalised, ngram, threshold, num_perm, seed)
    return components(len(texts), ((a, b) for a, b, _ in pairs))


def _exact_key(normalised: str, raw: str) -> str:
    body = f"n:{normalised}" if normalised else f"r:{raw}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _texts(batch: pd.DataFrame) -> list[str]:
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    return [
        content_of(m, t if isinstance(t, str) else None)
        for m, t in zip(batch["messages"], texts, strict=True)
    ]


def _near_details(
    members: list[int],
    pairs: list[tuple[int, int, float]],
    rep_of: list[int],
    normalised: list[str],
    ids: list[str],
    ngram: int,
) -> dict[int, str]:
    """Detail per rejected near duplicate (indices into the exact survivors)."""
    # member -> (jaccard, -partner) of its best verified neighbour (ties: smaller index)
    best: dict[int, tuple[float, int]] = {}
    direct: dict[tuple[int, int], float] = {}
    for a, b, score in pairs:
        direct[(a, b)] = score
        for x, y in ((a, b), (b, a)):
            if x not in best or (score, -y) > best[x]:
                best[x] = (score, -y)
    details = {}
    for i in members:
        rep = rep_of[i]
        if rep == i:
            continue
        if (rep, i) in direct:
            details[i] = f"near duplicate of {ids[rep]} (jaccard {direct[(rep, i)]:.2f})"
            continue
        score, neg_partner = best[i]
        to_rep = jaccard(shingles(normalised[i], ngram), shingles(normalised[rep], ngram))
        details[i] = (
            f"near duplicate of {ids[rep]} (jaccard {to_rep:.2f}) "
            f"via {ids[-neg_partner]} (jaccard {score:.2f})"
        )
    return details


def _objects(values: list, index: pd.Index) -> pd.Series:
    """Record columns stay object dtype (pandas 3 would otherwise infer ``str``)."""
    return pd.Series(values, index=index, dtype=object)


@register("dedup", "dedup")
def dedup(
    batch: pd.DataFrame,
    exact: bool = True,
    near: bool = True,
    ngram: int = 5,
    threshold: float = 0.8,
    num_perm: int = 128,
    seed: int = 1,
) -> OpResult:
    """Drop exact (normalised) and near (MinHash LSH, verified Jaccard) duplicates; keep the first.

    ``batch`` is the whole dataset in input order. See the module docstring for
    the normalisation and the representative rule.
    """
    return dedup_with(batch, _verified_pairs, exact, near, ngram, threshold, num_perm, seed)


def dedup_with(
    batch: pd.DataFrame,
    find_pairs,
    exact: bool = True,
    near: bool = True,
    ngram: int = 5,
    threshold: float = 0.8,
    num_perm: int = 128,
    seed: int = 1,
) -> OpResult:
    """``dedup`` with the verified-pair search passed in (``ftdata.ops.dedup_dask``
    supplies a distributed one that returns the same pairs)."""
    if near:
        _check_params(ngram, threshold, num_perm)
    n = len(batch)
    ids = [str(i) for i in batch["id"]]
    raw_texts = _texts(batch)
    normalised = [normalise_for_dedup(t) for t in raw_texts]

    # keeper[i]: index of the row that row i is a duplicate of (itself if kept)
    keeper = list(range(n))
    reasons: dict[int, Reason] = {}
    details: dict[int, str] = {}

    survivors = list(range(n))
    if exact:
        first_by_key: dict[str, int] = {}
        survivors = []
        for i in range(n):
            first = first_by_key.setdefault(_exact_key(normalised[i], raw_texts[i]), i)
            if first == i:
                survivors.append(i)
            else:
                keeper[i] = first
                reasons[i] = Reason.EXACT_DUPLICATE
                details[i] = f"exact duplicate of {ids[first]} after normalisation"

    if near and survivors:
        surv_norm = [normalised[i] for i in survivors]
        surv_ids = [ids[i] for i in survivors]
        pairs = find_pairs(surv_norm, ngram, threshold, num_perm, seed)
        rep_of = components(len(survivors), ((a, b) for a, b, _ in pairs))
        near_members = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
        near_details = _near_details(near_members, pairs, rep_of, surv_norm, surv_ids, ngram)
        for local, detail in near_details.items():
            i = survivors[local]
            keeper[i] = survivors[rep_of[local]]
            reasons[i] = Reason.NEAR_DUPLICATE
            details[i] = detail

    # An exact duplicate of a row that was then dropped as a near duplicate
    # points at the row finally kept.
    final = [keeper[keeper[i]] for i in range(n)]
    for i, reason in reasons.items():
        if reason is Reason.EXACT_DUPLICATE and final[i] != keeper[i]:
            details[i] += f", itself a near duplicate of {ids[final[i]]}"

    out = batch.copy()
    out["dup_cluster"] = _objects([ids[k] for k in final], out.index)
    rejected_mask = np.array([i in reasons for i in range(n)], dtype=bool)
    kept = out[~rejected_mask].reset_index(drop=True)
    rejected = out[rejected_mask].copy()
    rejected_idx = [i for i in range(n) if i in reasons]
    rejected["reason"] = _objects([str(reasons[i]) for i in rejected_idx], rejected.index)
    rejected["detail"] = _objects([details[i] for i in rejected_idx], rejected.index)
    rejected["duplicate_of"] = _objects([ids[final[i]] for i in rejected_idx], rejected.index)
    return OpResult(kept=kept, rejected=rejected.reset_index(drop=True))
