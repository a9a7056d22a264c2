"""`ftdata annotate report` on an export fresh from the tool, before it is in the project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ftdata.cli import app

EXPORT = Path(__file__).resolve().parents[2] / "data/raw/annotations/label_studio/batch_01.json"


def test_annotate_report_reads_an_export_outside_the_project(tmp_path):
    project, downloads = tmp_path / "project", tmp_path / "Downloads"
    project.mkdir()
    downloads.mkdir()
    export = downloads / "export.json"
    shutil.copy(EXPORT, export)
    args = ["annotate", "report", "--tool", "label-studio", str(export), "--root", str(project)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["items"] > 0 and figures["annotators"] >= 2


def test_annotate_report_names_a_missing_export_in_one_line(tmp_path):
    missing = tmp_path / "export.json"
    args = ["annotate", "report", "--tool", "label-studio", str(missing), "--root", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3
    assert result.stderr.strip() == f"error: {missing}: no such file or folder"
