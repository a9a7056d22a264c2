"""End to end: a real `dvc repro` of the example dataset in a temporary git repository."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.schemas import errors_of
from tests.conftest import build, copy_project, run

pytestmark = pytest.mark.e2e

SPLITS = ("train", "val", "test")


def _ran_stages(output: str) -> set[str]:
    return {m.split("@")[0] for m in re.findall(r"Running stage '([^']+)'", output)}


def test_build_writes_every_export_format_and_each_row_validates(built_project):
    openai_dir = built_project / "data/processed/openai"
    total = 0
    for split in SPLITS:
        lines = (openai_dir / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        assert lines, f"{split}.jsonl is empty"
        for line in lines:
            row = json.loads(line)
            assert list(row) == ["messages"]
            assert errors_of(row, "openai_chat.schema.json") == []
        total += len(lines)
    factory = built_project / "data/processed/llamafactory"
    info = json.loads((factory / "dataset_info.json").read_text(encoding="utf-8"))
    for entry in info.values():
        rows = json.loads((factory / entry["file_name"]).read_text(encoding="utf-8"))
        schema = "alpaca.schema.json" if entry["formatting"] == "alpaca" else "sharegpt.schema.json"
        assert errors_of(rows, schema) == []
    records = pq.read_table(built_project / "data/processed/records.parquet")
    assert records.num_rows == total
    assert {"id", "source", "locator", "messages", "split", "ops", "lang"} <= set(
        records.column_names
    )


def test_second_repro_is_a_no_op_and_status_is_clean(built_project):
    again = run(["dvc", "repro"], built_project)
    assert _ran_stages(again.stdout) == set()
    status = run(["dvc", "status"], built_project)
    assert "up to date" in status.stdout


def test_exp_run_with_a_quality_param_reruns_only_quality_and_downstream(built_project):
    before = json.loads((built_project / "data/metrics/quality.json").read_text())
    exp = run(["dvc", "exp", "run", "-S", "quality.min_chars=40"], built_project)
    downstream = {
        "quality",
        "annotate",
        "augment",
        "balance",
        "split",
        "validate",
        "export",
        "evaluate",
        "label_issues",
        "preference",
        "report",
    }
    assert _ran_stages(exp.stdout) == downstream
    params = yaml.safe_load((built_project / "params.yaml").read_text())
    assert params["quality"]["min_chars"] == 40
    after = json.loads((built_project / "data/metrics/quality.json").read_text())
    assert after["rejected"].get("too_short", 0) > before["rejected"].get("too_short", 0)
    assert after["out"] < before["out"]
    # Back to the committed build: git restores params and lock, DVC's cache the outputs.
    run(["git", "checkout", "--", "."], built_project)
    run(["dvc", "checkout", "--force"], built_project)
    assert _ran_stages(run(["dvc", "repro"], built_project).stdout) == set()


def test_two_clean_builds_are_byte_identical(built_project, tmp_path):
    other = copy_project(tmp_path / "again")
    build(other)
    lock_a = yaml.safe_load(run(["git", "show", "HEAD:dvc.lock"], built_project).stdout)
    lock_b = yaml.safe_load((other / "dvc.lock").read_text())

    def outs(lock):
        return {o["path"]: o["md5"] for st in lock["stages"].values() for o in st.get("outs", [])}

    assert outs(lock_a) and outs(lock_a) == outs(lock_b)
