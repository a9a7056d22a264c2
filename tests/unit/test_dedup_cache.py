"""dedup's per-record key cache: a warm build signs only new content, and writes the same bytes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import ftdata.ops.dedup as dedup_mod
from ftdata.cache import ChainCache, KeyCache, check_chain_stages
from ftdata.errors import ConfigError
from ftdata.executors import make_executor
from ftdata.io import write_records
from ftdata.ops.dedup import (
    PARAMS,
    compute_keys,
    dedup_parquet,
    key_cache_params,
    load_key_cache,
    load_pair_scores,
    signatures,
    text_key,
)
from tests.helpers import chat, stage_run
from tests.unit.test_dedup_stream import _records

DASK = {"kind": "dask", "workers": 2, "threads_per_worker": 1, "tasks_per_worker": 1}


def _more(n: int, start: int) -> pd.DataFrame:
    """New sessions: some new content, some repeats of each other and of old records."""
    rows = [
        chat(
            ("user", f"新的问题{i // 2}：我的信用卡账单第{i // 2}期为什么多收了钱"), line=start + i
        )
        for i in range(n)
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def signed(monkeypatch) -> list[int]:
    """Texts ``compute_keys`` was given (in process: the pandas executor)."""
    seen: list[int] = []
    real = dedup_mod.compute_keys

    def counting(raw_texts, *args):
        seen.append(len(raw_texts))
        return real(raw_texts, *args)

    monkeypatch.setattr(dedup_mod, "compute_keys", counting)
    return seen


@pytest.fixture
def scored(monkeypatch) -> list[int]:
    """Candidate pairs whose Jaccard was computed (in process: the pandas executor)."""
    seen: list[int] = []
    real_cached, real_plain = dedup_mod._score_job, dedup_mod._verify_job

    def cached(job, *args):
        seen.append(len(job[0]))
        return real_cached(job, *args)

    def plain(job, *args):
        seen.append(len(job[0]))
        return real_plain(job, *args)

    monkeypatch.setattr(dedup_mod, "_score_job", cached)
    monkeypatch.setattr(dedup_mod, "_verify_job", plain)
    return seen


def _build(tmp_path, name, records, cache_dir=None, chunk_size=16, params=None, executor=None):
    """(out bytes, rejects bytes) of the stage; ``cache_dir``: with the key cache there."""
    params = params or {}
    src = tmp_path / f"{name}.in.parquet"
    write_records(src, records)
    out = tmp_path / name
    key_cache = pair_scores = None
    if cache_dir is not None:
        settings = {"stages": ["dedup"], "dir": str(tmp_path / cache_dir), "max_shards": 16}
        key_cache = load_key_cache(tmp_path, settings, params)
        pair_scores = load_pair_scores(tmp_path, settings, params)
    with make_executor(executor) as ex, stage_run(out) as run:
        dedup_parquet(
            src,
            out / "o.parquet",
            run,
            params,
            ex,
            chunk_size,
            key_cache=key_cache,
            pair_scores=pair_scores,
        )
    return (out / "o.parquet").read_bytes(), (out / "r.parquet").read_bytes()


def _shards(tmp_path, cache_dir) -> list[str]:
    return sorted(p.name for p in (tmp_path / cache_dir).rglob("*.parquet"))


def test_cold_warm_and_uncached_builds_are_byte_identical(tmp_path, signed, scored):
    records = _records()
    plain = _build(tmp_path, "plain", records)
    assert sum(signed) == len(records)
    pairs = sum(scored)
    assert pairs > 50
    signed.clear()
    scored.clear()
    cold = _build(tmp_path, "cold", records, "cache")
    contents = len({text_key(t) for t in dedup_mod._texts(records)})
    assert contents <= sum(signed) <= len(records)  # once per content (and chunk)
    assert sum(scored) == pairs
    first = _shards(tmp_path, "cache")
    assert len(first) == 2  # record keys, pair scores
    signed.clear()
    scored.clear()
    warm = _build(tmp_path, "warm", records, "cache")
    assert sum(signed) == 0  # nothing signed: every key comes from the cache
    assert sum(scored) == 0  # nothing verified: every candidate pair's score too
    assert plain == cold == warm
    assert _shards(tmp_path, "cache") == first  # nothing new, nothing written


def test_a_warm_build_needs_no_band_layout(tmp_path, monkeypatch):
    # lsh_bands imports datasketch and scipy (~1 s): a warm build never calls it.
    records = _records(60)
    cold = _build(tmp_path, "cold", records, "cache")

    def refuse(*args):
        raise AssertionError("lsh_bands called")

    monkeypatch.setattr(dedup_mod, "lsh_bands", refuse)
    assert _build(tmp_path, "warm", records, "cache") == cold


def test_a_rebuild_signs_and_verifies_only_the_new_records(tmp_path, signed, scored):
    records = _records()
    _build(tmp_path, "cold", records, "cache")
    old_pairs = sum(scored)
    new = _more(10, start=1000)
    # one new record repeats an old record's content under another locator, one is
    # a near copy of an old record (a new candidate pair)
    again = records.iloc[[3]].assign(id="again", locator="data/raw/unit.jsonl:9999")
    turns = records.iloc[5]["messages"]
    near = chat(("user", turns[0]["content"] + "呀"), ("assistant", turns[1]["content"]), line=2000)
    grown = pd.concat([records, new, again, pd.DataFrame([near])], ignore_index=True)
    scored.clear()
    assert _build(tmp_path, "grown_plain", grown) == (plain := _build(tmp_path, "p2", grown))
    new_pairs = sum(scored) // 2 - old_pairs
    assert new_pairs > 0
    signed.clear()
    scored.clear()
    assert _build(tmp_path, "grown", grown, "cache") == plain
    assert sum(signed) == 6  # 10 new records, 5 new contents (pairs repeat), the near copy
    assert sum(scored) == new_pairs  # only pairs with a new record are verified
    assert len(_shards(tmp_path, "cache")) == 4  # the new entries: one more shard each
    signed.clear()
    scored.clear()
    _build(tmp_path, "grown_again", grown, "cache")
    assert sum(signed) == 0 and sum(scored) == 0


def test_other_chunk_boundaries_replay_keys_computed_elsewhere(tmp_path, signed):
    # Cold with chunks of 7, warm with chunks of 50: an exact repeat that shared its
    # chunk with its first copy (and was not signed) may open a chunk of its own now.
    records = _records()
    _build(tmp_path, "cold", records, "cache", chunk_size=7)
    signed.clear()
    warm = _build(tmp_path, "warm", records, "cache", chunk_size=50)
    assert sum(signed) == 0
    assert warm == _build(tmp_path, "plain", records, chunk_size=50)


def test_keys_from_the_cache_equal_computed_keys():
    records = _records(60)
    texts = dedup_mod._texts(records)
    p = dict(PARAMS)
    keys = compute_keys(texts, True, p["ngram"], p["threshold"], p["num_perm"], p["seed"])
    # every non-empty normalised text has band keys, repeats included
    normalised = [dedup_mod.normalise_for_dedup(t) for t in texts]
    assert keys.has_bands.tolist() == [bool(t) for t in normalised]
    bands, rows = dedup_mod.lsh_bands(p["threshold"], p["num_perm"])
    present = [t for t in normalised if t]
    direct = dedup_mod.band_keys(present, p["ngram"], p["num_perm"], p["seed"], bands, rows)
    assert np.array_equal(keys.bands[keys.has_bands], direct)
    sig = signatures(texts, **p)
    assert np.array_equal(keys.bands[sig.index], sig.bands)


@pytest.mark.parametrize("params", [{"exact": False, "threshold": 0.7}, {"near": False}])
def test_other_params_cached_or_not_give_the_same_bytes(tmp_path, params):
    records = _records(120)
    plain = _build(tmp_path, "plain", records, params=params)
    assert plain == _build(tmp_path, "cold", records, "cache", params=params)
    assert plain == _build(tmp_path, "warm", records, "cache", params=params)


def test_dask_builds_and_replays_the_cache_a_pandas_build_writes(tmp_path):
    records = _records(120)
    plain = _build(tmp_path, "plain", records)
    assert plain == _build(tmp_path, "dask_cold", records, "cache", executor=DASK)
    first = _shards(tmp_path, "cache")
    assert plain == _build(tmp_path, "dask_warm", records, "cache", executor=DASK)
    assert _shards(tmp_path, "cache") == first
    _build(tmp_path, "pandas_cold", records, "cache2")
    assert _shards(tmp_path, "cache2") == first  # same shard, byte for byte (named by content)


def test_what_the_keys_depend_on_picks_the_cache_directory(tmp_path):
    def directory(**params):
        settings = {"stages": ["dedup"], "dir": "cache"}
        return load_key_cache(tmp_path, settings, params).directory

    base = directory()
    assert directory(exact=False) == base  # exact keys do not depend on it
    assert directory(ngram=4) != base
    assert directory(seed=2) != base
    assert directory(num_perm=64) != base
    assert directory(near=False) != base
    assert directory(threshold=0.81) != base
    assert "datasketch" in key_cache_params(dict(PARAMS))[0]
    # off unless cache.stages names dedup
    assert load_key_cache(tmp_path, {"stages": ["clean"], "dir": "cache"}, {}) is None
    assert load_key_cache(tmp_path, None, {}) is None


def test_a_code_change_starts_a_fresh_key_cache(tmp_path, monkeypatch):
    settings = {"stages": ["dedup"], "dir": "cache"}
    before = load_key_cache(tmp_path, settings, {}).directory
    monkeypatch.setattr("ftdata.cache._source_digest", lambda name: f"edited {name}")
    assert load_key_cache(tmp_path, settings, {}).directory != before


def test_dedup_is_a_cacheable_stage_but_not_an_op_chain(tmp_path):
    check_chain_stages(["clean", "dedup"])
    with pytest.raises(ConfigError, match="dedup"):
        check_chain_stages(["quality"])
    with pytest.raises(ConfigError, match="cannot be cached"):
        ChainCache.load(tmp_path, "cache", "dedup", [])


def test_key_cache_stores_fixed_width_values_with_nulls_and_compacts(tmp_path):
    widths = {"a": 4, "b": 16}

    def load():
        return KeyCache.load(tmp_path, "c", "dedup", {"p": 1}, [compute_keys], widths, max_shards=2)

    for round_ in range(4):
        cache = load()
        keys = [f"k{round_}-{i}" for i in range(5)]
        a = np.arange(20, dtype=np.uint8).reshape(5, 4) + round_
        b = np.full((5, 16), 7 + round_, dtype=np.uint8)
        valid = np.array([True, False, True, True, False])
        cache.write_new([cache.entries(keys, {"a": (a, np.ones(5, bool)), "b": (b, valid)})])
        cache = load()
        rows = cache.lookup([*keys, "missing"])
        assert rows[-1] == -1
        got_a, ok_a = cache.take("a", rows[:-1])
        got_b, ok_b = cache.take("b", rows[:-1])
        assert np.array_equal(got_a, a) and ok_a.all()
        assert ok_b.tolist() == valid.tolist()
        assert np.array_equal(got_b[valid], b[valid]) and not got_b[~valid].any()
    assert len(load()) == 20 and len(load().shard_paths()) <= 2
    empty = load().entries(
        [],
        {"a": (np.zeros((0, 4), np.uint8), np.ones(0, bool))}
        | {"b": (np.zeros((0, 16), np.uint8), np.ones(0, bool))},
    )
    assert empty.num_rows == 0 and isinstance(empty, pa.Table)


def test_importing_the_ops_does_not_import_datasketch():
    code = "import sys, ftdata.ops; assert 'datasketch' not in sys.modules, 'datasketch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
