"""Lower bounds on what any match of a regular expression must contain.

A cheap count can then rule a costly search out: if every match of a pattern
contains at least ``k`` ASCII digits and a text has fewer, ``finditer`` on it
finds nothing and need not run. The bound is computed once per pattern from
its parse tree (``re._parser``, the parser ``re.compile`` itself uses, so the
tree is the one that runs). Every rule rounds *down*: a node the walker does
not understand counts 0, which can only make a bound weaker, never wrong.
"""

from __future__ import annotations

import re
from re import _constants as C  # noqa: N812  (the parser's own opcode names)
from re import _parser

_NO_SET = None  # a node that may match a character nobody enumerated (\\w, ., [^x])


def _cased(ch: str) -> bool:
    """True when case-insensitive matching might let ``ch`` match another character.

    Stricter than ``_sre.unicode_iscased`` (which looks at the simple mappings
    only): full mappings and case folding count too, so an uncased character
    here is uncased for ``re``, which compiles it to a plain case-sensitive test.
    """
    return ch.lower() != ch or ch.upper() != ch or ch.casefold() != ch


def char_set(op, av, flags: int) -> frozenset[str] | None:
    """The exact characters a one-character node (LITERAL, IN) can match, or None.

    None stands for "unknown or unbounded": NOT_LITERAL, ``.``, negated sets,
    categories such as ``\\d`` / ``\\w`` / ``\\s`` (Unicode, so ``\\d`` takes
    Arabic-Indic digits too) and, under IGNORECASE, any set holding a cased
    character (``k`` also matches U+212A KELVIN SIGN). LOCALE is never trusted.
    """
    if flags & C.SRE_FLAG_LOCALE:
        return _NO_SET
    if op is C.LITERAL:
        chars = frozenset(chr(av))
    elif op is C.IN:
        found: set[str] = set()
        for item_op, item_av in av:
            if item_op is C.LITERAL:
                found.add(chr(item_av))
            elif item_op is C.RANGE:
                lo, hi = item_av
                found.update(map(chr, range(lo, hi + 1)))
            else:  # NEGATE, CATEGORY, anything newer
                return _NO_SET
        chars = frozenset(found)
    else:
        return _NO_SET
    if flags & C.SRE_FLAG_IGNORECASE and any(map(_cased, chars)):
        return _NO_SET
    return chars


def _node_flags(flags: int, add: int, remove: int) -> int:
    return (flags | add) & ~remove


def _seq_min(items, chars: frozenset[str], flags: int) -> int:
    return sum(_node_min(op, av, chars, flags) for op, av in items)


def _node_min(op, av, chars: frozenset[str], flags: int) -> int:
    if op is C.LITERAL or op is C.IN:
        matched = char_set(op, av, flags)
        return 1 if matched is not None and matched <= chars else 0
    if op is C.BRANCH:
        return min(_seq_min(branch, chars, flags) for branch in av[1])
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        lo, _hi, body = av
        return lo * _seq_min(body, chars, flags)
    if op is C.SUBPATTERN:
        _group, add, remove, body = av
        return _seq_min(body, chars, _node_flags(flags, add, remove))
    if op is C.ATOMIC_GROUP:
        return _seq_min(av, chars, flags)
    if op is C.GROUPREF_EXISTS:
        _group, yes, no = av
        return min(_seq_min(yes, chars, flags), _seq_min(no, chars, flags) if no else 0)
    # AT, ASSERT, ASSERT_NOT consume nothing of the match; GROUPREF repeats a
    # group whose floor is counted where it stands (0 here keeps it simple);
    # NOT_LITERAL, ANY and whatever a later Python adds: 0 is always a lower bound.
    return 0


def min_count(pattern: re.Pattern[str], chars: frozenset[str]) -> int:
    """The least number of characters from ``chars`` that any match of ``pattern`` contains.

    A node counts 1 only if *every* character it can match is in ``chars``;
    alternatives take the minimum over branches, ``x{lo,hi}`` counts ``lo``
    times ``x``, lookarounds and back references count 0. So a text with fewer
    such characters cannot contain a match.
    """
    tree = _parser.parse(pattern.pattern, pattern.flags)
    return _seq_min(tree.data, frozenset(chars), tree.state.flags)
