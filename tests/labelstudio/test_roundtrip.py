"""The real Label Studio round trip: our config and tasks in, two annotators, export, our annotate stage.

Needs Label Studio in its own virtualenv (its pins clash with ours): `make
test-labelstudio` creates .venv-labelstudio and runs this file with
FTDATA_LABELSTUDIO_VENV set; plain `make test` skips it. The server listens on
127.0.0.1 only (``--internal-host``: Label Studio reads ``--host`` as its public
URL and, without ``http://``, ignores it and listens on 0.0.0.0), which the
fixture checks on the server's real sockets; a temporary data directory,
version check and analytics off.
Nothing is mocked: users sign up through the organisation's invite link and
annotate with their own API tokens through label-studio-sdk.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.cli.annotate import write_export
from ftdata.compose import dump_params
from ftdata.io import write_records
from tests.helpers import chat, frame
from tests.labelstudio.listeners import beyond_loopback, listening_addresses
from tests.miniproject import make_project, metrics, run_stage

pytestmark = pytest.mark.labelstudio
VENV = os.environ.get("FTDATA_LABELSTUDIO_VENV")
if not VENV:
    pytest.skip("Label Studio round trip: run `make test-labelstudio`", allow_module_level=True)

HERE = Path(__file__).resolve().parent
ADMIN, PASSWORD, TOKEN = (
    "admin@ftdata.invalid",
    "ftdata-admin-pass",
    "f7d4a0c1e2b3a4c5d6e7f8091a2b3c4d5e6f7081",
)
BILL, FEE, POINTS, LOSS = (
    "账户问题>账单>账单查询",
    "产品问题>年费>年费政策",
    "产品问题>积分规则>兑换流程",
    "账户问题>卡片>挂失补卡",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ls-data")
    port = _free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
    }
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen(
        [
            f"{VENV}/bin/label-studio",
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(port),
            "--username",
            ADMIN,
            "--password",
            PASSWORD,
            "--user-token",
            TOKEN,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Label Studio did not come up: see {data_dir / 'server.log'}")
        time.sleep(2)
    listeners = listening_addresses(proc.pid)
    assert ("127.0.0.1", port, "tcp") in listeners, listeners
    assert beyond_loopback(listeners) == [], f"Label Studio listens beyond loopback: {listeners}"
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_label_studio_round_trip_with_two_annotators(server, tmp_path, monkeypatch):
    truths = [BILL, FEE, POINTS, LOSS] * 3
    records = frame(
        *[
            chat(
                ("user", f"第{i}个问题：{t.split('>')[-1]}怎么办"),
                ("assistant", "您好，请参考。"),
                line=i,
                label=t,
            )
            for i, t in enumerate(truths)
        ]
    )
    project = make_project(tmp_path / "project", {}, {})
    write_records(project / "data/interim/quality.parquet", records)
    exported = write_export(
        "label-studio",
        tmp_path / "tasks",
        project,
        project / "data/interim/quality.parquet",
        None,
        None,
        True,
    )
    assert exported["tasks"] == 12
    ids = list(records["id"])
    plan = {
        "label_config": (tmp_path / "tasks/label_config.xml").read_text(encoding="utf-8"),
        "tasks": json.loads((tmp_path / "tasks/tasks.json").read_text(encoding="utf-8")),
        "annotators": {
            "ann_a@ftdata.invalid": dict(zip(ids, truths, strict=True)),
            # b agrees on 10, disagrees on one, skips one
            "ann_b@ftdata.invalid": {
                **dict(zip(ids, truths, strict=True)),
                ids[1]: BILL,
                ids[2]: None,
            },
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    export = project / "data/raw/annotations/ls_roundtrip.json"
    export.parent.mkdir(parents=True)
    proc = subprocess.run(
        [
            f"{VENV}/bin/python",
            str(HERE / "ls_client.py"),
            server,
            ADMIN,
            PASSWORD,
            TOKEN,
            str(tmp_path / "plan.json"),
            str(export),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    users = json.loads(proc.stdout.strip().splitlines()[-1])["users"]

    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    params["annotate"]["inputs"] = [
        {
            "path": "data/raw/annotations/ls_roundtrip.json",
            "tool": "label-studio",
            "batch": "ls_roundtrip",
            "annotators": {
                str(users["ann_a@ftdata.invalid"]): "ann_a",
                str(users["ann_b@ftdata.invalid"]): "ann_b",
            },
        }
    ]
    (project / "params.yaml").write_text(dump_params(params), encoding="utf-8")
    assert run_stage(project, monkeypatch, "annotate") == 0

    m = metrics(project, "annotate")
    assert m["in"] == m["out"] == 12
    assert m["annotations"]["read"] == 24 and m["annotations"]["accepted"] == 23
    assert m["annotations"]["rejected"] == {"annotation_cancelled": 1}
    batch = m["by_batch"]["ls_roundtrip"]
    assert batch["items_multi"] == 11 and batch["percent_agreement"] == round(10 / 11, 4)
    assert batch["cohen_kappa"]["ann_a|ann_b"]["items"] == 11
    assert batch["krippendorff_alpha"] is not None
    kept = pq.read_table(project / "data/interim/annotate.parquet").to_pylist()
    by_id = {r["id"]: r for r in kept}
    assert {a["annotator"] for a in by_id[ids[0]]["annotations"]} == {"ann_a", "ann_b"}
    assert by_id[ids[0]]["label_origin"] == "consensus" and by_id[ids[0]]["label"] == BILL
    queue = [
        json.loads(x)
        for x in (project / "data/processed/review/annotation_conflicts.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert {e["id"] for e in queue} == {
        ids[1],
        ids[2],
    }  # a 1-1 split, and a single vote after b skipped
