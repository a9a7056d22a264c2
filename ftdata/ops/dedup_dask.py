"""Near-duplicate pair search on an executor's workers, pair for pair equal to ``dedup``'s.

``ftdata.ops.dedup`` finds verified near-duplicate pairs with datasketch's
``MinHashLSH`` in one process. This module finds the same pairs in three
distributed steps, each a set of independent tasks:

1. per partition of the (normalised) texts: shingles, MinHash signatures (the
   same ``MinHash.generator`` call, so the same hash values), and per LSH band
   the band's slice of every signature;
2. per band, a groupby on the band slice (sort + runs of equal slices): every
   pair of records in one bucket is a candidate. That is exactly datasketch's
   rule (a candidate shares at least one band slice byte for byte, with the
   same ``b`` x ``r`` bands it derives from threshold, num_perm and weights);
3. per chunk of the union of candidates: exact Jaccard of the shingle sets,
   kept when >= threshold.

The result is sorted like ``dedup``'s own list ((later, earlier) ascending), and
``dedup_with`` does the exact dedup, union-find and details on it, so kept
records, rejects and details are identical under either executor. Records with
no shingles (empty after normalisation) never take part, as in ``dedup``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from datasketch import MinHashLSH

from ftdata.executors.base import Executor
from ftdata.ops.dedup import _LSH_WEIGHTS, _check_params, _signatures, dedup_with, jaccard, shingles
from ftdata.registry import OpResult

PARTITION_ROWS = 20_000  # texts per signature task
VERIFY_PAIRS = 50_000  # candidate pairs per verification task


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) exactly as ``dedup``'s ``MinHashLSH`` chooses them."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
    return lsh.b, lsh.r


def band_slices(
    part: tuple[int, list[str]], ngram: int, num_perm: int, seed: int, bands: int, rows: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per band: (global indices, band slices as an (n, rows) array) of one partition.

    Hash values are below 2**32 (datasketch masks them to 32 bits), so uint32
    holds them exactly at half the memory.
    """
    start, texts = part
    shingle_sets = [shingles(t, ngram) for t in texts]
    present = [i for i, s in enumerate(shingle_sets) if s]
    signatures = np.zeros((len(present), num_perm), dtype=np.uint32)
    for row, mh in enumerate(_signatures([shingle_sets[i] for i in present], num_perm, seed)):
        signatures[row] = mh.hashvalues
    index = np.asarray(present, dtype=np.int64) + start
    return [
        (index, np.ascontiguousarray(signatures[:, b * rows : (b + 1) * rows]))
        for b in range(bands)
    ]


def band_candidates(*parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Candidate pairs (earlier, later) of one band: records whose band slices are equal."""
    if not parts or not sum(len(p[0]) for p in parts):
        return np.zeros((0, 2), dtype=np.int64)
    index = np.concatenate([p[0] for p in parts])
    slices = np.concatenate([p[1] for p in parts])
    keys = np.ascontiguousarray(slices).view(
        np.dtype((np.void, slices.dtype.itemsize * slices.shape[1]))
    )
    keys = keys.ravel()
    order = np.lexsort((index, keys))  # by slice, then by index
    keys, index = keys[order], index[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    pairs = [
        (int(index[a]), int(index[b]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        if e - s > 1
        for a in range(s, e)
        for b in range(a + 1, e)
    ]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def verify(
    pairs: np.ndarray, texts: dict[int, str], ngram: int, threshold: float
) -> list[tuple[int, int, float]]:
    """The candidate pairs whose exact shingle Jaccard reaches ``threshold``."""
    sets = {i: shingles(t, ngram) for i, t in texts.items()}
    out = []
    for j, i in pairs.tolist():
        score = jaccard(sets[i], sets[j])
        if score >= threshold:
            out.append((j, i, score))
    return out


def distributed_pairs(
    executor: Executor,
    normalised: list[str],
    ngram: int,
    threshold: float,
    num_perm: int,
    seed: int,
) -> list[tuple[int, int, float]]:
    """``dedup._verified_pairs`` computed as partition, band and verification tasks."""
    _check_params(ngram, threshold, num_perm)
    bands, rows = lsh_bands(threshold, num_perm)
    parts = [
        (s, normalised[s : s + PARTITION_ROWS]) for s in range(0, len(normalised), PARTITION_ROWS)
    ]
    slicer = partial(band_slices, ngram=ngram, num_perm=num_perm, seed=seed, bands=bands, rows=rows)
    per_part = executor.persist_map(slicer, parts)
    by_band = executor.split(per_part, bands)  # [band][partition], each kept where it was made
    per_band = executor.map_all(_band_of, by_band)
    candidates = np.unique(np.concatenate([*per_band, np.zeros((0, 2), np.int64)]), axis=0)
    executor.release(per_part)
    executor.release([h for band in by_band for h in band])
    chunks = [candidates[s : s + VERIFY_PAIRS] for s in range(0, len(candidates), VERIFY_PAIRS)]
    jobs = [(c, {int(i): normalised[int(i)] for i in np.unique(c)}) for c in chunks]
    verified = executor.map_all(_verify_job, jobs, ngram, threshold)
    pairs = [p for chunk in verified for p in chunk]
    pairs.sort(key=lambda p: (p[1], p[0]))  # dedup's order: later member, then earlier
    return pairs


def _band_of(parts: list) -> np.ndarray:
    return band_candidates(*parts)


def _verify_job(job: tuple[np.ndarray, dict[int, str]], ngram: int, threshold: float):
    pairs, texts = job
    return verify(pairs, texts, ngram, threshold)


def distributed_dedup(executor: Executor):
    """The ``dedup`` op with its pair search on ``executor`` (same params, same result)."""

    def run(batch, **params) -> OpResult:
        return dedup_with(batch, partial(distributed_pairs, executor), **params)

    run.__doc__ = "dedup, pair search distributed on the executor"
    return run
