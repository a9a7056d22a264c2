"""The fast paths of ``collapse_whitespace`` and ``nfkc`` return what the old bodies returned.

Each old function is copied here as the oracle; hypothesis throws whitespace-only,
CJK, full-width, mojibake and random Unicode text at both.
"""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.ops.text import (
    CIRCLED,
    CJK_CHAR,
    CJK_PUNCT,
    ODD_SPACES,
    _is_tidy,
    _protected_split,
    collapse_whitespace,
    nfkc,
    normalize_newlines,
)

_HSPACE_RUN = re.compile(r"[^\S\n]+")
_BLANK_RUN = re.compile(r"\n{3,}")


def old_collapse_whitespace(text: str, keep_indent: bool = False) -> str:
    lines = normalize_newlines(text).split("\n")
    tidy = []
    for line in lines:
        if keep_indent:
            body = line.lstrip()
            indent = line[: len(line) - len(body)]
            tidy.append(indent + _HSPACE_RUN.sub(" ", body).rstrip() if body else "")
        else:
            tidy.append(_HSPACE_RUN.sub(" ", line).strip())
    joined = _BLANK_RUN.sub("\n\n", "\n".join(tidy))
    return joined.strip("\n") if keep_indent else joined.strip()


def old_nfkc(text: str, keep_cjk_punct: bool = True, keep_circled: bool = True) -> str:
    if text.isascii():
        return text
    lines = text.split("\n")
    out = []
    for line in lines:
        protected = ""
        if keep_cjk_punct and CJK_CHAR.search(line):
            protected += CJK_PUNCT
        if keep_circled:
            protected += CIRCLED
        if not protected:
            out.append(unicodedata.normalize("NFKC", line))
            continue
        pieces = _protected_split(protected).split(line)
        out.append(
            "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(pieces))
        )
    return "\n".join(out)


ALL_CHARS = [chr(c) for c in range(sys.maxunicode + 1)]
SPACES = "".join(ch for ch in ALL_CHARS if ch.isspace())

_WS_ALPHABET = SPACES + "ab中文，"
_CJK_ALPHABET = (
    "中文银行卡号你好手机身份证，。！？：；（）～…“”‘’、《》【】①②⑳"
    "ＡＢｃ１２３！？\u3000\u00a0\u2028\u2029\r\n\t m²㎡ﬁ é\u0301e\u0301ｶﾞ가\u1100\u1161"
    "Ã©Ã¨â€œâ€\x9d\x85 abc123.,!?-"
)
unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
texts = st.one_of(
    st.text(alphabet=" \n", max_size=12),
    st.text(alphabet=" \n\t\r", max_size=16),
    st.text(alphabet=_WS_ALPHABET, max_size=30),
    st.text(alphabet=" \nab", max_size=20),
    st.text(alphabet=_CJK_ALPHABET, max_size=60),
    st.text(alphabet=_CJK_ALPHABET, max_size=30).map(lambda s: s.encode("utf-8").decode("latin-1")),
    unicode_text,
    st.lists(st.sampled_from(["a b", "中文", "", " ", "\n", "  x", "y ", "\u3000"])).map("\n".join),
)


@settings(max_examples=3000, deadline=None)
@given(texts, st.booleans())
def test_collapse_whitespace_equals_the_old_function(text, keep_indent):
    assert collapse_whitespace(text, keep_indent=keep_indent) == old_collapse_whitespace(
        text, keep_indent
    )


@settings(max_examples=3000, deadline=None)
@given(texts, st.booleans())
def test_is_tidy_only_for_texts_the_old_function_leaves_alone(text, keep_indent):
    if _is_tidy(text, keep_indent):
        assert old_collapse_whitespace(text, keep_indent) == text


def test_odd_spaces_are_every_whitespace_but_space_and_newline():
    """Exhaustive: what \\s, str.isspace and str.strip treat as space, minus " " and "\\n"."""
    regex_spaces = "".join(ch for ch in ALL_CHARS if re.match(r"\s", ch))
    assert regex_spaces == SPACES
    assert set(ODD_SPACES) == set(SPACES) - {" ", "\n"}
    assert "".join(ch for ch in ALL_CHARS if not ch.strip()) == SPACES


def test_tidy_texts_are_recognised():
    assert _is_tidy("你好，世界\n\nHello world", False)
    assert _is_tidy(" indented\n line", True)
    assert not _is_tidy(" indented", False)
    assert not _is_tidy("a\u3000b", False)
    assert not _is_tidy("a\n\n\nb", True)
    assert _is_tidy("", False)


@settings(max_examples=3000, deadline=None)
@given(texts, st.booleans(), st.booleans())
def test_nfkc_equals_the_old_function(text, keep_cjk_punct, keep_circled):
    assert nfkc(text, keep_cjk_punct, keep_circled) == old_nfkc(text, keep_cjk_punct, keep_circled)


def test_no_character_normalises_to_or_into_a_newline():
    """Exhaustive: the per-line split of nfkc (and the fast path's proof) rely on it."""
    offenders = [
        hex(ord(ch)) for ch in ALL_CHARS if ch != "\n" and "\n" in unicodedata.normalize("NFKC", ch)
    ]
    assert not offenders


def test_every_protected_character_is_changed_by_nfkc():
    """So an NFKC-invariant text holds none of them and the fast path may skip the split."""
    for ch in CJK_PUNCT + CIRCLED:
        assert not unicodedata.is_normalized("NFKC", ch), ch
