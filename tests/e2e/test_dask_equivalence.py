"""The example built under the pandas and the dask executor gives the same bytes.

The dask build runs on a real ``distributed.LocalCluster`` on 127.0.0.1 that
this test starts, reached through ``executor.address`` (one cluster for every
stage instead of one per stage process, and the pandas build shared with the
other e2e tests, keep the test inside the CI budget;
``tests/unit/test_executors.py`` covers the executor starting its own
LocalCluster).
"""

from __future__ import annotations

import logging

import pytest
import yaml

from tests.conftest import copy_project, run

pytestmark = pytest.mark.e2e


def _lock_outs(lock: dict) -> dict[str, str]:
    return {o["path"]: o["md5"] for st in lock["stages"].values() for o in st.get("outs", [])}


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback, any free port (None still binds :8787)
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_and_pandas_builds_have_identical_outputs(built_project, tmp_path, dask_cluster):
    """Every out's hash in dvc.lock (data, rejects, metrics, plots, the score cache) is equal.

    The pandas build is the session's ``built_project`` (its committed dvc.lock, so
    other tests' experiments on it do not matter); only the dask build runs here.
    """
    address = dask_cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    on_pandas = _lock_outs(
        yaml.safe_load(run(["git", "show", "HEAD:dvc.lock"], built_project).stdout)
    )
    on_dask = copy_project(tmp_path / "dask")
    run(["ftdata", "compose", "executor=dask", f"executor.address={address}"], on_dask)
    params = yaml.safe_load((on_dask / "params.yaml").read_text())
    assert params["executor"]["kind"] == "dask" and params["executor"]["address"] == address

    built = run(["dvc", "repro"], on_dask)
    assert "dask executor" in built.stderr  # the row stages really ran on the cluster

    assert len(on_pandas) > 20 and any(p.startswith("data/cache/") for p in on_pandas)
    assert _lock_outs(yaml.safe_load((on_dask / "dvc.lock").read_text())) == on_pandas
    assert any((on_dask / "data/cache/score").rglob("*.parquet"))  # the score cache was filled
