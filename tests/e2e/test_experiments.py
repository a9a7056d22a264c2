"""The README's experiment loop, run as written on a copy of the built example: real
`dvc exp run` (DVC's Hydra composition of conf/), `dvc exp show / diff / apply / remove`,
git and `ftdata compose`. Every path ends where it started: a clean `git status`, a passing
`ftdata compose --check` and an up-to-date `dvc status`.

The commands are taken from the README's "Experiments" section, so a test failure means
the README tells a user something that is not true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, copy_built, run

pytestmark = pytest.mark.e2e

QUALITY_METRICS = "data/metrics/quality.json"
QUALITY_CONF = "conf/quality/default.yaml"
KEPT = 24  # a min_chars that rejects records the default (8) keeps, so metrics change
UP_TO_DATE = "Data and pipelines are up to date."


def readme_experiments() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Experiments\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert match, "README.md has no '## Experiments' section"
    return match.group(1)


def documented(command: str) -> list[str]:
    """``command`` split into argv, after checking the README's experiment section shows it."""
    assert command in readme_experiments(), f"README's Experiments section lacks `{command}`"
    return command.split()


def assert_as_committed(project: Path) -> None:
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    run(["ftdata", "compose", "--check"], project)
    assert UP_TO_DATE in run(["dvc", "status"], project).stdout


@pytest.fixture(scope="module")
def project(built_project, tmp_path_factory) -> Path:
    """A private copy of the session's build (these tests commit and run experiments in it)."""
    dest = tmp_path_factory.mktemp("experiments") / "project"
    copy_built(built_project, dest)
    if UP_TO_DATE not in run(["dvc", "status"], dest).stdout:
        run(["dvc", "repro"], dest)
        run(["git", "add", "-A"], dest)
        run(["git", "commit", "-q", "-m", "rebuild"], dest)
    assert_as_committed(dest)
    return dest


def test_failed_stage_keeps_its_metrics_and_the_documented_reset_restores_the_tree(project):
    before = (project / QUALITY_METRICS).read_bytes()
    bad = run(["dvc", "exp", "run", "-S", "quality.min_chars=bad"], project, check=False)
    assert "bad value for `quality.min_chars`" in bad.stdout + bad.stderr
    assert "failed to reproduce 'quality'" in bad.stdout + bad.stderr
    # DVC deleted the stage's other outs before running it; the metrics are persist: true.
    assert not (project / "data/interim/quality.parquet").exists()
    assert (project / QUALITY_METRICS).read_bytes() == before

    # A fixed value reruns the stage, which rewrites its metrics.
    run(["dvc", "exp", "run", "-S", f"quality.min_chars={KEPT}"], project)
    after = json.loads((project / QUALITY_METRICS).read_text(encoding="utf-8"))
    assert after != json.loads(before)
    assert after["rejected"].get("too_short", 0) > json.loads(before)["rejected"].get(
        "too_short", 0
    )
    # A workspace run leaves its results in the workspace ...
    assert "params.yaml" in run(["git", "status", "--porcelain"], project).stdout
    assert run(["ftdata", "compose", "--check"], project, check=False).returncode == 1

    # ... and the README's two commands bring back the committed state.
    run(documented("git checkout -- params.yaml dvc.lock data/metrics"), project)
    run(documented("dvc checkout"), project)
    assert (project / QUALITY_METRICS).read_bytes() == before
    assert_as_committed(project)
    run(["dvc", "exp", "remove", "-A"], project)


def test_readme_experiment_loop_leaves_a_clean_tree(project):
    before = (project / QUALITY_METRICS).read_bytes()
    # Variants run in a temporary copy: the workspace is untouched, even by a failure.
    run(documented(f"dvc exp run --temp -n min{KEPT} -S quality.min_chars={KEPT}"), project)
    failed = run(
        ["dvc", "exp", "run", "--temp", "-n", "broken", "-S", "quality.min_chars=bad"],
        project,
        check=False,
    )
    assert "failed to reproduce 'quality'" in failed.stdout + failed.stderr
    assert (project / QUALITY_METRICS).read_bytes() == before
    assert_as_committed(project)

    # Compare: the table and the diff show the param and the quality metrics it moved.
    assert f"min{KEPT}" in run(documented("dvc exp show --only-changed"), project).stdout
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    exps = [
        exp
        for baseline in shown
        for branch in baseline.get("experiments") or []
        for exp in branch.get("revs") or []
        if exp.get("name") == f"min{KEPT}"
    ]
    assert exps and exps[0]["data"]["params"]["params.yaml"]["data"]["quality"]["min_chars"] == KEPT
    diff = run(documented(f"dvc exp diff main min{KEPT}"), project).stdout
    # dvc exp diff compares the declared (headline) metrics
    assert "quality.min_chars" in diff and "data/metrics/headline/quality.json" in diff

    # Keep it: apply, carry the value into conf/, recompose, commit.
    run(documented(f"dvc exp apply min{KEPT}"), project)
    assert run(["ftdata", "compose", "--check"], project, check=False).returncode == 1
    conf = project / QUALITY_CONF
    assert f"`min_chars: {KEPT}` in {QUALITY_CONF}" in readme_experiments()
    text = conf.read_text(encoding="utf-8")
    assert re.search(r"^min_chars: 8$", text, flags=re.M)
    conf.write_text(re.sub(r"^min_chars: 8$", f"min_chars: {KEPT}", text, flags=re.M), "utf-8")
    run(documented("ftdata compose"), project)
    assert yaml.safe_load((project / "params.yaml").read_text())["quality"]["min_chars"] == KEPT
    # The recomposed params.yaml has the applied experiment's values: nothing to rerun.
    assert UP_TO_DATE in run(documented("dvc status"), project).stdout
    run(documented("git add conf params.yaml dvc.lock data/metrics"), project)
    run(["git", "commit", "-q", "-m", f"quality.min_chars: 8 -> {KEPT}"], project)
    assert_as_committed(project)
    assert (project / QUALITY_METRICS).read_bytes() != before

    # Discard the rest.
    run(documented("dvc exp remove -A"), project)
    assert run(["dvc", "exp", "list"], project).stdout.strip() == ""
    assert_as_committed(project)
