"""The per-record cache of costly ops: hits replay exactly, misses only are computed."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ftdata.cache import OpCache, cached_call
from ftdata.errors import ConfigError
from ftdata.io import read_records, write_records
from ftdata.ops.quality import score
from ftdata.runner import OpCall, op_calls, run_row_stage
from tests.helpers import chat, frame

GLOSSARY = {"glossary": ["账单", "bill"]}
NO_EXECUTOR = {"kind": "pandas"}


def _records(n: int, start: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(start, start + n):
        if i % 2:
            rows.append(
                chat(
                    ("user", f"我的账单第{i}期怎么还款？"),
                    ("assistant", f"第{i}期账单可在APP还款。"),
                    line=i,
                )
            )
        else:
            rows.append(
                chat(
                    ("user", f"When is bill {i} due?"),
                    ("assistant", f"Bill {i} is due on day {i % 28 + 1}."),
                    line=i,
                )
            )
    return frame(*rows)


def _counting_score(calls: list[int]):
    def fn(batch, **params):
        calls.append(len(batch))
        return score(batch, **params)

    return fn


def test_cached_call_computes_only_misses_and_matches_the_op(tmp_path):
    batch = _records(6)
    cache = OpCache.load(tmp_path, "cache", "score", GLOSSARY)
    seen: list[int] = []
    first, fresh = cached_call(_counting_score(seen), batch, GLOSSARY, cache)
    assert seen == [6] and len(fresh) == 6
    cache.write_new([fresh])

    reloaded = OpCache.load(tmp_path, "cache", "score", GLOSSARY)
    assert len(reloaded) == 6
    grown = pd.concat([_records(6), _records(2, start=100)], ignore_index=True)
    seen.clear()
    again, fresh2 = cached_call(_counting_score(seen), grown, GLOSSARY, reloaded)
    assert seen == [2] and len(fresh2) == 2  # only the two new records were scored
    direct = score(grown, **GLOSSARY).kept
    pd.testing.assert_frame_equal(again.kept, direct)  # NaN readability included
    pd.testing.assert_frame_equal(first.kept, score(batch, **GLOSSARY).kept)


def test_params_change_misses_the_cache(tmp_path):
    batch = _records(3)
    cache = OpCache.load(tmp_path, "cache", "score", GLOSSARY)
    _, fresh = cached_call(score, batch, GLOSSARY, cache)
    cache.write_new([fresh])
    other = OpCache.load(tmp_path, "cache", "score", {"glossary": ["积分"]})
    assert len(other) == 0 and other.params_hash != cache.params_hash


def test_shards_are_deterministic_and_compacted(tmp_path):
    paths = []
    for root in (tmp_path / "a", tmp_path / "b"):
        cache = OpCache.load(root, "cache", "score", GLOSSARY, max_shards=2)
        _, fresh = cached_call(score, _records(4), GLOSSARY, cache)
        paths.append(cache.write_new([fresh]))
    assert paths[0].name == paths[1].name
    assert paths[0].read_bytes() == paths[1].read_bytes()

    root = tmp_path / "a"
    for start in (10, 20, 30):
        cache = OpCache.load(root, "cache", "score", GLOSSARY, max_shards=2)
        _, fresh = cached_call(score, _records(2, start=start), GLOSSARY, cache)
        cache.write_new([fresh])
    shards = OpCache.load(root, "cache", "score", GLOSSARY).shard_paths()
    assert len(shards) <= 2
    keys = pd.concat([pq.read_table(p).to_pandas() for p in shards])["key"]
    assert keys.is_unique and len(keys) == 10


def test_only_registered_costly_ops_can_be_cached(tmp_path):
    with pytest.raises(ConfigError, match="cache.ops: op 'min_chars' cannot be cached"):
        OpCache.load(tmp_path, "cache", "min_chars", {})


def test_quality_stage_output_is_byte_identical_with_a_warm_cache(tmp_path):
    section = {
        "ops": ["score", "min_chars"],
        "min_chars": 8,
        "glossary": GLOSSARY["glossary"],
    }
    calls = op_calls(section, "quality")
    src = tmp_path / "in.parquet"
    write_records(src, _records(30))
    cache = {"ops": ["score"], "dir": str(tmp_path / "cache"), "max_shards": 16}

    def build(name: str, cache_cfg):
        out = tmp_path / name
        counts = run_row_stage(
            "quality",
            [src],
            out / "q.parquet",
            out / "rej.parquet",
            out / "m.json",
            calls,
            7,
            executor=NO_EXECUTOR,
            cache=cache_cfg,
        )
        return counts, (out / "q.parquet").read_bytes(), (out / "rej.parquet").read_bytes()

    uncached = build("plain", {})
    cold = build("cold", cache)
    warm = build("warm", cache)
    assert uncached[1:] == cold[1:] == warm[1:]
    assert uncached[0].as_dict() == warm[0].as_dict()
    assert (
        len(list((tmp_path / "cache" / "score").rglob("*.parquet"))) == 1
    )  # warm run added nothing
    lineage = read_records(tmp_path / "warm" / "q.parquet")["ops"]
    assert all(any(e["op"] == "score" for e in ops) for ops in lineage)


def test_cache_dir_exists_even_when_nothing_new_was_computed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FTDATA_ROOT", str(tmp_path))
    src = tmp_path / "in.parquet"
    write_records(src, _records(2))
    run_row_stage(
        "quality",
        [src],
        tmp_path / "q.parquet",
        tmp_path / "r.parquet",
        tmp_path / "m.json",
        [OpCall("min_chars", {"min_chars": 1})],
        10,
        executor=NO_EXECUTOR,
        cache={"ops": ["score"], "dir": "data/cache"},
    )
    assert (tmp_path / "data/cache/score").is_dir()
