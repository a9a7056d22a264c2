"""Character classes and language detection shared by the quality scores.

Everything here is script-level and dictionary-free so it runs offline and
treats Chinese and English alike: a Han character, a Latin letter, a PII
placeholder such as ``<PHONE>`` each have one well-defined class.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache

# PII placeholders written by the clean stage (``<PHONE>``, ``<ID_CARD>``,
# ``<BANK_CARD_2>`` ...). They stand for one redacted value, so they count as
# one ordinary character everywhere and never as special characters or Latin.
PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z0-9_]{0,31}>")

# Han ideographs (CJK Unified + Extension A + compatibility + supplementary
# planes). Kana and Hangul are deliberately not Han: Japanese and Korean text
# must not be detected as Chinese.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_RE = re.compile(f"[{HAN_CLASS}]")
# Basic + Latin-1 + Latin Extended-A/B letters (minus × and ÷) and full-width A-Z/a-z.
LATIN_CLASS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\uff21-\uff3a\uff41-\uff5a"
LATIN_RE = re.compile(f"[{LATIN_CLASS}]")
LATIN_WORD_RE = re.compile(f"[{LATIN_CLASS}]+(?:['’][{LATIN_CLASS}]+)*")

# Punctuation a normal Chinese or English sentence uses (ASCII, CJK and
# full-width forms, typographic quotes and dashes, common currency signs).
# Markdown's ``*`` and ``#`` are included because assistant answers use them.
# Everything else that is not a letter, digit, mark or whitespace is special:
# emoji, box drawing, ``<>{}|\\^_`=``, control/format/private-use chars, U+FFFD.
NORMAL_PUNCT = frozenset(
    ".,!?;:'\"()[]-/%&@$+~*#"
    "，。、；：？！“”‘’（）【】《》〈〉「」『』〔〕…—–·・～￥％＋－／＠＆＃＊．"
    "•¥€£°"
)

# One Han character carries about as much content as three Latin letters (an
# English word averages ~4.7 letters, a Chinese word ~1.5 characters), so Han
# characters weigh 3 when the two scripts' shares are compared.
HAN_WEIGHT = 3.0
ZH_MIN_SHARE = 0.8  # weighted Han share >= 0.8 -> "zh"
EN_MAX_SHARE = 0.2  # weighted Han share <= 0.2 -> "en"; in between -> "mixed"
MIN_KNOWN_SCRIPT_SHARE = 0.5  # Han + Latin below half of all letters -> "other"

LANGS = ("zh", "en", "mixed", "other")
# ``\s`` on str patterns is exactly ``str.isspace`` (both are Py_UNICODE_ISSPACE):
# counting by regex runs in C instead of one Python step per character.
SPACE_RE = re.compile(r"\s")


def without_placeholders(text: str, replacement: str = " ") -> str:
    """``text`` with every PII placeholder replaced (by a space unless told)."""
    return PLACEHOLDER_RE.sub(replacement, text)


def content_chars(text: str) -> int:
    """Non-whitespace characters, each placeholder counting as one (CJK char = 1)."""
    n_placeholders = len(PLACEHOLDER_RE.findall(text))
    stripped = PLACEHOLDER_RE.sub("", text)
    return n_placeholders + len(stripped) - len(SPACE_RE.findall(stripped))


@cache
def is_special(ch: str) -> bool:
    """True for a non-whitespace char that is neither letter/digit/mark nor normal punctuation."""
    if ch.isspace() or ch in NORMAL_PUNCT:
        return False
    return unicodedata.category(ch)[0] not in "LNM"


def special_ratio(text: str) -> float:
    """Share of content characters (see ``content_chars``) that are special; 0.0 for empty text."""
    total = content_chars(text)
    if not total:
        return 0.0
    counts = Counter(PLACEHOLDER_RE.sub("", text))  # per distinct char: C-speed counting
    return sum(n for ch, n in counts.items() if is_special(ch)) / total


def script_counts(text: str) -> tuple[int, int, int]:
    """(Han characters, Latin letters, letters of any script), placeholders ignored."""
    stripped = PLACEHOLDER_RE.sub(" ", text)
    han = len(HAN_RE.findall(stripped))
    latin = len(LATIN_RE.findall(stripped))
    letters = sum(n for ch, n in Counter(stripped).items() if ch.isalpha())
    return han, latin, letters


def zh_share(han: int, latin: int) -> float | None:
    """Weighted Han share of Han + Latin content, or None when there is neither."""
    weighted_han = HAN_WEIGHT * han
    if not weighted_han + latin:
        return None
    return weighted_han / (weighted_han + latin)


def detect_lang(text: str) -> str:
    """``zh``, ``en``, ``mixed`` or ``other`` from the weighted Han vs Latin share.

    ``other`` when there is no Han or Latin letter at all (emoji, digits only)
    or when another script (kana, Hangul, Cyrillic ...) holds at least half of
    the letters. Thresholds: ``ZH_MIN_SHARE``/``EN_MAX_SHARE`` above.
    """
    return lang_of(*script_counts(text))


def lang_of(han: int, latin: int, letters: int) -> str:
    """``detect_lang`` from a text's ``script_counts`` (callers that have them)."""
    share = zh_share(han, latin)
    if share is None or (han + latin) < MIN_KNOWN_SCRIPT_SHARE * letters:
        return "other"
    if share >= ZH_MIN_SHARE:
        return "zh"
    if share <= EN_MAX_SHARE:
        return "en"
    return "mixed"
