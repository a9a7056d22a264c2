"""A normalised view of a text for PII detection, with an index map back to the original.

Detection runs on this view so the same number is found whatever clean ops
ran before ``redact_pii`` (``nfkc``, ``remove_control``, ``collapse_whitespace``
...) or after it: full-width digits/letters/@ are folded, every Unicode dash
becomes ``-``, every space becomes `` ``, full-width punctuation that
separates numbers becomes ASCII, and invisible format characters vanish.
The view is never written out; spans found in it are mapped back.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Dashes people put between digit groups: hyphen, non-breaking hyphen, figure
# dash, en dash, em dash, horizontal bar, minus sign, small/full-width hyphen-minus.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc\u2043"
# Full-width / ideographic punctuation mapped to the ASCII that separates numbers.
PUNCT = {"，": ",", "、": ",", "；": ";", "：": ":", "（": "(", "）": ")", "＋": "+", "．": "."}


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in DASHES:
        return "-"
    if ch in PUNCT:
        return PUNCT[ch]
    cat = unicodedata.category(ch)
    if cat == "Cf":  # zero-width, bidi, soft hyphen: invisible, dropped by remove_control
        return ""
    if cat == "Zs":
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    # Only single-character ASCII foldings (full-width forms, U+3000); NFKC of
    # ①, ㎡ or ligatures would change the length and invent digits.
    if len(folded) == 1 and folded.isascii():
        return folded
    return ch


@dataclass(frozen=True)
class View:
    """``text`` is the normalised copy; ``index[i]`` is the original position of ``text[i]``
    (None: the same position, nothing was dropped, as in almost every text)."""

    text: str
    index: tuple[int, ...] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of view span ``[start, end)``."""
        if self.index is None:
            return start, end
        if start >= end:
            pos = self.index[start] if start < len(self.index) else self.original_length
            return pos, pos
        return self.index[start], self.index[end - 1] + 1


class _FoldTable(dict):
    """``str.translate`` table of ``_fold``, filled as characters are met: translating
    runs in C, and most texts (Chinese included) fold to themselves."""

    def __missing__(self, cp: int) -> str:
        self[cp] = folded = _fold(chr(cp))
        return folded


_FOLDS = _FoldTable()


def normalised_view(text: str) -> View:
    if text.isascii():
        return View(text, None, len(text))
    folded = text.translate(_FOLDS)
    if len(folded) == len(text):  # no character dropped: positions are unchanged
        return View(folded, None, len(text))
    parts: list[str] = []
    index: list[int] = []
    for pos, ch in enumerate(text):
        folded = _fold(ch)
        if folded:
            parts.append(folded)
            index.append(pos)
    return View("".join(parts), tuple(index), len(text))
