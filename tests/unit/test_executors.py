"""Executors: ordered results, bounded read-ahead, and the same bytes on pandas and dask.

The dask cases start a real ``distributed.LocalCluster`` on 127.0.0.1 (the
executor's own, from params), so they take a few seconds each; one module-level
cluster is shared where the test is about results rather than startup.
"""

from __future__ import annotations

import random

import pytest

from ftdata.errors import ConfigError
from ftdata.executors import make_executor
from ftdata.io import write_records
from ftdata.ops.dedup import _verified_pairs, dedup, normalise_for_dedup
from ftdata.ops.dedup_dask import (
    band_candidates,
    band_slices,
    distributed_dedup,
    distributed_pairs,
    lsh_bands,
)
from ftdata.runner import op_calls, run_row_stage
from tests.helpers import chat, frame

DASK = {"kind": "dask", "workers": 2, "threads_per_worker": 1, "tasks_per_worker": 1}


def _square(x: int) -> int:
    return x * x


def _dialogues(n: int) -> list[dict]:
    rng = random.Random(5)
    topics = [
        "账单什么时候出",
        "积分怎么兑换里程",
        "信用卡额度如何提升",
        "How do I raise my credit limit",
        "annual fee waiver rules",
    ]
    rows = []
    for i in range(n):
        topic = topics[i % len(topics)]
        noise = "".join(rng.choice("的了吗呢啊") for _ in range(rng.randrange(3)))
        question = f"{topic}{noise}？ 我的卡号尾号{i % 7}" if i % 3 else f"  <b>{topic}</b>  "
        rows.append(
            chat(
                ("user", question),
                ("assistant", f"您好，关于{topic}：请在APP查看第{i % 11}项。"),
                line=i,
            )
        )
    return rows


@pytest.fixture(scope="module")
def dask_executor():
    with make_executor(DASK) as executor:
        yield executor


def test_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="executor.kind: unknown executor 'spark'"):
        make_executor({"kind": "spark"})


def test_pandas_executor_is_lazy_so_memory_stays_one_chunk():
    pulled = []

    def items():
        for i in range(5):
            pulled.append(i)
            yield i

    results = make_executor({"kind": "pandas"}).map_ordered(_square, items())
    assert next(results) == 0 and pulled == [0]  # nothing read ahead


def test_dask_executor_returns_results_in_input_order_with_bounded_read_ahead(dask_executor):
    pulled = []

    def items():
        for i in range(40):
            pulled.append(i)
            yield i

    results = dask_executor.map_ordered(_square, items())
    assert next(results) == 0
    assert len(pulled) <= dask_executor.window + 1
    assert [0, *results] == [i * i for i in range(40)]


def test_dask_executor_refuses_an_unreachable_address():
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConfigError, match="executor.address: cannot reach tcp://127.0.0.1:9"),
    ):
        make_executor({"kind": "dask", "address": "tcp://127.0.0.1:9"})


def test_clean_stage_bytes_match_between_pandas_and_a_fresh_local_cluster(tmp_path):
    src = tmp_path / "in.parquet"
    write_records(src, frame(*_dialogues(300)))
    calls = op_calls(
        {
            "ops": ["strip_html", "nfkc", "collapse_whitespace", "redact_pii"],
            "nfkc": {},
            "collapse_whitespace": {},
            "redact_pii": {},
        },
        "clean",
    )
    outputs = {}
    for kind, settings in (("pandas", {"kind": "pandas"}), ("dask", DASK)):
        out = tmp_path / kind
        counts = run_row_stage(
            "clean",
            [src, src],
            out / "o.parquet",
            out / "r.parquet",
            out / "m.json",
            calls,
            64,
            executor=settings,
            cache={},
        )
        outputs[kind] = (
            (out / "o.parquet").read_bytes(),
            (out / "r.parquet").read_bytes(),
            counts.as_dict(),
        )
    assert outputs["pandas"] == outputs["dask"]
    assert outputs["pandas"][2]["in"] == 600


def _near_texts(n: int) -> list[str]:
    rng = random.Random(11)
    bases = [
        f"请问我的信用卡第{k}期账单为什么多收了{k * 13}元年费，能否帮我申请减免并说明原因"
        if k % 2
        else f"my card statement number {k} shows an annual fee of {k * 7} dollars please waive it and explain why"
        for k in range(n // 6)
    ]
    texts = []
    for i in range(n):
        t = rng.choice(bases)
        if rng.random() < 0.5:
            pos = rng.randrange(len(t))
            t = t[:pos] + rng.choice("的了吗xyz") + t[pos + 1 :]
        texts.append(normalise_for_dedup(t) if i % 50 else "")
    return texts


def test_banded_groupby_finds_exactly_the_lsh_candidates_verified(dask_executor):
    import ftdata.ops.dedup_dask as dd

    texts = _near_texts(240)
    expected = _verified_pairs(texts, 5, 0.8, 128, 1)
    assert len(expected) > 50
    saved = dd.PARTITION_ROWS, dd.VERIFY_PAIRS
    dd.PARTITION_ROWS, dd.VERIFY_PAIRS = 97, 200  # many partitions and verify tasks
    try:
        on_pandas = distributed_pairs(make_executor({"kind": "pandas"}), texts, 5, 0.8, 128, 1)
        on_dask = distributed_pairs(dask_executor, texts, 5, 0.8, 128, 1)
    finally:
        dd.PARTITION_ROWS, dd.VERIFY_PAIRS = saved
    assert on_pandas == expected
    assert on_dask == expected


def test_band_candidates_pairs_every_member_of_a_bucket():
    bands, rows = lsh_bands(0.8, 128)
    parts = [band_slices((0, ["abcdefgh", "abcdefgh"]), 5, 128, 1, bands, rows)]
    parts.append(band_slices((2, ["abcdefgh", "zzzzzzzzz", ""]), 5, 128, 1, bands, rows))
    pairs = band_candidates(*(p[0] for p in parts)).tolist()
    assert pairs == [[0, 1], [0, 2], [1, 2]]  # the empty text (index 4) never takes part


def test_distributed_dedup_rejects_and_details_equal_the_op(dask_executor):
    records = frame(*_dialogues(120))
    expected = dedup(records)
    got = distributed_dedup(dask_executor)(records)
    assert len(expected.rejected) > 0
    assert got.kept.equals(expected.kept)
    assert got.rejected.equals(expected.rejected)
