"""``may_be_mojibake`` is a sound pre-filter for ``ftfy.badness.is_bad``, so ``fix_mojibake``
behaves exactly as it did when it called ``is_bad`` on every text."""

from __future__ import annotations

import re
import sys

import ftfy
from ftfy.badness import BADNESS_RE, is_bad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftdata.ops.text import fix_mojibake
from ftdata.text.mojibake import WITNESS, may_be_mojibake, witness_set
from ftdata.text.regex_floor import min_count


def old_fix_mojibake(text: str) -> str:
    """fix_mojibake as it was before the pre-filter (the oracle)."""
    if not is_bad(text):
        return text
    return ftfy.fix_text(
        text,
        unescape_html=False,
        uncurl_quotes=False,
        fix_character_width=False,
        normalization=None,
    )


NOT_WITNESS = [chr(c) for c in range(sys.maxunicode + 1) if chr(c) not in WITNESS]


def test_the_witness_set_is_derived_and_small():
    assert WITNESS is not None
    assert 0 < len(WITNESS) < 400
    # The punctuation of clean Chinese text stays off the slow path.
    assert not WITNESS & set("“”‘’…—·，。！？、\u3000\u00a0")
    assert all(not ch.isascii() for ch in WITNESS)


def test_every_match_of_badness_re_contains_a_witness_character():
    """The proof, checked on the regex's parse tree: the floor of witness characters is >= 1."""
    assert min_count(BADNESS_RE, WITNESS) >= 1


def test_no_character_outside_the_witness_set_is_bad_alone_or_repeated_or_in_context():
    """Exhaustive over code points: c, ccc and c among letters/spaces never look bad."""
    pattern = BADNESS_RE
    for ch in NOT_WITNESS:
        assert not pattern.search(f"{ch}{ch}{ch} a{ch}{ch}a {ch}\n{ch}"), hex(ord(ch))


def test_a_witness_set_missing_a_needed_character_fails_the_floor():
    """The floor check has teeth: without the C1 controls (alternative 1) it drops to 0."""
    c1 = {chr(c) for c in range(0x80, 0xA0)}
    assert c1 <= WITNESS
    assert min_count(BADNESS_RE, WITNESS - c1) == 0
    assert min_count(BADNESS_RE, WITNESS - {"\x85"}) == 0


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.from_regex(BADNESS_RE))
def test_every_string_is_bad_matches_contains_a_witness(text):
    assert is_bad(text)
    assert may_be_mojibake(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(NOT_WITNESS[:5000] + NOT_WITNESS[-3000:]), max_size=40))
def test_texts_without_witness_characters_are_never_bad(text):
    assert not may_be_mojibake(text)
    assert not is_bad(text)


_MOJIBAKE_ALPHABET = (
    "银行卡号你好，。！？“”‘’…—·¥￥ＡＢ１２\u3000\u00a0\r\n\t "
    "éèàçüöäßñ©®™°±²³×½ÃÂÐØÙâ€œ™š¢£Ÿž¡«»¿¤¦¨¬¯¸ƒˆ˜†‡‰‹›•\x80\x93\x9d"
    "ВГРСвЂΒΓΞΟβ│┌═▀ÒÓòóøœŒ√≈‚Ä"
    "abcXYZ019 .,?!-"
)


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _cp1252(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


texts = st.one_of(
    st.text(alphabet=_MOJIBAKE_ALPHABET, max_size=60),
    st.text(alphabet=_MOJIBAKE_ALPHABET, max_size=20).map(_mojibake),
    st.text(alphabet=_MOJIBAKE_ALPHABET, max_size=20).map(_cp1252),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).map(_mojibake),
)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_fix_mojibake_with_the_prefilter_equals_the_old_fix_mojibake(text):
    assert may_be_mojibake(text) or not is_bad(text)
    assert fix_mojibake(text) == old_fix_mojibake(text)


def test_known_mojibake_still_gets_fixed():
    assert may_be_mojibake("é“¶è¡Œ")
    assert fix_mojibake("é“¶è¡Œ") == "银行"
    assert not may_be_mojibake("“你好”，世界…——中文·text")


def test_a_pattern_with_an_unlistable_alternative_has_no_witness_set():
    assert witness_set(re.compile(r"ab|\w")) is None
    assert witness_set(re.compile(r"x?|y")) is None


def test_witness_sets_of_hand_patterns_meet_every_match():
    for pattern, samples in [
        (re.compile(r"é[a-z]|[ab]ü|(?:ñ|ß)+"), ["éq", "aü", "ñß"]),
        (re.compile(r"(?i)\s°x|°{2,}"), ["\t°X", "°°"]),
    ]:
        witness = witness_set(pattern)
        assert witness is not None
        for sample in samples:
            assert pattern.fullmatch(sample)
            assert witness & set(sample)
