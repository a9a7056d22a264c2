"""Decontamination: no training record may overlap an evaluation or benchmark set.

The val/test leak guard keeps the build's own splits apart; this op extends it to
files outside the build (``decontaminate.benchmarks`` in conf/: a public benchmark,
last quarter's evaluation set). A record in one of ``decontaminate.splits`` is
rejected with reason ``contaminated``, its detail naming the method and the
benchmark record (name, file and line), when any of three tests fires, in order:

- ``exact``: its whole text, or one of its turns, equals a benchmark text after
  dedup's normalisation (NFKC, casefold, no whitespace or punctuation): a benchmark
  question pasted in as a user turn is caught even with an answer beside it;
- ``ngram``: it shares a run of ``ngram`` tokens with a benchmark text (datatrove's
  decontamination rule). A token is one CJK character or one run of letters and
  digits, so 13 tokens are 13 words of English or 13 characters of Chinese without
  a segmenter. Benchmark texts shorter than ``ngram`` tokens are left to the other
  two tests (a short question would otherwise match every record containing it);
- ``minhash``: its text or a turn has MinHash LSH candidates among the benchmark
  texts (dedup's signatures and bands) whose true character-shingle Jaccard
  reaches ``minhash.threshold``: a paraphrase with a few words changed.

Only matching decides, never which records are in the chunk, so the result is the
same for any chunking or executor. Where several benchmark records match, the
smallest reference is named (deterministic).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ftdata.ops.dedup import band_keys, jaccard, lsh_bands, normalise_for_dedup, shingles
from ftdata.reasons import Reason
from ftdata.record import content_of
from ftdata.registry import OpResult, register, split_by

# CJK ideographs (with extension A and compatibility), kana, hangul: one token a character.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def tokens(text: str) -> list[str]:
    """The n-gram test's tokens: NFKC + casefold, then CJK characters and word runs."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text or "").casefold())


def _grams(toks: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


@dataclass(frozen=True)
class BenchmarkText:
    """One benchmark record: the reference a reject names, its whole text and its turns."""

    benchmark: str  # its name in decontaminate.benchmarks
    ref: str  # "<benchmark>:<file>:<line>" (with the record's natural id if mapped)
    text: str
    turns: tuple[str, ...] = ()


@dataclass(frozen=True)
class MinHashTest:
    threshold: float = 0.8
    ngram: int = 5  # character shingles, as dedup
    num_perm: int = 128
    seed: int = 1


def record_units(messages, text) -> tuple[list[str], str]:
    """(whole text and each distinct turn, whole text) of one record."""
    messages = list(messages) if messages is not None else []
    whole = content_of(messages, text if isinstance(text, str) else None)
    turns = [m.get("content") for m in messages]
    units = [whole] + [t for t in dict.fromkeys(turns) if isinstance(t, str) and t and t != whole]
    return units, whole


@dataclass
class BenchmarkIndex:
    """What the three tests look up, built once from every benchmark's texts.

    A unit is a whole text or one turn, on both sides; units of fewer than
    ``min_tokens`` tokens (你好, "thanks") are too common to name contamination and
    take part in no test.
    """

    texts: list[BenchmarkText]
    exact: bool = True
    ngram: int | None = 13
    minhash: MinHashTest | None = field(default_factory=MinHashTest)
    min_tokens: int = 6

    def __post_init__(self) -> None:
        # Sorted by reference: "the smallest reference" is then the smallest position.
        self.texts = sorted(self.texts, key=lambda t: t.ref)
        owner: list[int] = []  # unit -> its benchmark text
        normalised: list[str] = []
        for i, t in enumerate(self.texts):
            for unit in dict.fromkeys((t.text, *t.turns)):
                norm = self._normalised_unit(unit)
                if norm is not None:
                    owner.append(i)
                    normalised.append(norm)
        self._owner, self._normalised = owner, normalised
        self._exact: dict[str, int] = {}
        if self.exact:
            for i, norm in zip(owner, normalised, strict=True):
                self._exact.setdefault(norm, i)
        self._grams: dict[tuple[str, ...], int] = {}
        if self.ngram:
            for i, t in enumerate(self.texts):
                for gram in _grams(tokens(t.text), self.ngram):
                    self._grams.setdefault(gram, i)
        # (benchmark, method) -> records rejected: the stage's per-benchmark metrics
        self.hits: Counter[tuple[str, str]] = Counter()
        self._buckets: list[dict[int, list[int]]] = []
        self._shingles: dict[int, set[str]] = {}
        if self.minhash is not None and normalised:
            keys = self._band_keys(normalised)
            self._buckets = [{} for _ in range(keys.shape[1])]
            for unit, unit_keys in enumerate(keys.tolist()):
                for band, key in enumerate(unit_keys):
                    self._buckets[band].setdefault(key, []).append(unit)

    def _normalised_unit(self, unit: str) -> str | None:
        """The unit as the exact and MinHash tests compare it, or None below the floor."""
        if len(tokens(unit)) < self.min_tokens:
            return None
        return normalise_for_dedup(unit) or None

    def _band_keys(self, normalised: Sequence[str]) -> np.ndarray:
        m = self.minhash
        bands, rows = lsh_bands(m.threshold, m.num_perm)
        return band_keys(normalised, m.ngram, m.num_perm, m.seed, bands, rows)

    def __len__(self) -> int:
        return len(self.texts)

    def match_many(self, records: Sequence[tuple[list[str], str]]) -> list[str | None]:
        """Per record, the detail of the first test that fires (counted in ``hits``), or None.

        A record is (its whole text and each of its turns, its whole text); the n-gram
        test reads the whole text, as a span may cross turns. The MinHash test signs
        every remaining unit of the batch at once (one bulk signature call per chunk,
        not one per record).
        """
        normalised = [
            [n for n in (self._normalised_unit(u) for u in units) if n is not None]
            for units, _ in records
        ]
        found: list[tuple[str, int, str] | None] = [
            self._exact_or_ngram(norms, whole)
            for norms, (_, whole) in zip(normalised, records, strict=True)
        ]
        if self._buckets:
            pending = [i for i, f in enumerate(found) if f is None and normalised[i]]
            flat = [n for i in pending for n in normalised[i]]
            keys = self._band_keys(flat).tolist() if flat else []
            at = 0
            for i in pending:
                width = len(normalised[i])
                best = self._best_minhash(normalised[i], keys[at : at + width])
                at += width
                if best is not None:
                    score, owner = best
                    found[i] = ("minhash", owner, f"Jaccard {score:.3f} with")
        details: list[str | None] = []
        for f in found:
            if f is None:
                details.append(None)
                continue
            method, owner, detail = f
            self.hits[(self.texts[owner].benchmark, method)] += 1
            details.append(f"{method}: {detail} benchmark record {self.texts[owner].ref}")
        return details

    def _exact_or_ngram(self, normalised: list[str], whole: str) -> tuple[str, int, str] | None:
        """(method, benchmark text, what matched) of the exact or n-gram test, or None."""
        if self._exact:
            hits = [self._exact[n] for n in normalised if n in self._exact]
            if hits:
                return "exact", min(hits), "equals"
        if self._grams:
            hits = [self._grams[g] for g in _grams(tokens(whole), self.ngram) if g in self._grams]
            if hits:
                return "ngram", min(hits), f"shares a {self.ngram}-token span with"
        return None

    def _best_minhash(
        self, normalised: list[str], keys: list[list[int]]
    ) -> tuple[float, int] | None:
        """(score, benchmark text) of the best verified candidate: highest score, then the
        smallest reference."""
        best: tuple[float, int] | None = None
        n = self.minhash.ngram
        for norm, unit_keys in zip(normalised, keys, strict=True):
            candidates = sorted(
                {u for band, key in enumerate(unit_keys) for u in self._buckets[band].get(key, ())}
            )
            mine = shingles(norm, n) if candidates else set()
            for unit in candidates:
                if unit not in self._shingles:
                    self._shingles[unit] = shingles(self._normalised[unit], n)
                score = jaccard(mine, self._shingles[unit])
                rank = (-score, self._owner[unit])
                if score >= self.minhash.threshold and (best is None or rank < (-best[0], best[1])):
                    best = (score, self._owner[unit])
        return best


@register("decontaminate", "split")
def decontaminate(
    batch: pd.DataFrame,
    index: BenchmarkIndex | None = None,
    splits: list[str] = ("train",),
) -> OpResult:
    """Reject records of ``splits`` that overlap a benchmark text (``contaminated``)."""
    details: list[str | None] = [None] * len(batch)
    if index is not None and len(index) and len(batch):
        texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
        wanted = set(splits)
        rows = [i for i, split in enumerate(batch["split"]) if split in wanted]
        messages = batch["messages"].tolist()
        texts = list(texts)
        for i, detail in zip(
            rows, index.match_many([record_units(messages[i], texts[i]) for i in rows]), strict=True
        ):
            details[i] = detail
    mask = [d is not None for d in details]
    return split_by(batch, mask, Reason.CONTAMINATED, [d or "" for d in details])
