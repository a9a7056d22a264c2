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
from ftdata.ops.dedup import dedup_parquet
from ftdata.runner import op_calls, run_row_stage
from tests.helpers import chat, frame, stage_run

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


def test_dedup_stage_bytes_match_between_pandas_and_dask(tmp_path, dask_executor, monkeypatch):
    import ftdata.ops.dedup as dedup_mod

    monkeypatch.setattr(dedup_mod, "VERIFY_PAIRS", 7)  # many verification tasks
    src = tmp_path / "in.parquet"
    write_records(src, frame(*_dialogues(120)))
    outputs = {}
    for kind, executor in (("pandas", make_executor({"kind": "pandas"})), ("dask", dask_executor)):
        out = tmp_path / kind
        with stage_run(out) as run:
            dedup_parquet(src, out / "o.parquet", run, {}, executor, 16)
        outputs[kind] = (
            (out / "o.parquet").read_bytes(),
            (out / "r.parquet").read_bytes(),
            run.counts.as_dict(),
        )
    assert outputs["pandas"] == outputs["dask"]
    assert outputs["pandas"][2]["rejected_total"] > 0
