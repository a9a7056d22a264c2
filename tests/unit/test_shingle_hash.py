"""The column-wise shingle hash equals xxhash's XXH32 of each window's UTF-8 bytes."""

from __future__ import annotations

import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.text.shingle_hash import ngram_hashes, xxh32_windows


def _windows(text: str, n: int) -> list[str]:
    return [text] if len(text) <= n else [text[i : i + n] for i in range(len(text) - n + 1)]


# Every UTF-8 width (1-4 bytes), so windows of 5 characters span 5..20 bytes and
# both XXH32 paths (under 16 bytes, and the 16-byte stripes) run.
_TEXT = st.text(alphabet=st.sampled_from("ab9 é中文😀ꙮ\u0301"), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=20), st.integers(1, 9))
def test_ngram_hashes_equal_xxh32_of_each_window(texts, n):
    hashes, offsets = ngram_hashes(texts, n)
    for i, text in enumerate(texts):
        expected = [xxhash.xxh32_intdigest(w.encode("utf-8")) for w in _windows(text, n)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected


@pytest.mark.parametrize("length", range(0, 70))
def test_xxh32_windows_match_xxhash_at_every_length(length):
    data = bytes((7 * i + 3) % 256 for i in range(80))
    got = xxh32_windows(np.frombuffer(data, dtype=np.uint8), np.array([5]), np.array([length]))
    assert got.tolist() == [xxhash.xxh32_intdigest(data[5 : 5 + length])]


def test_empty_text_is_refused_because_it_has_no_shingles():
    with pytest.raises(ValueError, match="empty text"):
        ngram_hashes(["abc", ""], 5)
