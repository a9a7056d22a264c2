"""The per-record cache of the clean op chain: a warm build replays, byte for byte."""

from __future__ import annotations

import json
import sys
import textwrap

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ftdata.cache import ChainCache, cached_chain, chain_keys, code_fingerprint
from ftdata.catalog import get_op
from ftdata.errors import ConfigError
from ftdata.io import read_rejects, write_records
from ftdata.params import load_params
from ftdata.runner import op_calls, run_ops, run_row_stage
from ftdata.stage import project_root
from tests.helpers import chat, frame

NO_EXECUTOR = {"kind": "pandas"}
CLEAN = load_params(project_root())["clean"]
CALLS = op_calls(CLEAN, "clean")


def _rows() -> pd.DataFrame:
    html = chat(
        ("user", "<p>我的账单　怎么查？</p>"),
        ("assistant", "您可以在ＡＰＰ“我的账单”页面查看，  谢谢。"),
        line=1,
    )
    pii = chat(
        ("user", "My phone is 13800138000 and email li.lei@example.com, when is my bill due?"),
        ("assistant", "Your bill is due on the 5th; we will text 138 0013 8000."),
        line=2,
    )
    smalltalk = chat(
        ("user", "你好"),
        ("assistant", "您好，请问有什么可以帮您？"),
        ("user", "我的积分怎么兑换？"),
        ("assistant", "在APP积分商城即可兑换。"),
        ("user", "谢谢！"),
        ("assistant", "不客气"),
        line=3,
    )
    only_hello = chat(("user", "hello"), ("assistant", "Hi there!"), line=4)
    pii_only = chat(("user", "13800138000"), ("assistant", "好的，已记录您的号码。"), line=5)
    promise = chat(
        ("user", "这个理财产品怎么样？"),
        ("assistant", "这款产品稳赚不赔，年化收益保证8%。"),
        line=6,
    )
    mojibake = chat(("user", "é“¶è¡Œå¡ä¸¢äº†æ€Žä¹ˆåŠž"), ("assistant", "请立即挂失。"), line=7)
    classify = chat(("user", "年费怎么收取"), line=8, text="信用卡年费怎么收取？")
    english = chat(
        ("user", "How do I raise my credit limit?"), ("assistant", "Apply in the app."), line=9
    )
    # Same content as rows above, other lines: the key ignores where a record came from.
    promise_again = {**promise, "id": "again-promise", "locator": "data/raw/other.jsonl:77"}
    html_again = {**html, "id": "again-html", "locator": "data/raw/other.jsonl:78"}
    return frame(
        html,
        pii,
        smalltalk,
        only_hello,
        pii_only,
        promise,
        mojibake,
        classify,
        english,
        promise_again,
        html_again,
    )


def _build(tmp_path, name: str, src, cache, chunk_size: int = 4, executor=NO_EXECUTOR):
    out = tmp_path / name
    counts = run_row_stage(
        "clean",
        [src],
        out / "clean.parquet",
        out / "rejects.parquet",
        out / "clean.json",
        CALLS,
        chunk_size,
        executor=executor,
        cache=cache,
    )
    files = ("clean.parquet", "rejects.parquet", "clean.json")
    return counts.as_dict(), [(out / f).read_bytes() for f in files]


def test_cold_then_warm_clean_chain_is_byte_identical_to_computing(tmp_path):
    src = tmp_path / "in.parquet"
    write_records(src, _rows())
    cache = {"ops": [], "stages": ["clean"], "dir": str(tmp_path / "cache"), "max_shards": 16}
    plain = _build(tmp_path, "plain", src, {})
    cold = _build(tmp_path, "cold", src, cache)
    shards = sorted((tmp_path / "cache" / "clean").rglob("*.parquet"))
    warm = _build(tmp_path, "warm", src, cache)
    assert plain == cold == warm
    assert sorted((tmp_path / "cache" / "clean").rglob("*.parquet")) == shards  # nothing new

    counts = plain[0]
    assert counts["rejected"] == {"compliance": 2, "no_substance": 1, "pii_only": 1}
    rejects = read_rejects(tmp_path / "warm" / "rejects.parquet")
    details = dict(zip(rejects["locator"], rejects["detail"], strict=True))
    # The detail quotes each record's own locator, though both share one cache entry.
    assert details["data/raw/other.jsonl:77"].startswith("data/raw/other.jsonl:77: compliance")
    assert details["data/raw/unit.jsonl:6"].startswith("data/raw/unit.jsonl:6: compliance")
    assert len(ChainCache.load(tmp_path, "cache", "clean", CALLS)) == 9  # one entry per content
    # Entries hold what content determines, never who a record is or where it came from.
    stored = str(pq.read_table(shards[0]).to_pylist())
    assert "unit.jsonl" not in stored and "other.jsonl" not in stored
    assert not any(rid in stored for rid in _rows()["id"])


def test_warm_replay_covers_every_row_and_computes_nothing(tmp_path):
    batch = _rows()
    cache = ChainCache.load(tmp_path, "cache", "clean", CALLS)
    fresh: list = []
    cold_kept, cold_rejects = cached_chain(batch, CALLS, "clean", cache, run_ops, fresh)
    plain_kept, plain_rejects = run_ops(batch, CALLS, "clean")
    cache.write_new(fresh)

    def boom(*args, **kwargs):
        raise AssertionError("a warm replay must not run an op")

    warm_cache = ChainCache.load(tmp_path, "cache", "clean", CALLS)
    again: list = []
    warm_kept, warm_rejects = cached_chain(batch, CALLS, "clean", warm_cache, boom, again)
    assert again == []
    for kept in (cold_kept, warm_kept):
        _same_frame(kept, plain_kept)
    for rejects in (cold_rejects, warm_rejects):
        assert len(rejects) == len(plain_rejects)
        for got, want in zip(rejects, plain_rejects, strict=True):
            _same_frame(got, want)
    # what the chain changed is there: normalised, redacted, small talk gone, lineage
    by_line = {
        loc.rsplit(":", 1)[1]: row
        for loc, row in zip(warm_kept["locator"], warm_kept.to_dict("records"), strict=True)
    }
    assert by_line["1"]["messages"][0]["content"] == "我的账单 怎么查？"
    assert "<PHONE>" in by_line["2"]["messages"][0]["content"] and by_line["2"]["pii_types"] == [
        "email",
        "phone",
    ]
    assert by_line["3"]["smalltalk_removed"] == 3
    assert [e["op"] for e in by_line["1"]["ops"]] == ["strip_html", "nfkc", "collapse_whitespace"]


def _same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert sorted(got.columns) == sorted(want.columns)
    got_rows = json.loads(got[sorted(got.columns)].to_json(orient="records", force_ascii=False))
    want_rows = json.loads(want[sorted(want.columns)].to_json(orient="records", force_ascii=False))
    assert got_rows == want_rows


def test_a_first_chunk_rejected_whole_gives_the_same_schema(tmp_path):
    rows = _rows()
    rejects_first = rows.iloc[[3, 4, 5, 0, 1, 2, 6, 7, 8, 9, 10]].reset_index(drop=True)
    src = tmp_path / "in.parquet"
    write_records(src, rejects_first)
    cache = {"stages": ["clean"], "dir": str(tmp_path / "cache")}
    plain = _build(tmp_path, "plain", src, {}, chunk_size=3)
    assert plain[0]["out"] == 7
    assert plain == _build(tmp_path, "cold", src, cache, chunk_size=3)
    assert plain == _build(tmp_path, "warm", src, cache, chunk_size=3)
    # other chunk boundaries: entries computed in one chunk replay in another
    assert _build(tmp_path, "plain5", src, {}, chunk_size=5) == _build(
        tmp_path, "warm5", src, cache, chunk_size=5
    )


def test_dask_replays_a_cache_the_pandas_executor_filled(tmp_path):
    src = tmp_path / "in.parquet"
    write_records(src, _rows())
    cache = {"stages": ["clean"], "dir": str(tmp_path / "cache")}
    dask = {"kind": "dask", "workers": 2, "threads_per_worker": 1, "tasks_per_worker": 1}
    plain = _build(tmp_path, "plain", src, {})
    assert plain == _build(tmp_path, "dask_cold", src, cache, executor=dask)
    first = sorted(p.name for p in (tmp_path / "cache").rglob("*.parquet"))
    assert plain == _build(tmp_path, "dask_warm", src, cache, executor=dask)
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.parquet")) == first
    # the shard is the one a pandas build writes
    other = {"stages": ["clean"], "dir": str(tmp_path / "cache2")}
    _build(tmp_path, "pandas_cold", src, other)
    assert sorted(p.name for p in (tmp_path / "cache2").rglob("*.parquet")) == first


def test_carried_columns_are_part_of_the_key():
    batch = _rows().iloc[:2].reset_index(drop=True)
    plain = chain_keys(batch)
    moved = batch.assign(id=["x", "y"], locator=["a:1", "b:2"], meta=['{"k":1}', None])
    assert chain_keys(moved) == plain  # identity is not content
    assert chain_keys(batch.assign(pii_types=[["phone"], []])) != plain
    earlier = chain_keys(batch.assign(pii_types=[["phone"], []]))
    assert earlier != chain_keys(batch.assign(pii_types=[["email"], []]))


def test_an_unknown_stage_in_cache_stages_is_a_config_error(tmp_path):
    src = tmp_path / "in.parquet"
    write_records(src, _rows().iloc[:1])
    with pytest.raises(ConfigError, match="cache.stages: stage 'claen' cannot be cached"):
        _build(tmp_path, "x", src, {"stages": ["claen"], "dir": str(tmp_path / "c")})


def test_a_code_change_starts_a_fresh_cache(tmp_path, monkeypatch):
    """The key follows the ops' source: an edit to an op module invalidates its entries."""
    module = tmp_path / "ftdata_test_chain_op.py"
    code = """
        from ftdata.registry import text_op

        @text_op("_test_chain_shout")
        def shout(text: str) -> str:
            return text.upper()
    """
    module.write_text(textwrap.dedent(code), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import ftdata_test_chain_op  # noqa: F401  (registers the op)

    calls = op_calls({"ops": ["_test_chain_shout", "collapse_whitespace"]}, "clean")
    before = ChainCache.load(tmp_path, "cache", "clean", calls)
    fresh: list = []
    cached_chain(_rows(), calls, "clean", before, run_ops, fresh)
    before.write_new(fresh)
    assert len(ChainCache.load(tmp_path, "cache", "clean", calls)) == 9

    fn = get_op("_test_chain_shout").fn
    fingerprint = code_fingerprint([fn])
    module.write_text(textwrap.dedent(code).replace(".upper()", ".lower()"), encoding="utf-8")
    assert code_fingerprint([fn]) != fingerprint  # the wrapped function's module counts
    after = ChainCache.load(tmp_path, "cache", "clean", calls)
    assert after.params_hash != before.params_hash and len(after) == 0
    sys.modules.pop("ftdata_test_chain_op", None)


def test_the_fingerprint_covers_op_helpers_and_imported_ftdata_modules():
    from ftdata.cache import _ftdata_imports

    score = get_op("score").fn
    assert {"ftdata.text.lang", "ftdata.text.readability", "ftdata.record"} <= set(
        _ftdata_imports("ftdata.ops.quality")
    ) | set(_ftdata_imports("ftdata.text.readability"))
    assert code_fingerprint([score]) != code_fingerprint([get_op("nfkc").fn])


def test_chain_shards_are_compacted_and_keep_every_entry(tmp_path):
    rows = _rows()
    for part in (rows.iloc[:4], rows.iloc[4:8], rows.iloc[8:]):
        cache = ChainCache.load(tmp_path, "cache", "clean", CALLS, max_shards=2)
        fresh: list = []
        cached_chain(part, CALLS, "clean", cache, run_ops, fresh)
        cache.write_new(fresh)
    loaded = ChainCache.load(tmp_path, "cache", "clean", CALLS)
    assert len(loaded.shard_paths()) <= 2 and len(loaded) == 9
    kept, rejects = cached_chain(rows, CALLS, "clean", loaded, run_ops, [])
    want_kept, want_rejects = run_ops(rows, CALLS, "clean")
    _same_frame(kept, want_kept)
    assert [len(r) for r in rejects] == [len(r) for r in want_rejects]
