"""The repeated-character share of many records at once (quality's ``score_char_repetition``).

The rule is ``ftdata.ops.quality.char_repetition``'s (its docstring defines
it): units are one Han/kana character, one run of other letters/digits, or one
other non-space character; a character is repeated when it lies in a
case-folded n-gram of units seen earlier in its turn, or in a later copy of a
1-3 character pattern repeated to ``RUN_MIN_CHARS``+ characters.

Scanning each turn with ``finditer`` and a set of tuples cost a Python object
per unit and was half of the row stages' time. Here a batch of turns is laid
out as one array of code points; units, their case-folded keys (one Arrow
dictionary encode), n-gram codes (``pd.factorize``, column-wise) and the
"seen earlier in this turn" test (``duplicated``) are whole-array operations.
Runs still use the regex, but only on turns where a vectorised test finds the
necessary condition of a run: ``RUN_MIN_CHARS - p`` consecutive positions where
a character equals the one ``p`` places later, for some pattern length ``p``.
The per-turn code in tests/unit/test_repetition.py is the oracle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ftdata.text.lang import HAN_CLASS, PLACEHOLDER_RE

REPETITION_NGRAM = 5
RUN_MIN_CHARS = 6
RUN_MAX_PATTERN = 3
PLACEHOLDER_MARK = "\ue000"  # one private-use char stands for one placeholder
SINGLE_CHAR_UNIT = f"{HAN_CLASS}\u3040-\u30ff"  # Han and kana: one unit per character
UNIT_RE = re.compile(rf"[{SINGLE_CHAR_UNIT}]|(?:(?![{SINGLE_CHAR_UNIT}])[^\W_])+|\S")
RUN_RE = re.compile(rf"(\S{{1,{RUN_MAX_PATTERN}}}?)\1{{2,}}")

# Code point classes: whitespace, single-character unit, letter/digit run member, other.
_SPACE, _SINGLE, _WORD, _OTHER, _UNKNOWN = 0, 1, 2, 3, 255
_SINGLE_RE = re.compile(f"[{SINGLE_CHAR_UNIT}]")
_WORD_RE = re.compile(r"[^\W_]")
# A batch is cut to about this many characters so its arrays stay a few tens of MB.
_BATCH_CHARS = 1 << 20


class _CodePoints:
    """Per code point: its class and the UTF-8 length of its case fold, learned as seen.

    Classifying all 1.1M code points up front costs ~1 s per process; a
    corpus uses a few thousand, so each is classified (by the same regexes
    the rule is written in) the first time a batch holds it.
    """

    def __init__(self) -> None:
        self.cls = np.full(0x110000, _UNKNOWN, dtype=np.uint8)
        self.fold_bytes = np.zeros(0x110000, dtype=np.uint8)

    def lookup(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cls = self.cls[points]
        unknown = cls == _UNKNOWN
        if unknown.any():
            for cp in np.unique(points[unknown]).tolist():
                self._learn(cp)
            cls = self.cls[points]
        return cls, self.fold_bytes[points]

    def _learn(self, cp: int) -> None:
        char = chr(cp)
        if char.isspace():  # exactly the regex \s (both use Py_UNICODE_ISSPACE)
            self.cls[cp] = _SPACE
        elif _SINGLE_RE.match(char):
            self.cls[cp] = _SINGLE
        elif _WORD_RE.match(char):
            self.cls[cp] = _WORD
        else:
            self.cls[cp] = _OTHER
        self.fold_bytes[cp] = len(char.casefold().encode("utf-8", "surrogatepass"))


_POINTS = _CodePoints()


def mark_placeholders(turn: str) -> str:
    """``<PHONE>`` and friends as one character each: a placeholder is one unit."""
    return PLACEHOLDER_RE.sub(PLACEHOLDER_MARK, turn) if "<" in turn else turn


def char_repetitions(records: Sequence[Sequence[str]]) -> np.ndarray:
    """``char_repetition`` of each record's turns, as float64, one per record."""
    out = np.zeros(len(records), dtype=np.float64)
    start = 0
    while start < len(records):
        stop, chars = start, 0
        while stop < len(records) and (stop == start or chars < _BATCH_CHARS):
            chars += sum(len(t) + 1 for t in records[stop])
            stop += 1
        covered, total = _batch_counts(records[start:stop])
        nonzero = total > 0
        out[start:stop][nonzero] = covered[nonzero] / total[nonzero]
        start = stop
    return out


def _batch_counts(records: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(repeated content characters, content characters) per record."""
    turns = [mark_placeholders(t) for ts in records for t in ts]
    owner = np.repeat(np.arange(len(records)), [len(ts) for ts in records])
    if not turns:
        return np.zeros(len(records), dtype=np.int64), np.zeros(len(records), dtype=np.int64)
    joined = "\n".join(turns)  # "\n" is a space: no unit, n-gram or run crosses turns
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter(map(len, turns), dtype=np.int64, count=len(turns))
    turn_start = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    turn_of = np.repeat(np.arange(len(turns)), lengths + 1)[: len(points)]
    cls, fold_bytes = _POINTS.lookup(points)
    space = cls == _SPACE

    covered = _gram_cover(joined, cls, fold_bytes, space, turn_of)
    for t in _turns_with_runs(points, space, turn_of):
        base = turn_start[t]
        for run in RUN_RE.finditer(turns[t]):
            if len(run.group()) >= RUN_MIN_CHARS:
                covered[base + run.start() + len(run.group(1)) : base + run.end()] = True

    content = ~space
    record_of = owner[turn_of]
    n = len(records)
    repeated = np.bincount(record_of[covered & content], minlength=n)
    total = np.bincount(record_of[content], minlength=n)
    return repeated, total


def _gram_cover(
    joined: str, cls: np.ndarray, fold_bytes: np.ndarray, space: np.ndarray, turn_of: np.ndarray
) -> np.ndarray:
    """Per position of ``joined``: inside an n-gram of units already seen in its turn."""
    size = len(cls)
    single = (cls == _SINGLE) | (cls == _OTHER)
    word = cls == _WORD
    word_before = np.concatenate([[False], word[:-1]])
    word_after = np.concatenate([word[1:], [False]])
    unit_start = np.flatnonzero(single | (word & ~word_before))
    unit_end = np.flatnonzero(single | (word & ~word_after)) + 1
    n = REPETITION_NGRAM
    covered = np.zeros(size, dtype=bool)
    if len(unit_start) < n:
        return covered
    codes = _unit_codes(joined, fold_bytes, space, unit_start)
    unit_turn = turn_of[unit_start]
    m = len(codes) - n + 1
    valid = unit_turn[:m] == unit_turn[n - 1 :]
    key = _gram_codes(codes, n, m, unit_turn[:m])
    at = np.flatnonzero(valid)
    repeat = at[pd.Series(key[at]).duplicated().to_numpy()]
    if len(repeat):
        delta = np.bincount(unit_start[repeat], minlength=size + 1)
        delta -= np.bincount(unit_end[repeat + n - 1], minlength=size + 1)
        covered = np.cumsum(delta[:size]) > 0
    return covered


def _gram_codes(codes: np.ndarray, n: int, m: int, turn: np.ndarray) -> np.ndarray:
    """One integer per (turn, n-gram of unit codes starting at each of the first ``m`` units).

    Codes are packed side by side into 62 bits while they fit, and the packed
    value is renumbered (``pd.factorize``) only when the next code would not
    fit: exact, and two hash passes instead of one per unit of the n-gram.
    """
    parts = [turn.astype(np.int64)] + [codes[k : k + m].astype(np.int64) for k in range(n)]
    key, span = parts[0], int(turn.max()) + 1
    for part in parts[1:]:
        width = int(part.max()) + 1
        if span * width >= 1 << 62:
            key, uniques = pd.factorize(key)
            span = len(uniques)
        key = key * width + part
        span *= width
    return key


def _unit_codes(
    joined: str, fold_bytes: np.ndarray, space: np.ndarray, unit_start: np.ndarray
) -> np.ndarray:
    """One integer per unit, equal for units whose case folds are equal ("ß" and "SS" too).

    Units tile the text once whitespace is removed, so the case-folded UTF-8
    bytes of the stripped text, cut at the units' starts, are the units' keys:
    one Arrow string array, dictionary-encoded in C.
    """
    folded = "".join(joined.split()).casefold().encode("utf-8", "surrogatepass")
    content = ~space
    byte_at = np.concatenate([[0], np.cumsum(fold_bytes[content], dtype=np.int64)])
    rank = np.cumsum(content) - 1  # position in the stripped text
    offsets = np.append(byte_at[rank[unit_start]], len(folded))
    keys = pa.LargeStringArray.from_buffers(
        len(unit_start), pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(folded)
    )
    return keys.dictionary_encode().indices.to_numpy()


def _turns_with_runs(points: np.ndarray, space: np.ndarray, turn_of: np.ndarray) -> list[int]:
    """Turns that may hold a run: the regex runs on these only."""
    flagged: set[int] = set()
    content = ~space
    for p in range(1, RUN_MAX_PATTERN + 1):
        need = RUN_MIN_CHARS - p  # consecutive equalities a run of pattern length p implies
        if len(points) < p + need:
            continue
        same = (points[:-p] == points[p:]) & content[:-p] & content[p:]
        sums = np.concatenate([[0], np.cumsum(same, dtype=np.int64)])
        window = np.flatnonzero(sums[need:] - sums[:-need] == need)
        flagged.update(np.unique(turn_of[window]).tolist())
    return sorted(flagged)
