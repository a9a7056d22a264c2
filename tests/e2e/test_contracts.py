"""A broken dataset contract stops `dvc repro` with the bound and the figure, figures kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import copy_built, run

pytestmark = pytest.mark.e2e


def test_the_example_meets_its_contracts(built_project):
    metrics = json.loads((built_project / "data/metrics/contracts.json").read_text("utf-8"))
    assert metrics["checked"] >= 10 and metrics["broken"] == 0
    assert "## Contracts" in (built_project / "data/processed/README.md").read_text("utf-8")


def test_a_broken_contract_fails_the_build_naming_bound_and_figure(built_project, tmp_path):
    project = copy_built(built_project, tmp_path / "project")
    conf = project / "conf/contracts/default.yaml"
    conf.write_text(
        conf.read_text("utf-8").replace("max_derived_share: 0.45", "max_derived_share: 0.1"),
        encoding="utf-8",
    )
    run(["ftdata", "compose"], project)
    proc = run(["dvc", "repro"], project, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in output
    assert "ftdata report: error: 1 contract(s) broken: derived_share = 0.3" in output
    assert "bound <= 0.1 (contracts.max_derived_share)" in output
    ran = [line for line in proc.stdout.splitlines() if line.startswith("Running stage")]
    assert ran == ["Running stage 'report':"]  # only the stage that checks the contracts
    metrics = json.loads(Path(project / "data/metrics/contracts.json").read_text("utf-8"))
    assert metrics["broken"] == 1  # written before the build stopped
    card = (project / "data/processed/README.md").read_text("utf-8")
    assert "| derived_share |" in card and "**broken**" in card


def test_drift_bounds_compare_with_the_named_release_and_rerun_only_the_report(
    built_project, tmp_path
):
    project = copy_built(built_project, tmp_path / "drift")
    run(["git", "tag", "data_v1.0"], project)
    conf = project / "conf/contracts/default.yaml"
    text = conf.read_text("utf-8")
    conf.write_text(text.replace("baseline: null", "baseline: data_v1.0"), encoding="utf-8")
    run(["ftdata", "compose"], project)
    proc = run(["dvc", "repro"], project)
    ran = [line for line in proc.stdout.splitlines() if line.startswith("Running stage")]
    assert ran == ["Running stage 'report':"]
    gates = json.loads((project / "data/metrics/contracts.json").read_text("utf-8"))["gates"]
    drift = [g for g in gates if g["since"] == "data_v1.0"]
    assert {g["name"] for g in drift} >= {
        "label_share_change[账户问题]",
        "source_loss[chat_logs]",
        "guideline_noted[guidelines/bank_card.md]",
    }
    assert all(g["passed"] for g in drift)  # the same build: nothing moved
    assert all(g["figure"] == 0 for g in drift if not g["name"].startswith("guideline_"))
    # The trend: the tag's point (a tag made by hand: from its metrics), then this build.
    page = (project / "data/processed/report/index.html").read_text("utf-8")
    trend = page[page.index('<section id="trend">') :]
    trend = trend[: trend.index("</section>")]
    assert "<th class=n>data_v1.0</th><th class=n>this build</th>" in trend
    annotators = json.loads((project / "data/metrics/annotate.json").read_text("utf-8"))
    for name, figures in annotators["by_annotator"].items():
        same = f"{figures['agreement_with_consensus']:.3g}"
        assert (
            f"<td>{name}</td><td>agreement</td><td class=n>{same}</td><td class=n>{same}</td>"
            in trend
        )
    assert "## Across releases" in (project / "data/processed/README.md").read_text("utf-8")

    conf.write_text(text.replace("baseline: null", "baseline: data_v9.9"), encoding="utf-8")
    run(["ftdata", "compose"], project)
    failed = run(["dvc", "repro"], project, check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "Traceback" not in output
    assert "contracts.drift.baseline: cannot read release 'data_v9.9'" in output
