"""A tiny ftdata project in a temp dir whose stages run in process (no DVC, no subprocess).

The params are this repository's conf/ composed as it is, with ``source`` replaced
by the sources a test declares, so a stage sees exactly the sections a real build
gives it. Stages are called through their ``stage_main`` entry point, so exit
codes and the one-line error messages are the ones a user sees.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.compose import compose_params, dump_params

ROOT = Path(__file__).resolve().parents[1]
BLANK = yaml.safe_load((ROOT / "ftdata/templates/blank/overrides.yaml").read_text(encoding="utf-8"))


def row_stages() -> list[str]:
    """The stages after ingest, in dvc.yaml's order (the order they run in)."""
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    return [name for name in dvc["stages"] if name != "ingest"]


@functools.cache
def _base_params() -> dict:
    return compose_params(ROOT)


def source_cfg(path: str, fmt: str = "jsonl", **extra) -> dict:
    """A source section as conf/source/*.yaml would give it (Q/A fields unless overridden)."""
    cfg = {
        "path": path,
        "format": fmt,
        "kind": "logs",
        "license": "internal-use-only",
        "owner": "cs-platform-team",
        "collected_at": "2024-07-01",
        "fields": {"question": "question", "answer": "answer"},
    }
    cfg.update(extra)
    return cfg


def make_project(
    dest: Path, sources: dict[str, dict], files: dict[str, bytes | str], **sections: dict
) -> Path:
    """Write raw ``files``, schemas/ and a params.yaml with ``sources`` (and section overrides)."""
    params = copy.deepcopy(_base_params())
    params["source"] = sources
    # No annotation exports unless a test brings its own (the guideline is copied below).
    params["annotate"] = {
        **params["annotate"],
        "inputs": [],
        "gold": [],
        "adjudication": [],
        "spot_check_verdicts": [],
    }
    # A project of a few lines promises what a new one does (the blank template's contracts:
    # no residual PII), not the example's record counts and shares, and names no benchmark.
    for name in ("contracts", "decontaminate", "label_issues"):
        params[name] = {**params[name], **BLANK[name]}
    for name, values in sections.items():
        params[name] = {**params[name], **values}
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "schemas", dest / "schemas", dirs_exist_ok=True)
    shutil.copytree(ROOT / "guidelines", dest / "guidelines", dirs_exist_ok=True)
    for rel, data in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    (dest / "params.yaml").write_text(dump_params(params), encoding="utf-8")
    return dest


def run_stage(project: Path, monkeypatch: pytest.MonkeyPatch, stage: str, *args: str) -> int:
    """Run ``stages.<stage>.main(*args)`` in ``project``; the exit status a shell would see."""
    monkeypatch.setenv("FTDATA_ROOT", str(project))
    monkeypatch.chdir(project)
    main = importlib.import_module(f"stages.{stage}").main
    try:
        main(*args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def build(project: Path, monkeypatch: pytest.MonkeyPatch, until: str = "report") -> dict[str, int]:
    """Ingest every source, then the row stages up to ``until``; exit status per stage."""
    params_text = (project / "params.yaml").read_text(encoding="utf-8")
    statuses = {}
    for name in yaml.safe_load(params_text)["source"]:
        statuses[f"ingest@{name}"] = run_stage(project, monkeypatch, "ingest", name)
    for stage in row_stages():
        statuses[stage] = run_stage(project, monkeypatch, stage)
        if statuses[stage] or stage == until:
            break
    return statuses


def rejects(project: Path, stage: str, source: str | None = None) -> list[dict]:
    rel = (
        f"data/interim/rejects/{stage}/{source}.parquet"
        if source
        else f"data/interim/rejects/{stage}.parquet"
    )
    return pq.read_table(project / rel).to_pylist()


def metrics(project: Path, stage: str, source: str | None = None) -> dict:
    rel = f"data/metrics/{stage}/{source}.json" if source else f"data/metrics/{stage}.json"
    return json.loads((project / rel).read_text(encoding="utf-8"))


def balanced(m: dict) -> bool:
    return m["in"] + m["added"] == m["out"] + sum(m["rejected"].values())
