"""A cheap necessary condition for ftfy's mojibake test: ``may_be_mojibake``.

``ftfy.badness.is_bad(text)`` is ``BADNESS_RE.search(text)``: a regex of ~37
alternatives, most of them two or three character classes of a few hundred
characters, tried at every position of every text. Almost all clean text
(Chinese, English, code) contains none of the characters those alternatives
*require*, and one character-class scan tells so several times faster.

Why the condition is sound: every alternative of ``BADNESS_RE`` is a sequence
that contains at least one mandatory one-character node (a literal or a
``[...]`` set, not under ``?``/``*``) whose characters we can list. Any match
of that alternative contains one character of that node. ``WITNESS`` is the
union of one such node's set per alternative, so every match of the regex
contains a character of ``WITNESS``, and a text with none cannot match:
``is_bad(text)`` is False. Which node stands for an alternative is a choice;
we take the one whose set holds the fewest characters common in clean text
(“ ” … — · ¥ é ...), so that e.g. Chinese quotes rarely send a text down the
slow path. The nodes come from the compiled pattern's own parse tree (via
``ftdata.text.regex_floor.char_set``), so an ftfy upgrade that changes the
regex changes ``WITNESS`` with it; if some alternative ever has no listable
mandatory node, ``WITNESS`` is None and ``may_be_mojibake`` always says True.
"""

from __future__ import annotations

import re
from re import _constants as C  # noqa: N812  (the parser's own opcode names)
from re import _parser

from ftfy.badness import BADNESS_RE

from ftdata.text.regex_floor import char_set

# What a character costs in a witness set: ASCII is in every text; curly
# quotes in most Chinese (and much English) text; then the rest of clean
# Chinese punctuation (ellipsis, dash, middle dot, yen, NBSP); then symbols
# and accented letters common in English text. Everything else (C1 controls,
# box drawing, Latin-1 oddities) is rare outside mojibake.
_QUOTES = frozenset("\u2018\u2019\u201c\u201d")
_CJK_PUNCT = frozenset("\u00a0\u00a5\u00b7\u2014\u2026")
_FREQUENT = frozenset(
    "\u00b0\u00b2\u00b3\u00b1\u00bd\u00a9\u00ae\u00d7\u2122\u2022\u2013"
    "\u00e9\u00e8\u00e0\u00e1\u00e7\u00f1\u00ed\u00f3\u00fa\u00fc\u00f6\u00e4\u00df"
)


def _cost(ch: str) -> int:
    if ch.isascii():
        return 1000
    if ch in _QUOTES:
        return 500
    if ch in _CJK_PUNCT:
        return 50
    return 10 if ch in _FREQUENT else 1


def _score(chars: frozenset[str]) -> int:
    return sum(map(_cost, chars))


def _covers(items, flags: int) -> list[frozenset[str]]:
    """Sets S such that every match of the sequence ``items`` contains a character of S."""
    found: list[frozenset[str]] = []
    for op, av in items:
        if op is C.LITERAL or op is C.IN:
            chars = char_set(op, av, flags)
            if chars is not None:
                found.append(chars)
        elif op is C.BRANCH:
            union = _branch_cover(av[1], flags)
            if union is not None:
                found.append(union)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            found.extend(_covers(av[2], flags))
        elif op is C.SUBPATTERN:
            _group, add, remove, body = av
            found.extend(_covers(body, (flags | add) & ~remove))
        elif op is C.ATOMIC_GROUP:
            found.extend(_covers(av, flags))
        # AT, lookarounds, back references, optional parts: nothing required.
    return found


def _branch_cover(branches, flags: int) -> frozenset[str] | None:
    """One cover per branch, the least costly, united: covers every branch."""
    union: set[str] = set()
    for branch in branches:
        covers = _covers(branch, flags)
        if not covers:
            return None
        union |= min(covers, key=_score)
    return frozenset(union)


def witness_set(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Characters one of which every match of ``pattern`` contains (None: none found)."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    covers = _covers(tree.data, tree.state.flags)
    return min(covers, key=_score) if covers else None


WITNESS = witness_set(BADNESS_RE)
_WITNESS_RE = (
    re.compile("[" + "".join(re.escape(ch) for ch in sorted(WITNESS)) + "]") if WITNESS else None
)
# No ASCII witness (true for ftfy 6): an ASCII text is settled by ``str.isascii``.
_ASCII_FREE = bool(WITNESS) and all(ord(ch) > 127 for ch in WITNESS)


def may_be_mojibake(text: str) -> bool:
    """False only when ``ftfy.badness.is_bad(text)`` is certainly False (see the module doc)."""
    if _WITNESS_RE is None:
        return True
    if _ASCII_FREE and text.isascii():
        return False
    return _WITNESS_RE.search(text) is not None
