"""dedup's banded LSH and its streamed stage: the same pairs as datasketch, the same bytes as the op."""

from __future__ import annotations

import random

import numpy as np
import pyarrow.parquet as pq
import pytest
import xxhash
from datasketch import MinHash, MinHashLSH

import ftdata.ops.dedup as dedup_mod
from ftdata.executors import make_executor
from ftdata.io import read_records, read_rejects, write_records
from ftdata.ops.dedup import (
    _LSH_WEIGHTS,
    band_candidates,
    band_keys,
    dedup,
    dedup_parquet,
    jaccard,
    lsh_bands,
    minhash_signatures,
    normalise_for_dedup,
    shingles,
    verified_pairs,
)
from ftdata.privacy.rejects import rejects_frame
from tests.helpers import chat, frame, stage_run


def _near_texts(n: int) -> list[str]:
    rng = random.Random(11)
    bases = [
        f"请问我的信用卡第{k}期账单为什么多收了{k * 13}元年费，能否帮我申请减免并说明原因"
        if k % 2
        else f"my card statement number {k} shows an annual fee of {k * 7} dollars, please waive it"
        for k in range(n // 6)
    ]
    texts = []
    for i in range(n):
        t = rng.choice(bases)
        for _ in range(rng.randrange(3)):
            pos = rng.randrange(len(t))
            t = t[:pos] + rng.choice("的了吗xyz") + t[pos + 1 :]
        texts.append(normalise_for_dedup(t) if i % 50 else "")
    return texts


def _datasketch_minhashes(sets, num_perm, seed):
    """datasketch's own MinHash of each shingle set, one Python hash call per shingle."""
    encoded = ([s.encode("utf-8") for s in sh] for sh in sets)
    return MinHash.generator(encoded, num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)


@pytest.mark.parametrize(("ngram", "num_perm", "seed"), [(5, 128, 1), (3, 64, 7), (1, 16, 0)])
def test_bulk_signatures_are_bit_identical_to_datasketch_minhash(ngram, num_perm, seed):
    rng = random.Random(seed)
    alphabet = "ab中文😀éz ̈ꙮ"
    texts = [t for t in _near_texts(120) if t]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(200)]
    expected = [
        mh.hashvalues
        for mh in _datasketch_minhashes((shingles(t, ngram) for t in texts), num_perm, seed)
    ]
    got = minhash_signatures(texts, ngram, num_perm, seed)
    assert got.dtype == np.uint32
    assert np.array_equal(got, np.array(expected))


def _datasketch_pairs(normalised, ngram, threshold, num_perm, seed):
    """The pair search dedup had before banding: MinHashLSH, query before insert."""
    sets = [shingles(t, ngram) for t in normalised]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
    pairs = []
    for i, signature in enumerate(_datasketch_minhashes(sets, num_perm, seed)):
        if not sets[i]:
            continue
        for j in sorted(lsh.query(signature)):
            score = jaccard(sets[i], sets[j])
            if score >= threshold:
                pairs.append((j, i, score))
        lsh.insert(i, signature)
    return pairs


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.8, 128), (0.6, 64)])
def test_banded_search_finds_exactly_the_pairs_datasketch_lsh_finds(threshold, num_perm):
    texts = _near_texts(300)
    expected = _datasketch_pairs(texts, 5, threshold, num_perm, 1)
    assert len(expected) > 50
    assert verified_pairs(texts, 5, threshold, num_perm, 1) == expected


def test_band_candidates_pair_every_member_of_a_bucket_and_skip_empty_texts():
    bands, rows = lsh_bands(0.8, 128)
    texts = ["abcdefgh", "abcdefgh", "zzzzzzzzz", "abcdefgh"]
    keys = band_keys(texts, 5, 128, 1, bands, rows)
    assert band_candidates(np.array([0, 1, 3, 5]), keys).tolist() == [[0, 1], [0, 5], [1, 5]]
    assert verified_pairs(["abcdefgh", "", "abcdefgh"], 5, 0.8, 128, 1) == [(0, 2, 1.0)]


# ------------------------------------------------------------------ the streamed stage
def _records(n: int = 240):
    rng = random.Random(5)
    texts = _near_texts(n)
    rows = []
    for i, t in enumerate(texts):
        question = t if i % 7 else " ".join(t)  # spaced copies: exact after normalisation
        extra = {"text": "另外积分怎么兑换"} if i % 11 == 0 else {}
        rows.append(
            chat(("user", question), ("assistant", f"好的{rng.randrange(3)}"), line=i, **extra)
        )
    return frame(*rows)


def _run(tmp_path, records, name="run", chunk_size=16, params=None):
    src = tmp_path / "in.parquet"
    if not src.exists():
        write_records(src, records)
    out = tmp_path / name
    with stage_run(out) as run:
        dedup_parquet(src, out / "o.parquet", run, params or {}, make_executor(None), chunk_size)
    return out, run.counts


def test_streamed_stage_writes_what_the_op_gives_byte_for_byte(tmp_path):
    records = _records()
    result = dedup(records)
    assert {"exact_duplicate", "near_duplicate"} <= set(result.rejected["reason"])
    out, counts = _run(tmp_path, records)
    write_records(tmp_path / "op.parquet", result.kept)
    assert (out / "o.parquet").read_bytes() == (tmp_path / "op.parquet").read_bytes()
    expected = rejects_frame("dedup", result.rejected)
    assert read_rejects(out / "r.parquet").fillna("").equals(expected.fillna(""))
    assert counts.balanced() and counts.n_in == len(records)
    assert counts.out == len(result.kept)
    assert dict(counts.rejected) == result.rejected["reason"].value_counts().to_dict()


def test_chunking_and_row_groups_change_no_record(tmp_path, monkeypatch):
    records = _records()
    big, _ = _run(tmp_path, records, "big", chunk_size=10_000)
    small, _ = _run(tmp_path, records, "small", chunk_size=7)
    assert (big / "o.parquet").read_bytes() == (small / "o.parquet").read_bytes()
    assert (big / "r.parquet").read_bytes() == (small / "r.parquet").read_bytes()
    monkeypatch.setattr(dedup_mod, "ROW_GROUP_ROWS", 50)
    grouped, _ = _run(tmp_path, records, "grouped", chunk_size=7)
    assert pq.ParquetFile(grouped / "o.parquet").metadata.num_row_groups > 1
    assert read_records(grouped / "o.parquet").equals(read_records(big / "o.parquet"))


def test_streamed_stage_without_exact_dedup_matches_the_op(tmp_path):
    records = _records(120)
    params = {"exact": False, "threshold": 0.7}
    result = dedup(records, **params)
    out, _ = _run(tmp_path, records, params=params)
    assert set(result.rejected["reason"]) == {"near_duplicate"}
    assert list(read_records(out / "o.parquet")["id"]) == list(result.kept["id"])


def test_empty_input_gives_empty_outputs_that_balance(tmp_path):
    records = _records(12).iloc[:0]
    out, counts = _run(tmp_path, records)
    assert counts.balanced() and counts.n_in == 0
    write_records(tmp_path / "op.parquet", dedup(records).kept)
    assert (out / "o.parquet").read_bytes() == (tmp_path / "op.parquet").read_bytes()
    assert len(read_rejects(out / "r.parquet")) == 0


def test_band_keys_are_the_same_whatever_the_signature_block(monkeypatch):
    texts = [t for t in _near_texts(200) if t]
    bands, rows = lsh_bands(0.8, 128)
    whole = band_keys(texts, 5, 128, 1, bands, rows)
    monkeypatch.setattr(dedup_mod, "SIGNATURE_BLOCK", 7)
    assert np.array_equal(band_keys(texts, 5, 128, 1, bands, rows), whole)
