"""New cache entries go to disk as they arrive: bounded memory, the same bytes either way."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import ftdata.cache as cache_mod
from ftdata.cache import ChainCache, OpCache, cached_call, cached_chain, chain_keys
from ftdata.io import write_records
from ftdata.ops.quality import score
from ftdata.runner import op_calls, run_ops, run_row_stage
from tests.helpers import chat, frame
from tests.unit.test_cache_chain import CALLS, _rows
from tests.unit.test_dedup_cache import _build as _dedup_build
from tests.unit.test_dedup_stream import _records as _dedup_records

NO_EXECUTOR = {"kind": "pandas"}
GLOSSARY = {"glossary": ["账单", "bill"]}


def _many_rows(n: int = 48) -> pd.DataFrame:
    """``_rows`` (every fate a clean record can meet) plus distinct records, some repeated."""
    extra = []
    for i in range(n):
        extra.append(
            chat(
                ("user", f"<b>我的账单第{i % (n // 2)}期</b>　怎么还款？"),
                ("assistant", f"第{i % (n // 2)}期账单可在ＡＰＰ还款，  谢谢。"),
                line=100 + i,
            )
        )
    return pd.concat([_rows(), frame(*extra)], ignore_index=True)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (temps included) by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _clean(tmp_path: Path, name: str, src: Path, chunk_size: int = 4):
    out = tmp_path / name
    cache = {"ops": [], "stages": ["clean"], "dir": str(tmp_path / name / "cache")}
    run_row_stage(
        "clean",
        [src],
        out / "clean.parquet",
        out / "rejects.parquet",
        out / "clean.json",
        CALLS,
        chunk_size,
        executor=NO_EXECUTOR,
        cache=cache,
    )
    outputs = [(out / f).read_bytes() for f in ("clean.parquet", "rejects.parquet", "clean.json")]
    return outputs, _tree(out / "cache")


@pytest.fixture
def small_groups(monkeypatch):
    """Shards of several row groups even for a few entries."""
    monkeypatch.setattr(cache_mod, "SHARD_GROUP_ROWS", 5)


def test_spilled_and_held_clean_runs_write_the_same_cache_and_outputs(
    tmp_path, monkeypatch, small_groups
):
    src = tmp_path / "in.parquet"
    write_records(src, _many_rows())
    held = _clean(tmp_path, "held", src, chunk_size=3)
    one_chunk = _clean(tmp_path, "one-chunk", src, chunk_size=100)
    monkeypatch.setattr(cache_mod, "SPILL_BYTES", 1)  # every chunk spills
    spilled = _clean(tmp_path, "spilled", src, chunk_size=3)
    assert held[0] == spilled[0]  # clean.parquet, rejects, metrics
    # The cache: same shard names and bytes, no temp left, whatever the budget or chunking.
    assert held[1] == spilled[1] == one_chunk[1]
    (shard,) = [p for p in held[1] if p.endswith(".parquet")]
    assert pq.ParquetFile(tmp_path / "held" / "cache" / shard).num_row_groups > 1


def test_spilled_and_held_quality_runs_write_the_same_cache_and_outputs(tmp_path, monkeypatch):
    section = {"ops": ["score", "min_chars"], "min_chars": 8, "glossary": GLOSSARY["glossary"]}
    calls = op_calls(section, "quality")
    src = tmp_path / "in.parquet"
    write_records(src, _many_rows())

    def build(name: str, chunk_size: int):
        out = tmp_path / name
        run_row_stage(
            "quality",
            [src],
            out / "q.parquet",
            out / "rej.parquet",
            out / "q.json",
            calls,
            chunk_size,
            executor=NO_EXECUTOR,
            cache={"ops": ["score"], "dir": str(out / "cache")},
        )
        return [(out / f).read_bytes() for f in ("q.parquet", "rej.parquet")], _tree(out / "cache")

    held = build("held", 3)
    one_chunk = build("one-chunk", 100)
    monkeypatch.setattr(cache_mod, "SPILL_BYTES", 1)
    spilled = build("spilled", 3)
    assert spilled == held
    assert spilled[1] == one_chunk[1]


def test_spilled_and_held_dedup_runs_write_the_same_caches_and_outputs(
    tmp_path, monkeypatch, small_groups
):
    records = _dedup_records()
    held = _dedup_build(tmp_path, "held", records, "held-cache", chunk_size=64)
    monkeypatch.setattr(cache_mod, "SPILL_BYTES", 1)
    spilled = _dedup_build(tmp_path, "spilled", records, "spilled-cache", chunk_size=7)
    assert held == spilled  # dedup's outputs do not follow the chunk size
    assert _tree(tmp_path / "held-cache") == _tree(tmp_path / "spilled-cache")
    assert len(_tree(tmp_path / "held-cache")) == 2  # record keys, pair scores


def test_entries_held_stay_under_the_budget_and_the_rest_goes_to_part_files(tmp_path):
    cache = ChainCache.load(tmp_path, "cache", "clean", CALLS)
    batch = _many_rows(200)
    frames: list[pd.DataFrame] = []
    for start in range(0, len(batch), 10):
        cached_chain(batch.iloc[start : start + 10], CALLS, "clean", cache, run_ops, frames)
    chunk_bytes = max(cache._table(f).nbytes for f in frames)
    budget = 3 * chunk_bytes
    spill = cache.spill(budget)
    for f in frames:
        spill.add(f)
    assert spill.peak_bytes <= budget
    assert len(spill.parts) >= len(frames) // 3 - 1  # what did not fit went to disk
    (part_dir,) = {p.parent for p in spill.parts}
    assert part_dir.parent == cache.directory.parent and part_dir.name.endswith(".tmp")
    path = spill.finish()
    assert not part_dir.exists()  # the parts are gone once merged
    assert [p.name for p in cache.shard_paths()] == [path.name]
    keys = pq.read_table(path).column("key").to_pylist()
    assert keys == sorted(set(chain_keys(batch)))  # every content once, in key order


def test_a_warm_run_hits_every_entry_a_spilled_cold_run_wrote(tmp_path, monkeypatch):
    src = tmp_path / "in.parquet"
    rows = _many_rows()
    write_records(src, rows)
    monkeypatch.setattr(cache_mod, "SPILL_BYTES", 1)
    cold = _clean(tmp_path, "run", src, chunk_size=3)
    cache = ChainCache.load(tmp_path / "run", "cache", "clean", CALLS)
    assert (cache.lookup(chain_keys(rows)) >= 0).all()

    def boom(*args, **kwargs):
        raise AssertionError("a warm run must not run an op")

    fresh: list = []
    cached_chain(rows, CALLS, "clean", cache, boom, fresh)
    assert fresh == []
    assert _clean(tmp_path, "run", src, chunk_size=3) == cold  # and writes nothing new


def test_a_warm_op_cache_hits_every_entry_a_spilled_cold_run_wrote(tmp_path):
    rows = _many_rows()
    cache = OpCache.load(tmp_path, "cache", "score", GLOSSARY)
    spill = cache.spill(budget=1)
    for start in range(0, len(rows), 5):
        spill.add(cached_call(score, rows.iloc[start : start + 5], GLOSSARY, cache)[1])
    assert len(spill.parts) > 1
    spill.finish()
    warm = OpCache.load(tmp_path, "cache", "score", GLOSSARY)
    seen: list[int] = []

    def counting(batch, **params):
        seen.append(len(batch))
        return score(batch, **params)

    again, fresh = cached_call(counting, rows, GLOSSARY, warm)
    assert seen == [] and len(fresh) == 0
    pd.testing.assert_frame_equal(again.kept, score(rows, **GLOSSARY).kept)


def test_a_stage_that_fails_after_spilling_leaves_no_shard_nor_temp(tmp_path, monkeypatch):
    src = tmp_path / "in.parquet"
    write_records(src, _many_rows())
    monkeypatch.setattr(cache_mod, "SPILL_BYTES", 1)
    real = cache_mod.EntrySpill._spill
    spilled: list[int] = []

    def spill_then_fail(self):
        real(self)
        spilled.append(len(self.parts))
        if len(spilled) == 3:
            raise RuntimeError("killed mid-stage")

    monkeypatch.setattr(cache_mod.EntrySpill, "_spill", spill_then_fail)
    with pytest.raises(RuntimeError, match="killed mid-stage"):
        _clean(tmp_path, "run", src, chunk_size=3)
    assert spilled == [1, 2, 3]
    assert _tree(tmp_path / "run" / "cache") == {}  # no shard, no part, no temp folder
    assert not (tmp_path / "run" / "clean.parquet").exists()


def test_the_next_run_removes_what_a_killed_run_left(tmp_path):
    """A killed process runs no cleanup: its part folder (and a shard's temp) stay until
    the next run of that cache starts writing."""
    cache = ChainCache.load(tmp_path, "cache", "clean", CALLS)
    stale = cache.directory.parent / f".{cache.directory.name}.abc123.tmp"
    stale.mkdir(parents=True)
    (stale / "part-000000.parquet").write_bytes(b"half")
    cache.directory.mkdir()
    (cache.directory / ".0123456789abcdef.parquet.x1y2.tmp").write_bytes(b"half a shard")
    fresh: list = []
    cached_chain(_rows(), CALLS, "clean", cache, run_ops, fresh)
    path = cache.write_new(fresh)
    assert not stale.exists()
    assert [p.name for p in cache.directory.parent.rglob("*") if p.is_file()] == [path.name]


def test_compaction_merges_shards_into_one_a_row_group_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "SHARD_GROUP_ROWS", 4)
    rows = _many_rows(96)
    for start in (0, 20, 40):
        cache = ChainCache.load(tmp_path, "cache", "clean", CALLS, max_shards=2)
        fresh: list = []
        cached_chain(rows.iloc[start : start + 25], CALLS, "clean", cache, run_ops, fresh)
        cache.write_new(fresh)
    cache = ChainCache.load(tmp_path, "cache", "clean", CALLS, max_shards=2)
    (shard,) = cache.shard_paths()
    keys = pq.read_table(shard).column("key").to_pylist()
    assert keys == sorted(set(chain_keys(rows)))
    # The same entries computed in one go give the same shard.
    other = ChainCache.load(tmp_path / "other", "cache", "clean", CALLS)
    fresh = []
    cached_chain(rows, CALLS, "clean", other, run_ops, fresh)
    assert other.write_new(fresh).read_bytes() == shard.read_bytes()
