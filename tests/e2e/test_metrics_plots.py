"""`dvc metrics show` and `dvc plots show` on the built example, as a user runs them.

Real DVC on the session's built project (tests/conftest.py `built_project`): the
metrics table fits a terminal, every plot is declared once, the funnel is in
pipeline order and the confusion matrices' titles match their axes.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ftdata.stage import STAGES
from tests.conftest import run

pytestmark = pytest.mark.e2e

TERMINAL = 200  # characters: the widest line `dvc metrics show` may print for the example


def _encodings(spec, found=None) -> dict:
    """``{"x": field, "y": field}`` of a (possibly faceted) Vega-Lite spec, data left out."""
    found = {} if found is None else found
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("x", "y") and isinstance(value, dict) and "field" in value:
                found[key] = value["field"]
            elif key != "data":
                _encodings(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _encodings(value, found)
    return found


def test_dvc_metrics_show_fits_a_terminal_and_lists_headline_figures_only(built_project):
    shown = run(["dvc", "metrics", "show"], built_project).stdout
    widest = max(len(line) for line in shown.splitlines())
    assert widest < TERMINAL, f"`dvc metrics show` is {widest} characters wide:\n{shown[:2000]}"

    metrics = json.loads(run(["dvc", "metrics", "show", "--json"], built_project).stdout)
    files = {
        path: figures
        for rev in metrics.values()
        for path, figures in (rev.get("data") or {}).items()
    }
    assert files and all(p.startswith("data/metrics/headline/") for p in files), sorted(files)
    stages = {p.rsplit("/", 1)[-1].removesuffix(".json") for p in files}
    assert set(STAGES) - {"ingest"} | {"evaluate", "summary"} <= stages
    for path, figures in files.items():
        data = figures["data"]
        assert len(data) <= 10 and all(isinstance(v, int | float) for v in data.values()), (
            f"{path}: {data}"
        )

    # The detail is still written, beside the headline, for the report, the card and releases.
    detail = json.loads((built_project / "data/metrics/annotate.json").read_text("utf-8"))
    assert detail["by_annotator"] and detail["gates"]
    summary = json.loads((built_project / "data/metrics/summary.json").read_text("utf-8"))
    head = files["data/metrics/headline/summary.json"]["data"]
    assert head["kept"] == summary["kept_originals"]
    assert head["kept"] + head["augmented"] + head["resampled"] == head["out"]
    assert head["kept"] <= head["in"] == summary["raw_records"]


def test_dvc_plots_are_declared_once_with_the_funnel_in_stage_order_and_gold_rows(
    built_project,
):
    declared = [
        next(iter(p)) for p in yaml.safe_load((built_project / "dvc.yaml").read_text())["plots"]
    ]
    plots = json.loads(run(["dvc", "plots", "show", "--json"], built_project).stdout)["data"]
    assert sorted(plots) == sorted(declared), "a plot is shown twice or not at all"

    funnel = plots["funnel"][0]["content"]
    assert _encodings(funnel)["y"] == "step"
    rows = funnel["data"]["values"]
    # a nominal axis sorts its labels: sorting them must give the pipeline's order
    assert [r["stage"] for r in sorted(rows, key=lambda r: r["step"])] == list(STAGES)

    for name in ("confusion", "confusion_level1"):
        spec = plots[name][0]["content"]
        assert "rows gold, columns predicted" in spec["title"]["text"]
        assert _encodings(spec) == {"x": "predicted", "y": "actual"}

    lengths = plots["lengths"][0]["content"]["data"]["values"]
    assert [r["lower"] for r in sorted(lengths, key=lambda r: r["step"])] == sorted(
        r["lower"] for r in lengths
    )
