"""Every stage's metrics file is `persist: true` in dvc.yaml, so a failed stage keeps its last
metrics (DVC deletes a stage's other outs before running it; tests/e2e/test_experiments.py
runs that failure for real)."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT


def _metrics_entries() -> list[tuple[str, str, dict]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    entries = []
    for name, stage in stages.items():
        body = stage.get("do", stage)  # foreach stages keep their body under `do`
        for item in body.get("metrics") or []:
            path, opts = next(iter(item.items())) if isinstance(item, dict) else (item, {})
            entries.append((name, path, opts or {}))
    return entries


def test_every_stage_metrics_file_is_persisted_and_git_tracked():
    entries = _metrics_entries()
    assert {name for name, _, _ in entries} >= {"ingest", "clean", "quality", "export", "report"}
    not_persisted = [f"{name}: {path}" for name, path, opts in entries if not opts.get("persist")]
    assert not_persisted == []
    # cache: false keeps them in git, which is what `git checkout -- data/metrics` restores.
    assert [path for _, path, opts in entries if opts.get("cache", True)] == []
