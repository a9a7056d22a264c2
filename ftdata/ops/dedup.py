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
one shingle), builds MinHash signatures in bulk and finds candidate pairs by
LSH banding: each signature is cut into ``b`` bands of ``r`` rows, and two
records whose slices are equal in at least one band are a candidate pair.
That is datasketch's ``MinHashLSH`` rule with its ``b`` x ``r`` (``lsh_bands``),
but computed as one sort per band over one 64-bit key per record and band
instead of hash tables of whole signatures, and with no shingle set kept:
shingles are built again for candidate records only, when a pair is verified.
That is what bounds memory (``8 * b`` bytes per record, 112 at the defaults)
and lets the signature work run in independent chunks on any executor. A band
key is a hash of the slice, so two different slices can collide (about
``b * n**2 / 2**65`` expected collisions: ~4e-7 at a million records); a
collision only adds a candidate, which verification then judges.

LSH only proposes: every candidate pair is verified with the exact Jaccard
similarity of the two shingle sets (>= ``threshold``), so precision does not
depend on the sketch. Because of that, the bands are tuned for recall (false
negatives weigh 0.9, false positives 0.1): at Jaccard 0.8 a pair is proposed
~87 % of the time instead of ~40 % with datasketch's default weights, at the
cost of a few more verifications. Verified pairs are merged with union-find,
so clusters are the connected components of the "verified near duplicate"
graph. Limit: components are transitive, so A~B and B~C puts A and C together
even when J(A, C) < threshold; the detail of such a row names the member it
was linked through.

Representative rule: within a cluster (exact or near) the record that comes
FIRST IN INPUT ORDER is kept; every other member is rejected with
``duplicate_of`` = that record's id. Stage inputs are ordered by source name
then raw locator, so this keeps the earliest raw occurrence. Union-find roots
are always the smallest index and candidates are sorted, so nothing depends on
hash-set iteration order or on how the input was chunked. Clusters themselves
do not depend on input order (LSH candidates are a function of content only);
permuting the input changes only which member is kept.

Kept rows get ``dup_cluster`` = the kept representative's id (their own id).
Rejected rows get ``reason``, ``detail``, ``duplicate_of`` and ``dup_cluster``.

The stage (``dedup_parquet``) never holds the record frame: it reads the text
columns in chunks to compute keys and band keys (the chunks run on the
executor), decides, reads again only the candidate records' texts, and then
copies the input to the output chunk by chunk, dropping the rejected rows.
The ``dedup`` op does the same decision on a frame already in memory.

What a record contributes before the decision (its exact key and band keys,
``RecordKeys``) is a function of its content, and the costly part of the
stage (normalising, shingling, signing: about half of it). With ``dedup`` in
``cache.stages`` the stage keeps those keys per text hash (``text_key``) in a
``ftdata.cache.KeyCache`` (under ``<cache.dir>/dedup/``, keyed by what they
depend on: ``ngram``, ``num_perm``, ``seed``, ``threshold`` (the band layout),
the datasketch version and this module's code), so a rebuild after new records
signs only the new ones. Likewise the exact Jaccard of every candidate pair
verified (``PairScores``, keyed by the pair's exact keys and ``ngram``): most
candidates of a rebuild were verified before. The decision itself (sorting
band keys, union-find, details) always runs over every record, from the keys.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.cache import KeyCache
from ftdata.config_schema import DedupConfig
from ftdata.errors import ConfigError
from ftdata.executors.base import Executor
from ftdata.io import iter_tables, table_to_records, write_records
from ftdata.metrics import StageCounts
from ftdata.reasons import Reason
from ftdata.record import CANONICAL_COLUMNS, content_of, field_type
from ftdata.registry import OpResult, register
from ftdata.stream import ROW_GROUP_ROWS, RowGroupWriter
from ftdata.text.shingle_hash import ngram_hashes

if TYPE_CHECKING:
    from ftdata.stage_run import StageRun

# datasketch (and the scipy it imports, ~0.65 s) is imported where it is used,
# not here: every stage imports ftdata.ops, and only dedup needs it.

# LSH only proposes candidates (each is verified by exact Jaccard), so weigh
# false negatives far above false positives when datasketch picks bands/rows.
_LSH_WEIGHTS = (0.1, 0.9)
# Candidate pairs per verification task: the task holds the shingle sets of up
# to twice as many texts (~100 bytes per shingle), so this bounds its memory.
VERIFY_PAIRS = 2_000
# Texts per signature block in ``band_keys``: bounds the shingle hashes and the
# signature matrix held at once (a few MB), whatever the caller passes.
SIGNATURE_BLOCK = 4_096
# The defaults are declared once, in the section schema (conf/dedup overrides them).
PARAMS = asdict(DedupConfig())


# Planes 4-13 hold no assigned character and planes 15-16 only private use (Co), so
# whitespace, punctuation, control and format characters lie in these ranges: the
# table is built from a quarter of the code space (tests/unit/test_dedup_normalise.py
# checks it against a scan of all of it, so a new Unicode version cannot slip by).
REMOVAL_RANGES = ((0, 0x40000), (0xE0000, 0xF0000))


def _removable(cp: int) -> bool:
    cat = unicodedata.category(chr(cp))
    return cat[0] in "PZ" or cat in ("Cc", "Cf")


@cache
def _removal_table() -> dict[int, None]:
    """``str.translate`` table deleting whitespace, punctuation, control and format chars.

    Built once per process from the Unicode database, which covers
    Chinese punctuation (，。？！、；：“”《》【】…) as well as ASCII. ``~`` is
    a math symbol to Unicode but Chinese chat uses it (and full-width ``～``,
    NFKC'd to ``~``) as punctuation, so it goes too.
    """
    table: dict[int, None] = {
        cp: None for lo, hi in REMOVAL_RANGES for cp in range(lo, hi) if _removable(cp)
    }
    table[ord("~")] = None
    return table


def normalise_for_dedup(text: str) -> str:
    """NFKC, casefold, drop whitespace and punctuation: the text duplicates are judged on."""
    text = text or ""
    # ``is_normalized`` answers from a quick-check table, ~100x faster than normalising.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold().translate(_removal_table())


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


def check_params(ngram: int, threshold: float, num_perm: int) -> None:
    if isinstance(ngram, bool) or not isinstance(ngram, int) or ngram < 1:
        raise ConfigError(f"dedup.ngram: expected an integer >= 1, got {ngram!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"dedup.threshold: expected a number in (0, 1], got {threshold!r}")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"dedup.threshold: expected a number in (0, 1], got {threshold!r}")
    if isinstance(num_perm, bool) or not isinstance(num_perm, int) or num_perm < 2:
        raise ConfigError(f"dedup.num_perm: expected an integer >= 2, got {num_perm!r}")


# ---------------------------------------------------------------- banded LSH
@cache
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) exactly as datasketch's ``MinHashLSH`` chooses them."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
    return lsh.b, lsh.r


def minhash_signatures(
    normalised: Sequence[str], ngram: int, num_perm: int, seed: int
) -> np.ndarray:
    """(len(normalised), num_perm) uint32: datasketch's affine32 MinHash of each text's shingles.

    Bit-identical to ``MinHash.bulk`` with ``hashfunc=xxhash.xxh32_intdigest``
    over ``shingles(text, ngram)`` (the test suite checks it against
    datasketch), but computed column-wise: every shingle of the chunk is hashed
    at once (``ngram_hashes``), pre-mixed with datasketch's fmix32, and each
    permutation ``a * h + b`` (mod 2^32) is one pass over the chunk with a
    per-text minimum (``reduceat``). datasketch supplies the permutations, so
    its seed rule stays the one source. Texts must be non-empty.
    """
    from datasketch import MinHash
    from datasketch.minhash import _fmix

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    out = np.empty((len(normalised), num_perm), dtype=np.uint32)
    if not len(normalised):
        return out
    hashes, offsets = ngram_hashes(normalised, ngram)
    mixed = _fmix(hashes, 32)
    permuted = np.empty_like(mixed)
    with np.errstate(over="ignore"):
        for j in range(num_perm):
            np.multiply(mixed, a[j], out=permuted)
            permuted += b[j]
            out[:, j] = np.minimum.reduceat(permuted, offsets[:-1])
    return out


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on 64 bits that spreads every input bit."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def band_keys(
    normalised: Sequence[str], ngram: int, num_perm: int, seed: int, bands: int, rows: int
) -> np.ndarray:
    """(len(normalised), bands) uint64: per text and band, a hash of its signature slice.

    Texts must be non-empty (an empty text has no shingles and no signature).
    Signatures are made ``SIGNATURE_BLOCK`` texts at a time: a caller with all its
    texts at once (augment's duplicate filter, ~150k at 100k records) would
    otherwise hold every shingle hash and the whole signature matrix (n x
    num_perm) at the same time; only the band keys (n x bands) are kept.
    """
    keys = np.empty((len(normalised), bands), dtype=np.uint64)
    for start in range(0, len(normalised), SIGNATURE_BLOCK):
        block = normalised[start : start + SIGNATURE_BLOCK]
        sig = minhash_signatures(block, ngram, num_perm, seed).astype(np.uint64)
        with np.errstate(over="ignore"):
            for b in range(bands):
                h = np.full(len(block), b + 1, dtype=np.uint64)
                for j in range(b * rows, (b + 1) * rows):
                    h = _mix(h ^ sig[:, j])
                keys[start : start + len(block), b] = h
    return keys


def band_candidates(index: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Candidate pairs (earlier, later), sorted and unique: rows whose key is equal in some band.

    ``index`` (m,) are the rows' positions, ``keys`` (m, bands) their band keys.
    """
    found = [np.zeros((0, 2), dtype=np.int64)]
    index = np.asarray(index, dtype=np.int64)
    for b in range(keys.shape[1] if len(index) else 0):
        order = np.lexsort((index, keys[:, b]))  # by key, then by position
        key, pos = keys[order, b], index[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        sizes = np.diff(np.r_[starts, len(key)])
        for size in np.unique(sizes[sizes > 1]).tolist():
            first = starts[sizes == size][:, None]
            a, c = np.triu_indices(size, 1)  # every pair within a bucket
            found.append(np.stack([pos[first + a].ravel(), pos[first + c].ravel()], axis=1))
    return np.unique(np.concatenate(found), axis=0)


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


def _in_process(fn: Callable, items: Iterable, *args) -> list:
    return [fn(item, *args) for item in items]


def verified(
    candidates: np.ndarray,
    normalised: Callable[[int], str] | dict[int, str],
    ngram: int,
    threshold: float,
    map_all: Callable = _in_process,
) -> list[tuple[int, int, float]]:
    """Verified pairs ``(earlier, later, jaccard)``, sorted by later then earlier member.

    Verification runs in tasks of ``VERIFY_PAIRS`` pairs (``map_all`` is an
    executor's), each shipped with the texts it needs.
    """
    text = normalised.__getitem__ if isinstance(normalised, dict) else normalised
    jobs = (
        (chunk, {i: text(i) for i in np.unique(chunk).tolist()})
        for chunk in (
            candidates[s : s + VERIFY_PAIRS] for s in range(0, len(candidates), VERIFY_PAIRS)
        )
    )
    pairs = [p for part in map_all(_verify_job, jobs, ngram, threshold) for p in part]
    pairs.sort(key=lambda p: (p[1], p[0]))
    return pairs


def _verify_job(job: tuple[np.ndarray, dict[int, str]], ngram: int, threshold: float):
    pairs, texts = job
    return verify(pairs, texts, ngram, threshold)


def _score_job(job: tuple[np.ndarray, dict[int, str]], ngram: int) -> list[float]:
    """Jaccard of every pair of the job (``verify`` without the threshold)."""
    pairs, texts = job
    sets = {i: shingles(t, ngram) for i, t in texts.items()}
    return [jaccard(sets[i], sets[j]) for j, i in pairs.tolist()]


class PairScores:
    """Jaccard of the candidate pairs verified before (``cache.stages: [dedup]``).

    A pair's Jaccard is a function of its two normalised texts, which the two
    exact keys stand for (both texts are non-empty, so both keys are of the
    normalised text): the cache key is the pair of exact keys, order-free, and
    the value is the score itself, not the verdict, so it is threshold-free.
    """

    def __init__(self, cache: KeyCache):
        self.cache = cache
        self.new = cache.spill()  # entries computed this run, spilled to disk as they grow

    def verified(
        self,
        candidates: np.ndarray,
        digests: np.ndarray,
        normalised: Callable[[int], str] | dict[int, str],
        ngram: int,
        threshold: float,
        map_all: Callable = _in_process,
    ) -> list[tuple[int, int, float]]:
        """``verified``, computing only the scores of pairs not seen before."""
        rows_u8 = digests.view(np.uint8).reshape(len(digests), EXACT_WIDTH)
        hexes = {i: rows_u8[i, :16].tobytes().hex() for i in np.unique(candidates).tolist()}
        keys = [
            hexes[a] + hexes[b] if hexes[a] <= hexes[b] else hexes[b] + hexes[a]
            for a, b in candidates.tolist()
        ]
        rows = self.cache.lookup(keys)
        score = np.full(len(candidates), np.nan)
        hit = np.flatnonzero(rows >= 0)
        if len(hit):
            values, _ = self.cache.take("jaccard", rows[hit])
            score[hit] = values.view("<f8").reshape(-1)
        miss = np.flatnonzero(rows < 0)
        if len(miss):
            text = normalised.__getitem__ if isinstance(normalised, dict) else normalised
            todo = candidates[miss]
            jobs = (
                (chunk, {i: text(i) for i in np.unique(chunk).tolist()})
                for chunk in (todo[s : s + VERIFY_PAIRS] for s in range(0, len(todo), VERIFY_PAIRS))
            )
            computed = np.array(
                [x for part in map_all(_score_job, jobs, ngram) for x in part], dtype="<f8"
            )
            score[miss] = computed
            entry = (computed.view(np.uint8), np.ones(len(miss), dtype=bool))
            self.new.add(self.cache.entries([keys[i] for i in miss], {"jaccard": entry}))
        keep = np.flatnonzero(score >= threshold)
        pairs = [
            (j, i, s)
            for (j, i), s in zip(candidates[keep].tolist(), score[keep].tolist(), strict=True)
        ]
        pairs.sort(key=lambda p: (p[1], p[0]))
        return pairs

    def write_new(self) -> None:
        self.new.finish()

    def close(self) -> None:
        """Drop what was computed and not written (after an error)."""
        self.new.close()


def verified_pairs(
    normalised: Sequence[str], ngram: int, threshold: float, num_perm: int, seed: int
) -> list[tuple[int, int, float]]:
    """Pairs ``(earlier, later, jaccard)`` proposed by LSH and verified by exact Jaccard."""
    check_params(ngram, threshold, num_perm)
    bands, rows = lsh_bands(threshold, num_perm)
    index = np.asarray([i for i, t in enumerate(normalised) if t], dtype=np.int64)
    keys = band_keys([normalised[i] for i in index], ngram, num_perm, seed, bands, rows)
    return verified(band_candidates(index, keys), normalised.__getitem__, ngram, threshold)


def near_duplicate_clusters(
    texts: list[str],
    ngram: int = PARAMS["ngram"],
    threshold: float = PARAMS["threshold"],
    num_perm: int = PARAMS["num_perm"],
    seed: int = PARAMS["seed"],
) -> list[int]:
    """Cluster representative index per text (the first member in list order).

    Texts are normalised with ``normalise_for_dedup`` first; identical texts
    (Jaccard 1) fall in one cluster too. Empty texts are always singletons.
    """
    normalised = [normalise_for_dedup(t) for t in texts]
    pairs = verified_pairs(normalised, ngram, threshold, num_perm, seed)
    return components(len(texts), ((a, b) for a, b, _ in pairs))


# ---------------------------------------------------------------- deciding
def _exact_digest(normalised: str, raw: str) -> bytes:
    body = f"n:{normalised}" if normalised else f"r:{raw}"
    return hashlib.sha256(body.encode("utf-8")).digest()


def exact_key(normalised: str, raw: str) -> str:
    return _exact_digest(normalised, raw).hex()


@dataclass
class Signatures:
    """What dedup keeps of a chunk of records until it decides: 32 + 8 * bands bytes a row."""

    keys: np.ndarray  # (n,) S32: sha256 of each row's exact-dedup key
    index: np.ndarray  # (m,) int64: rows (in the chunk) that take part in near dedup
    bands: np.ndarray  # (m, bands) uint64: their band keys


# ---------------------------------------------------------------- per-record keys
EXACT_WIDTH = 32  # bytes of an exact key (sha256)


@dataclass
class RecordKeys:
    """What the signature pass computes per record, a function of its content alone:
    what the per-record key cache (``cache.stages: [dedup]``) stores."""

    exact: np.ndarray  # (n,) S32: sha256 of the exact-dedup key
    bands: np.ndarray  # (n, bands) uint64: band keys (zeros where ``has_bands`` is False)
    has_bands: np.ndarray  # (n,) bool: near dedup on and the normalised text is not empty


def compute_keys(
    raw_texts: Sequence[str], near: bool, ngram: int, threshold: float, num_perm: int, seed: int
) -> RecordKeys:
    """Exact key of every text; band keys of every text with a non-empty normalised form.

    Texts with one normalised form (one exact key) share band keys: the
    signature is computed once per exact key, then copied.
    """
    n = len(raw_texts)
    normalised = [normalise_for_dedup(t) for t in raw_texts]
    digests = [_exact_digest(t, r) for t, r in zip(normalised, raw_texts, strict=True)]
    bands, rows = lsh_bands(threshold, num_perm) if near else (0, 0)
    out = RecordKeys(
        exact=np.array(digests, dtype=f"S{EXACT_WIDTH}").reshape(-1),
        bands=np.zeros((n, bands), dtype=np.uint64),
        has_bands=np.zeros(n, dtype=bool),
    )
    if near:
        first: dict[bytes, int] = {}
        source = np.arange(n, dtype=np.int64)
        for i, (text, digest) in enumerate(zip(normalised, digests, strict=True)):
            if text:
                out.has_bands[i] = True
                source[i] = first.setdefault(digest, i)
        todo = np.asarray(list(first.values()), dtype=np.int64)
        out.bands[todo] = band_keys(
            [normalised[i] for i in todo], ngram, num_perm, seed, bands, rows
        )
        repeats = np.flatnonzero(out.has_bands & (source != np.arange(n)))
        out.bands[repeats] = out.bands[source[repeats]]
    return out


def _assemble(keys: RecordKeys, exact: bool, near: bool) -> Signatures:
    """A chunk's ``Signatures`` from its records' keys.

    With exact dedup on, a repeat of a key seen earlier in the chunk is an
    exact duplicate whatever else happens, so it takes no part in near dedup.
    """
    index: list[int] = []
    if near:
        seen: set[bytes] = set()
        for i, (has, digest) in enumerate(
            zip(keys.has_bands.tolist(), keys.exact.tolist(), strict=True)
        ):
            if has and not (exact and digest in seen):
                index.append(i)
            seen.add(digest)
    rows = np.asarray(index, dtype=np.int64)
    bands = keys.bands[rows] if near else np.zeros((0, 0), dtype=np.uint64)
    return Signatures(keys=keys.exact, index=rows, bands=bands)


def signatures(
    raw_texts: Sequence[str],
    exact: bool = True,
    near: bool = True,
    ngram: int = PARAMS["ngram"],
    threshold: float = PARAMS["threshold"],
    num_perm: int = PARAMS["num_perm"],
    seed: int = PARAMS["seed"],
) -> Signatures:
    """Exact keys of every text and band keys of those near dedup needs."""
    keys = compute_keys(raw_texts, near, ngram, threshold, num_perm, seed)
    return _assemble(keys, exact, near)


def key_cache_params(params: dict) -> tuple[dict, dict]:
    """What the per-record keys depend on besides code, and their columns' widths.

    ``exact`` does not count. ``threshold`` counts through the band layout it
    gives, but the layout is not computed here (``lsh_bands`` imports datasketch
    and scipy, ~1 s, which a warm build otherwise never needs): ``threshold`` and
    the weights are in the key instead, and the band column's width is computed
    only when the cache is empty. The datasketch version is in: its MinHash
    makes the signatures.
    """
    if not params["near"]:
        return {"near": False}, {"exact": EXACT_WIDTH}
    from importlib.metadata import version

    depends = {
        "near": True,
        "ngram": params["ngram"],
        "threshold": params["threshold"],
        "weights": list(_LSH_WEIGHTS),
        "num_perm": params["num_perm"],
        "seed": params["seed"],
        "datasketch": version("datasketch"),
    }

    def band_width() -> int:
        return 8 * lsh_bands(params["threshold"], params["num_perm"])[0]

    return depends, {"exact": EXACT_WIDTH, "bands": band_width}


def load_key_cache(root: Path, cache: dict | None, params: dict) -> KeyCache | None:
    """The per-record key cache when ``cache.stages`` names ``dedup``, else None."""
    if not cache or "dedup" not in cache.get("stages", []):
        return None
    depends, widths = key_cache_params(dedup_params(params))
    return KeyCache.load(
        root,
        cache["dir"],
        "dedup",
        depends,
        [_exact_digest],  # the code: this module (and its ftdata imports)
        widths,
        cache.get("max_shards", 16),
    )


def load_pair_scores(root: Path, cache: dict | None, params: dict) -> PairScores | None:
    """The cache of candidate pairs' Jaccard when ``cache.stages`` names ``dedup``, else None."""
    if not cache or "dedup" not in cache.get("stages", []):
        return None
    p = dedup_params(params)
    if not p["near"]:
        return None
    depends = {"pair_jaccard": True, "ngram": p["ngram"]}
    return PairScores(
        KeyCache.load(
            root,
            cache["dir"],
            "dedup",
            depends,
            [_exact_digest],  # the code: this module (and its ftdata imports)
            {"jaccard": 8},
            cache.get("max_shards", 16),
        )
    )


def text_key(raw: str) -> str:
    """A record's key in the key cache: a hash of its trainable text (``content_of``).

    That text is all the record's keys depend on, so this is the content hash
    that fits: records that differ only in roles or turn breaks share keys and
    an entry. (``ftdata.record.content_hash`` would do, but hashes canonical
    JSON of the turns: ~6x the cost, a second of a warm build at 100k.)
    """
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def cached_keys(
    raw: Callable[[list[int]], list[str]], keys: list[str], params: dict, cache: KeyCache
) -> tuple[RecordKeys, pa.Table]:
    """``compute_keys`` of a chunk whose rows have ``text_key``s ``keys``, computing only
    what ``cache`` lacks (once per content); ``raw(positions)`` gives those rows' texts.

    Returns the keys and the cache entries of the contents computed.
    """
    n = len(keys)
    rows = cache.lookup(keys)
    first_miss: dict[str, int] = {}
    for pos in np.flatnonzero(rows < 0).tolist():
        first_miss.setdefault(keys[pos], pos)
    near = params["near"]
    width = cache.widths["bands"] // 8 if near else 0
    if first_miss:
        fresh = compute_keys(
            raw(list(first_miss.values())),
            near,
            params["ngram"],
            params["threshold"],
            params["num_perm"],
            params["seed"],
        )
    else:  # all cached: not even the band layout is needed (it imports datasketch)
        fresh = RecordKeys(
            exact=np.zeros(0, dtype=f"S{EXACT_WIDTH}"),
            bands=np.zeros((0, width), dtype=np.uint64),
            has_bands=np.zeros(0, dtype=bool),
        )
    out = RecordKeys(
        exact=np.zeros(n, dtype=f"S{EXACT_WIDTH}"),
        bands=np.zeros((n, width), dtype=np.uint64),
        has_bands=np.zeros(n, dtype=bool),
    )
    hit = np.flatnonzero(rows >= 0)
    if len(hit):
        values, _ = cache.take("exact", rows[hit])
        out.exact[hit] = values.view(f"S{EXACT_WIDTH}").reshape(-1)
        if near:
            values, valid = cache.take("bands", rows[hit])
            out.bands[hit] = values.view("<u8").reshape(len(hit), width)
            out.has_bands[hit] = valid
    if first_miss:
        which = {key: j for j, key in enumerate(first_miss)}
        miss = np.flatnonzero(rows < 0)
        src = np.fromiter((which[keys[p]] for p in miss.tolist()), dtype=np.int64, count=len(miss))
        out.exact[miss] = fresh.exact[src]
        out.bands[miss] = fresh.bands[src]
        out.has_bands[miss] = fresh.has_bands[src]
    columns = {"exact": (fresh.exact.view(np.uint8), np.ones(len(first_miss), dtype=bool))}
    if near:
        columns["bands"] = (fresh.bands.astype("<u8").view(np.uint8), fresh.has_bands)
    return out, cache.entries(list(first_miss), columns)


@dataclass
class Verdicts:
    """Which rows are rejected, and why; every other row is kept.

    ``rejected`` maps a row position to (reason, detail, duplicate_of id),
    in position order; ``duplicate_of`` is always a kept row's id.
    """

    n: int
    rejected: dict[int, tuple[Reason, str, str]]

    def __post_init__(self) -> None:
        self._rows = np.array(sorted(self.rejected), dtype=np.int64)

    def positions(self, start: int, stop: int) -> np.ndarray:
        """Rejected positions in ``[start, stop)``, relative to ``start``."""
        lo, hi = np.searchsorted(self._rows, [start, stop])
        return self._rows[lo:hi] - start

    def rejected_frame(self, rows: pd.DataFrame, positions: Iterable[int]) -> pd.DataFrame:
        """``rows`` (the rejected records at ``positions``) with the dedup columns added."""
        verdicts = [self.rejected[int(p)] for p in positions]
        out = rows.reset_index(drop=True)
        out["dup_cluster"] = _objects([v[2] for v in verdicts], out.index)
        out["reason"] = _objects([str(v[0]) for v in verdicts], out.index)
        out["detail"] = _objects([v[1] for v in verdicts], out.index)
        out["duplicate_of"] = _objects([v[2] for v in verdicts], out.index)
        return out


def decide(
    chunks: Sequence[Signatures],
    lookup: Callable[[np.ndarray], tuple[dict[int, str], dict[int, str]]],
    exact: bool = True,
    near: bool = True,
    ngram: int = PARAMS["ngram"],
    threshold: float = PARAMS["threshold"],
    num_perm: int = PARAMS["num_perm"],
    seed: int = PARAMS["seed"],
    map_all: Callable = _in_process,
    pair_scores: PairScores | None = None,
) -> Verdicts:
    """Verdicts for the rows of ``chunks`` (consecutive, in input order).

    ``lookup(positions)`` returns the ids and the normalised texts of those
    rows: only rows named in a verdict or in a candidate pair are looked up.
    With ``pair_scores`` only candidate pairs it has not scored are verified.
    """
    sizes = [len(c.keys) for c in chunks]
    offsets = np.cumsum([0, *sizes])
    n = int(offsets[-1])
    everyone = np.arange(n, dtype=np.int64)
    keeper = everyone.copy()  # keeper[i]: the row that row i duplicates (itself if kept)
    if exact and n:
        keys = np.concatenate([c.keys for c in chunks])
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        keeper = first[inverse.reshape(-1)].astype(np.int64)
        del keys, inverse
    exact_dups = np.flatnonzero(keeper != everyone)

    candidates = np.zeros((0, 2), dtype=np.int64)
    if near and n:
        index = np.concatenate([c.index + o for c, o in zip(chunks, offsets[:-1], strict=True)])
        bands = np.concatenate([c.bands for c in chunks])
        survives = keeper[index] == index
        candidates = band_candidates(index[survives], bands[survives])
        del index, bands, survives

    needed = np.union1d(candidates.ravel(), keeper[exact_dups])
    ids, normalised = lookup(needed)
    pairs = []
    if len(candidates) and pair_scores is not None:
        digests = np.concatenate([c.keys for c in chunks])
        pairs = pair_scores.verified(candidates, digests, normalised, ngram, threshold, map_all)
    elif len(candidates):
        pairs = verified(candidates, normalised, ngram, threshold, map_all)

    reasons: dict[int, Reason] = {}
    details: dict[int, str] = {}
    for i, first in zip(exact_dups.tolist(), keeper[exact_dups].tolist(), strict=True):
        reasons[i] = Reason.EXACT_DUPLICATE
        details[i] = f"exact duplicate of {ids[first]} after normalisation"
    if pairs:
        members = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
        local = {m: k for k, m in enumerate(members)}
        roots = components(len(members), ((local[a], local[b]) for a, b, _ in pairs))
        rep_of = {m: members[r] for m, r in zip(members, roots, strict=True)}
        for i, detail in _near_details(members, pairs, rep_of, normalised, ids, ngram).items():
            keeper[i] = rep_of[i]
            reasons[i] = Reason.NEAR_DUPLICATE
            details[i] = detail

    # An exact duplicate of a row that was then dropped as a near duplicate
    # points at the row finally kept.
    rejected: dict[int, tuple[Reason, str, str]] = {}
    for i in sorted(reasons):
        final = int(keeper[keeper[i]])
        if final in reasons:
            raise AssertionError(f"dedup: row {i} points at row {final}, which is rejected too")
        if reasons[i] is Reason.EXACT_DUPLICATE and final != keeper[i]:
            details[i] += f", itself a near duplicate of {ids[final]}"
        rejected[i] = (reasons[i], details[i], ids[final])
    return Verdicts(n=n, rejected=rejected)


def _texts(batch: pd.DataFrame) -> list[str]:
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    return [
        content_of(m, t if isinstance(t, str) else None)
        for m, t in zip(batch["messages"], texts, strict=True)
    ]


def _near_details(
    members: list[int],
    pairs: list[tuple[int, int, float]],
    rep_of: dict[int, int],
    normalised: dict[int, str],
    ids: dict[int, str],
    ngram: int,
) -> dict[int, str]:
    """Detail per rejected near duplicate."""
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


def dedup_params(params: dict) -> dict:
    """The dedup section with its defaults filled in, checked (also the augment stage's
    duplicate filter: one reading of ``dedup.*`` for both)."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ConfigError(f"dedup: unknown parameter(s) {', '.join(unknown)}")
    merged = {**PARAMS, **params}
    if merged["near"]:
        check_params(merged["ngram"], merged["threshold"], merged["num_perm"])
    return merged


@register("dedup", "dedup")
def dedup(
    batch: pd.DataFrame,
    exact: bool = True,
    near: bool = True,
    ngram: int = PARAMS["ngram"],
    threshold: float = PARAMS["threshold"],
    num_perm: int = PARAMS["num_perm"],
    seed: int = PARAMS["seed"],
) -> OpResult:
    """Drop exact (normalised) and near (MinHash LSH, verified Jaccard) duplicates; keep the first.

    ``batch`` is the whole dataset in input order. See the module docstring for
    the normalisation and the representative rule.
    """
    p = dedup_params(
        {"exact": exact, "near": near, "ngram": ngram, "threshold": threshold}
        | {"num_perm": num_perm, "seed": seed}
    )
    ids = [str(i) for i in batch["id"]]
    raw = _texts(batch)

    def lookup(rows: np.ndarray) -> tuple[dict[int, str], dict[int, str]]:
        rows = rows.tolist()
        return {i: ids[i] for i in rows}, {i: normalise_for_dedup(raw[i]) for i in rows}

    verdicts = decide([signatures(raw, **p)], lookup, **p)
    mask = np.zeros(len(batch), dtype=bool)
    mask[verdicts.positions(0, len(batch))] = True
    kept = batch[~mask].reset_index(drop=True)
    kept["dup_cluster"] = _objects(list(kept["id"].map(str)), kept.index)
    rejected = verdicts.rejected_frame(batch[mask], np.flatnonzero(mask))
    return OpResult(kept=kept, rejected=rejected)


# ---------------------------------------------------------------- the stage, streamed
def _table_texts(table: pa.Table) -> list[str]:
    names = table.column_names
    n = table.num_rows
    messages = table.column("messages").to_pylist() if "messages" in names else [None] * n
    texts = table.column("text").to_pylist() if "text" in names else [None] * n
    return [
        content_of(m, t if isinstance(t, str) else None)
        for m, t in zip(messages, texts, strict=True)
    ]


def table_signatures(table: pa.Table, params: dict) -> Signatures:
    """``signatures`` of a chunk's text columns."""
    return signatures(_table_texts(table), **params)


def chunk_signatures(
    table: pa.Table, params: dict, cache: KeyCache | None
) -> tuple[Signatures, pa.Table | None]:
    """The per-chunk task executors run: the chunk's ``Signatures``, and with a key
    cache the new entries of the records it had to compute (keyed by ``text_key``)."""
    if cache is None:
        return table_signatures(table, params), None
    texts = _table_texts(table)
    keys = [text_key(t) for t in texts]
    record_keys, entries = cached_keys(
        lambda positions: [texts[i] for i in positions], keys, params, cache
    )
    return _assemble(record_keys, params["exact"], params["near"]), entries


def _lookup(path: Path, chunk_size: int, rows: np.ndarray) -> tuple[dict[int, str], dict[int, str]]:
    """Ids and normalised texts of ``rows`` (sorted positions), read again from ``path``.

    A text is normalised when first asked for: with ``PairScores`` most are not.
    """
    ids: dict[int, str] = {}
    normalised = _Normalised()
    start = 0
    for table in iter_tables(path, chunk_size, ("id", "messages", "text")):
        stop = start + table.num_rows
        lo, hi = np.searchsorted(rows, [start, stop])
        if hi > lo:
            wanted = rows[lo:hi]
            part = table.take(pa.array(wanted - start))
            for i, rid, text in zip(
                wanted.tolist(), part.column("id").to_pylist(), _table_texts(part), strict=True
            ):
                ids[i] = str(rid)
                normalised.raw[i] = text
        start = stop
    return ids, normalised


class _Normalised(dict):
    """Position -> normalised text, normalised on first access."""

    def __init__(self):
        super().__init__()
        self.raw: dict[int, str] = {}

    def __missing__(self, i: int) -> str:
        value = self[i] = normalise_for_dedup(self.raw[i])
        return value


def _plain(typ: pa.DataType) -> pa.DataType:
    """``typ`` with list items named ``item``, as ``records_to_table`` builds them.

    A parquet reader names them ``element``, and the Arrow schema stored in the
    output would then differ from the one the stage wrote before.
    """
    if pa.types.is_list(typ):
        return pa.list_(_plain(typ.value_type))
    if pa.types.is_large_list(typ):
        return pa.large_list(_plain(typ.value_type))
    if pa.types.is_struct(typ):
        return pa.struct([pa.field(f.name, _plain(f.type), f.nullable) for f in typ])
    return typ


def _output_schema(source: pa.Schema) -> pa.Schema:
    """The input's columns and types plus ``dup_cluster``, in ``records_to_table``'s order."""
    fields = {f.name: pa.field(f.name, _plain(f.type)) for f in source}
    fields["dup_cluster"] = pa.field("dup_cluster", field_type("dup_cluster") or pa.string())
    order = [c for c in CANONICAL_COLUMNS if c in fields]
    order += sorted(c for c in fields if c not in CANONICAL_COLUMNS)
    return pa.schema([fields[c] for c in order])


def dedup_parquet(
    source: str | Path,
    output: str | Path,
    run: StageRun,
    params: dict,
    executor: Executor,
    chunk_size: int,
    key_cache: KeyCache | None = None,
    pair_scores: PairScores | None = None,
) -> StageCounts:
    """The dedup stage over files: ``source`` -> kept rows in ``output``; counts and rejects
    go to ``run`` (the stage's shell, ftdata/stage_run.py), which writes them on success.

    Signatures are computed in chunks on ``executor``, verification too; the
    decision and every write happen here, in input order, so any executor
    gives the same bytes. Nothing holds the record frame: what stays in memory
    is ``Signatures`` per row, the candidates' texts, one output row group and
    the rejected rows. With ``key_cache`` (``load_key_cache``) a record whose
    content it holds is not normalised nor signed again; the entries computed
    are added to it as one shard, spilled to disk while they come. Cached or
    not, the keys are the same, so the outputs are the same bytes. ``pair_scores`` (``load_pair_scores``) does the
    same for the verification of candidate pairs.
    """
    source, output = Path(source), Path(output)
    p = dedup_params(params)
    text_columns = ("messages", "text")
    shared = executor.share(key_cache) if key_cache is not None else None
    sigs = []
    with ExitStack() as stack:
        # New keys go to disk as they arrive (ftdata.cache.EntrySpill), not held to the end.
        spill = stack.enter_context(key_cache.spill()) if key_cache is not None else None
        if pair_scores is not None:
            stack.callback(pair_scores.close)
        for sig, new in executor.map_ordered(
            chunk_signatures, iter_tables(source, chunk_size, text_columns), p, shared
        ):
            sigs.append(sig)
            if spill is not None:
                spill.add(new)
        if spill is not None:
            spill.finish()
        del shared
        verdicts = decide(
            sigs,
            lambda rows: _lookup(source, chunk_size, rows),
            **p,
            map_all=executor.map_all,
            pair_scores=pair_scores,
        )
        del sigs
        if pair_scores is not None:
            pair_scores.write_new()

    counts = run.counts
    schema = _output_schema(pq.ParquetFile(source).schema_arrow)
    with RowGroupWriter(output, ROW_GROUP_ROWS) as writer:
        start = 0
        for table in iter_tables(source, chunk_size):
            n = table.num_rows
            rejected = verdicts.positions(start, start + n)
            mask = np.ones(n, dtype=bool)
            mask[rejected] = False
            kept = table.filter(pa.array(mask))
            if len(rejected):
                rows = table_to_records(table.take(pa.array(rejected)))
                run.reject(verdicts.rejected_frame(rows, (rejected + start).tolist()))
            writer.write(_with_dup_cluster(kept, schema))
            counts.n_in += n
            counts.out += int(mask.sum())
            start += n
    if start != verdicts.n or counts.rejected_total != len(verdicts.rejected):
        raise AssertionError(
            f"dedup: {source} changed while it was read ({verdicts.n} rows, then {start}):"
            " accounting does not balance"
        )
    if not counts.out:
        _write_empty(output, schema)
    return counts


def _with_dup_cluster(kept: pa.Table, schema: pa.Schema) -> pa.Table:
    """Kept rows in the output's column order; each is its own cluster's representative."""
    own = kept.column("id").cast(schema.field("dup_cluster").type)
    columns = [own if name == "dup_cluster" else kept.column(name) for name in schema.names]
    return pa.Table.from_arrays(columns, names=schema.names).cast(schema)


def _write_empty(output: Path, schema: pa.Schema) -> None:
    """No row kept: the file an empty frame with these columns gives, as before streaming."""
    write_records(output, pd.DataFrame({c: pd.Series([], dtype=object) for c in schema.names}))
