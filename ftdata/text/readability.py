"""Readability grades for English and Chinese text, offline and deterministic.

English: Flesch-Kincaid grade and Flesch reading ease from textstat 0.7.4,
which counts syllables with pyphen's bundled hyphenation dictionaries (no NLTK,
no cmudict download; later textstat releases fetch cmudict on first use).

Chinese has no syllable-per-word signal, so its counterpart is a grade-like
score built from the two things that make Chinese text hard to read:

    grade_zh = 0.2 * ASL + 30 * rare_share

- ASL: average sentence length in Han characters (sentences end at 。！？；…
  and at turn boundaries; Chinese chains clauses with commas, so commas do
  not end one). A 15-character chat sentence scores 3, a 45-character
  assistant answer 9, a 90-character run-on clause 18 (the default bound).
- rare_share: share of Han characters outside GB 2312 level 1, the 3,755
  "commonly used" characters of the national standard (about 99.7 % of
  running modern text). Normal text has well under 2 % of them; rare-character
  garbage or classical text pushes the score up by up to 30 grades.

Why GB 2312 level 1 rather than a shipped top-2,500 list or jieba word lengths:
it is a published standard, it comes with Python's own ``gb2312`` codec (no data
file, no package-data wiring, no download), and a list derived from jieba's
dictionary ranks junk characters into its top 2,500 while leaving out domain
characters such as 逾 (逾期). jieba word lengths were rejected because the
tokenizer's choices, not the text, would drive the score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ftdata.text.lang import HAN_CLASS, HAN_RE, LATIN_WORD_RE, without_placeholders

ZH_ASL_WEIGHT = 0.2
ZH_RARE_WEIGHT = 30.0

_CJK_SENTENCE_END = re.compile(r"[。！？．]")
# Han, CJK symbols/punctuation, full-width punctuation (not full-width letters or
# digits), double quotes, ellipsis, em dash.
_OTHER_CJK = re.compile(
    f"[{HAN_CLASS}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\u201c-\u201f\u2026\u2014]"
)
_ZH_SENTENCE_SPLIT = re.compile(r"[。！？!?；;…\n]+|\.(?=\s|$)")
_ENDS_SENTENCE = re.compile(r"[.!?。！？]\s*$")


@dataclass(frozen=True)
class EnglishReadability:
    grade: float  # Flesch-Kincaid grade level
    reading_ease: float  # Flesch reading ease (higher = easier)
    words: int  # Latin words measured


@dataclass(frozen=True)
class ChineseReadability:
    grade: float
    avg_sentence_chars: float
    rare_share: float
    han_chars: int


@cache
def _textstat():
    """One private textstat instance, rounding off, created on first use.

    A private instance leaves textstat's module-level singleton untouched, and
    unrounded figures make threshold boundaries exact.
    """
    from textstat.textstat import textstatistics

    stats = textstatistics()
    stats.set_lang("en_US")
    stats.set_rounding(False)
    return stats


@cache
def common_han() -> frozenset[str]:
    """GB 2312 level-1 Hanzi (rows 16-55): the 3,755 commonly used characters."""
    chars = set()
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # row 55 ends at 0xF9
    return frozenset(chars)


def english_part(turns: list[str]) -> str:
    """The Latin-script part of ``turns`` as text textstat can read.

    Han characters and CJK punctuation become spaces (CJK sentence ends become
    periods), and every turn ends a sentence so turns never run together.
    """
    sentences = []
    for turn in turns:
        text = without_placeholders(turn)
        text = _CJK_SENTENCE_END.sub(". ", text)
        text = _OTHER_CJK.sub(" ", text).strip()
        if not text:
            continue
        if not _ENDS_SENTENCE.search(text):
            text += "."
        sentences.append(text)
    return "\n".join(sentences)


def english_readability(turns: list[str]) -> EnglishReadability | None:
    """Flesch-Kincaid grade and reading ease of the Latin part, None without Latin words."""
    text = english_part(turns)
    words = len(LATIN_WORD_RE.findall(text))
    if not words:
        return None
    stats = _textstat()
    return EnglishReadability(
        grade=float(stats.flesch_kincaid_grade(text)),
        reading_ease=float(stats.flesch_reading_ease(text)),
        words=words,
    )


def chinese_readability(turns: list[str]) -> ChineseReadability | None:
    """The grade-like Chinese score (see module docstring), None without Han characters."""
    common = common_han()
    han_total = rare = sentences = 0
    for turn in turns:
        for sentence in _ZH_SENTENCE_SPLIT.split(without_placeholders(turn)):
            han = HAN_RE.findall(sentence)
            if not han:
                continue
            sentences += 1
            han_total += len(han)
            rare += sum(1 for ch in han if ch not in common)
    if not han_total:
        return None
    asl = han_total / sentences
    rare_share = rare / han_total
    return ChineseReadability(
        grade=ZH_ASL_WEIGHT * asl + ZH_RARE_WEIGHT * rare_share,
        avg_sentence_chars=asl,
        rare_share=rare_share,
        han_chars=han_total,
    )
