"""``min_count`` is a lower bound on the characters of a set that any match contains."""

from __future__ import annotations

import re
import sys
from re import _constants as C  # noqa: N812

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.text.regex_floor import _cased, char_set, min_count

DIGITS = frozenset("0123456789")


@pytest.mark.parametrize(
    ("pattern", "chars", "floor"),
    [
        (r"[0-9]{4}", DIGITS, 4),
        (r"\d{4}", DIGITS, 0),  # \d also takes ٣ and ３
        (r"[0-9]{2,5}x*", DIGITS, 2),
        (r"[0-9]+?", DIGITS, 1),
        (r"a[0-9]?b", DIGITS, 0),
        (r"[0-9]{3}|[0-9]{5}", DIGITS, 3),
        (r"[0-9Xx]{3}", DIGITS, 0),  # X is not a digit
        (r"[1-8][0-9]{5}(?:[ -]?[0-9]{4}){2}", DIGITS, 14),
        (r"(?P<a>[0-9]{2})-(?P=a)", DIGITS, 2),  # back references count 0
        (r"(?<![0-9])[0-9]{2}(?![0-9])", DIGITS, 2),  # lookarounds count 0
        (r"(?=[0-9]{9})[0-9]", DIGITS, 1),
        (r"[^a][0-9]", DIGITS, 1),
        (r".[0-9]", DIGITS, 1),
        (r"(a)?(?(1)[0-9]{3}|[0-9])", DIGITS, 1),
        (r"(?>[0-9]{2})", DIGITS, 2),
        (r"[0-9]{2}+", DIGITS, 2),
        (r"\w+@\w+", frozenset("@"), 1),
        (r"(?i)[0-9]{3}", DIGITS, 3),  # digits are uncased
        (r"(?i)k{3}", frozenset("kK"), 0),  # k also matches U+212A KELVIN SIGN
        (r"k{3}", frozenset("kK"), 3),
        (r"(?i:x)[0-9]", frozenset("xX0123456789"), 1),
        (r"", DIGITS, 0),
    ],
)
def test_min_count_of_hand_patterns(pattern, chars, floor):
    assert min_count(re.compile(pattern), chars) == floor


def test_char_set_lists_literals_and_ranges_and_gives_up_on_the_rest():
    assert char_set(C.LITERAL, ord("7"), 0) == {"7"}
    assert char_set(C.IN, [(C.RANGE, (48, 50)), (C.LITERAL, 64)], 0) == {"0", "1", "2", "@"}
    assert char_set(C.IN, [(C.NEGATE, None), (C.LITERAL, 48)], 0) is None
    assert char_set(C.IN, [(C.CATEGORY, C.CATEGORY_DIGIT)], 0) is None
    assert char_set(C.LITERAL, ord("a"), re.IGNORECASE) is None
    assert char_set(C.LITERAL, ord("7"), re.IGNORECASE) == {"7"}
    assert char_set(C.LITERAL, ord("7"), re.LOCALE) is None  # locale-dependent: never trusted
    assert char_set(C.ANY, None, 0) is None


def test_uncased_by_our_rule_is_uncased_for_sre():
    """``_cased`` is at least as strict as the engine's own test, on every code point."""
    import _sre

    for cp in range(sys.maxunicode + 1):
        if _sre.unicode_iscased(cp):
            assert _cased(chr(cp)), hex(cp)


_PATTERNS = [
    r"[0-9]{3,}",
    r"(?:[0-9][ -]?){4}",
    r"[0-9]{2}(?:ab|[0-9]c)?@?",
    r"(?i)id[0-9]{2}|x[0-9]",
    r"(?<![0-9])[1-9][0-9]{2}(?:-[0-9]{2})?(?![0-9])",
    r"@[0-9]+@|[0-9]@",
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_PATTERNS), st.text(alphabet="0123456789 -@abcxIDidＫ٣", max_size=24))
def test_no_match_has_fewer_chars_than_the_floor(source, text):
    pattern = re.compile(source)
    for chars in (DIGITS, frozenset("@"), DIGITS | {"@"}):
        floor = min_count(pattern, chars)
        for m in pattern.finditer(text):
            assert sum(m.group(0).count(ch) for ch in chars) >= floor
