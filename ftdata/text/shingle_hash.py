"""XXH32 of every character n-gram of many texts at once, column-wise in numpy.

Near dedup hashes each character 5-gram of each text (about 50 per short
record) before MinHash. Calling ``xxhash.xxh32_intdigest`` once per shingle
costs a Python call, an ``encode`` and a set entry each: at a million records
that is tens of millions of calls. Here the texts' UTF-8 bytes are laid out
once and XXH32 (the reference algorithm, seed 0) runs on all windows together,
so the cost is a few numpy passes per chunk. The result equals
``xxhash.xxh32_intdigest(window.encode("utf-8"))`` for every window; the test
suite checks it against the xxhash package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_P1 = np.uint32(2654435761)
_P2 = np.uint32(2246822519)
_P3 = np.uint32(3266489917)
_P4 = np.uint32(668265263)
_P5 = np.uint32(374761393)
_STRIPE = 16


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _words(buf: np.ndarray) -> np.ndarray:
    """Little-endian uint32 starting at every byte offset of ``buf`` (zero-padded)."""
    padded = np.concatenate([buf, np.zeros(3, dtype=np.uint8)]).astype(np.uint32)
    return (
        padded[:-3]
        | (padded[1:-2] << np.uint32(8))
        | (padded[2:-1] << np.uint32(16))
        | (padded[3:] << np.uint32(24))
    )


def xxh32_windows(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """XXH32 (seed 0) of ``buf[s:s + n]`` for each ``s, n`` of ``starts, lengths``, as uint32."""
    buf = np.concatenate([np.asarray(buf, dtype=np.uint8), np.zeros(_STRIPE, dtype=np.uint8)])
    words = _words(buf)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    h = np.empty(len(starts), dtype=np.uint32)
    with np.errstate(over="ignore"):
        stripes = lengths // _STRIPE
        long = stripes > 0
        h[~long] = _P5
        if long.any():
            h[long] = _long_prefix(words, starts[long], stripes[long])
        h += lengths.astype(np.uint32)
        # Words, then bytes, after the stripes; each step only where the window has one.
        pos = starts + stripes * _STRIPE
        end = starts + lengths
        while True:
            more = np.flatnonzero(pos + 4 <= end)
            if not len(more):
                break
            h[more] = _rotl(h[more] + words[pos[more]] * _P3, 17) * _P4
            pos[more] += 4
        while True:
            more = np.flatnonzero(pos < end)
            if not len(more):
                break
            h[more] = _rotl(h[more] + buf[pos[more]].astype(np.uint32) * _P5, 11) * _P1
            pos[more] += 1
        h ^= h >> np.uint32(15)
        h *= _P2
        h ^= h >> np.uint32(13)
        h *= _P3
        h ^= h >> np.uint32(16)
    return h


def _long_prefix(words: np.ndarray, starts: np.ndarray, stripes: np.ndarray) -> np.ndarray:
    """The four-lane state of windows of 16+ bytes, folded to one word (XXH32's long path)."""
    lanes = [
        np.full(len(starts), _P1 + _P2, dtype=np.uint32),
        np.full(len(starts), _P2, dtype=np.uint32),
        np.zeros(len(starts), dtype=np.uint32),
        np.full(len(starts), np.uint32(0) - _P1, dtype=np.uint32),
    ]
    for k in range(int(stripes.max())):
        live = np.flatnonzero(stripes > k)
        base = starts[live] + k * _STRIPE
        for i, lane in enumerate(lanes):
            lane[live] = _rotl(lane[live] + words[base + 4 * i] * _P2, 13) * _P1
    return _rotl(lanes[0], 1) + _rotl(lanes[1], 7) + _rotl(lanes[2], 12) + _rotl(lanes[3], 18)


def ngram_hashes(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """XXH32 of every character ``n``-gram of every text, and where each text's run starts.

    A text of ``n`` characters or fewer is one window (itself), as
    ``shingles`` treats it; texts must be non-empty. Returns ``(hashes,
    offsets)``: text ``i``'s hashes are ``hashes[offsets[i]:offsets[i + 1]]``
    (repeats included: MinHash takes a minimum, so they do not matter).
    """
    chars = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if (chars == 0).any():
        raise ValueError("ngram_hashes: empty text (it has no shingles)")
    joined = "".join(texts)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    byte_at = np.zeros(len(points) + 1, dtype=np.int64)
    np.cumsum(widths, out=byte_at[1:])
    buf = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)

    windows = np.maximum(chars - n + 1, 1)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(windows, out=offsets[1:])
    text_start = np.concatenate([[0], np.cumsum(chars)[:-1]])
    first = np.repeat(text_start, windows)
    char_start = first + (np.arange(offsets[-1]) - np.repeat(offsets[:-1], windows))
    char_end = char_start + np.repeat(np.minimum(chars, n), windows)
    starts = byte_at[char_start]
    return xxh32_windows(buf, starts, byte_at[char_end] - starts), offsets
