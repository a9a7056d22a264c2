"""The stage shell (ftdata/stage_run.py): temps, counts, redacted rejects, metrics, once."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ftdata.io import read_rejects
from ftdata.stage_run import StageRun
from tests.helpers import chat, frame


def _run(tmp_path) -> StageRun:
    return StageRun(
        "split",
        tmp_path / "out.parquet",
        rejects=tmp_path / "rej.parquet",
        metrics=tmp_path / "m.json",
    )


def _rejected(n: int) -> pd.DataFrame:
    rows = frame(
        *[chat(("user", f"请回电 13812345678 第{i}次"), ("assistant", "好")) for i in range(n)]
    )
    return rows.assign(reason="split_leak", detail="call 13812345678")


def test_a_clean_exit_writes_redacted_rejects_then_balanced_metrics(tmp_path):
    stale = tmp_path / ".out.parquet.1234.tmp"
    stale.write_text("half a file a killed run left")
    with _run(tmp_path) as run:
        assert not stale.exists()  # removed on entry
        run.counts.n_in, run.counts.out = 5, 3
        run.reject(_rejected(2))
        run.reject(_rejected(0))  # nothing to count
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert (metrics["in"], metrics["out"], metrics["rejected"]) == (5, 3, {"split_leak": 2})
    rejects = read_rejects(tmp_path / "rej.parquet")
    assert len(rejects) == 2 and set(rejects["stage"]) == {"split"}
    assert not rejects["record"].str.contains("13812345678").any()
    assert not rejects["detail"].str.contains("13812345678").any()


def test_an_error_writes_neither_rejects_nor_metrics_so_the_last_good_ones_stay(tmp_path):
    (tmp_path / "m.json").write_text('{"last": "good"}')
    with pytest.raises(RuntimeError), _run(tmp_path) as run:
        run.reject(_rejected(1))
        raise RuntimeError("the stage failed half way")
    assert (tmp_path / "m.json").read_text() == '{"last": "good"}'
    assert not (tmp_path / "rej.parquet").exists()


def test_a_lost_record_refuses_the_metrics(tmp_path):
    with pytest.raises(AssertionError, match="records lost"), _run(tmp_path) as run:
        run.counts.n_in, run.counts.out = 4, 3
    assert not (tmp_path / "m.json").exists()
