"""`ftdata compose`: conf/ -> params.yaml, and config errors that name key, file and fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ftdata.cli import app
from ftdata.compose import compose_params, params_stale, write_params
from ftdata.errors import ConfigError, SourceError
from ftdata.params import validated_section

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_compose_writes_params_and_check_passes_until_conf_changes(project):
    write_params(project)
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert params["quality"]["min_chars"] == 8
    assert set(params["source"]) >= {"chat_logs", "legacy_tickets", "crowd_qa"}
    assert params_stale(project) is None
    _edit(project / "conf/quality/default.yaml", lambda d: d.update(min_chars=12))
    assert "quality.min_chars" in params_stale(project)


def test_compose_applies_overrides(project):
    assert compose_params(project, ["quality.min_chars=12"])["quality"]["min_chars"] == 12


def test_cli_check_exits_one_when_params_are_stale(project):
    runner = CliRunner()
    assert runner.invoke(app, ["compose", "--root", str(project)]).exit_code == 0
    assert runner.invoke(app, ["compose", "--check", "--root", str(project)]).exit_code == 0
    _edit(project / "conf/dedup/minhash.yaml", lambda d: d.update(threshold=0.7))
    result = runner.invoke(app, ["compose", "--check", "--root", str(project)])
    assert result.exit_code == 1
    assert "dedup.threshold" in result.output


def test_misspelt_key_names_the_key_the_file_and_a_suggestion(project):
    _edit(project / "conf/quality/default.yaml", lambda d: d.update(min_char=12))
    with pytest.raises(ConfigError) as err:
        compose_params(project)
    msg = str(err.value)
    assert "conf/quality/default.yaml" in msg and "quality.min_char" in msg and "'min_chars'" in msg


def test_mistyped_value_names_the_key_and_the_file(project):
    _edit(project / "conf/quality/default.yaml", lambda d: d.update(min_chars="twelve"))
    with pytest.raises(ConfigError, match=r"conf/quality/default.yaml.*quality.min_chars"):
        compose_params(project)


def test_misspelt_source_field_names_the_source_file(project):
    _edit(project / "conf/source/crowd_qa.yaml", lambda d: d.update(licence="MIT"))
    with pytest.raises(
        ConfigError, match=r"conf/source/crowd_qa.yaml.*source.crowd_qa.licence.*'license'"
    ):
        compose_params(project)


def test_a_config_cannot_name_a_python_callable(project):
    _edit(
        project / "conf/clean/default.yaml",
        lambda d: d.update(evil={"_target_": "os.system", "command": "id"}),
    )
    with pytest.raises(ConfigError, match=r"_target_.*cannot name a Python callable"):
        compose_params(project)


def test_unknown_op_is_refused_with_a_suggestion(project):
    _edit(project / "conf/clean/default.yaml", lambda d: d["ops"].append("redact_pi"))
    with pytest.raises(ConfigError, match=r"clean.ops.*'redact_pi'.*did you mean 'redact_pii'"):
        compose_params(project)


def test_source_path_outside_the_project_is_refused(project):
    _edit(project / "conf/source/crowd_qa.yaml", lambda d: d.update(path="../../etc/passwd"))
    with pytest.raises(ConfigError, match=r"source.crowd_qa.path.*outside the project"):
        compose_params(project)


def test_missing_source_file_names_the_key_and_path(project):
    _edit(project / "conf/source/crowd_qa.yaml", lambda d: d.update(path="data/raw/crowd/nope.csv"))
    with pytest.raises(SourceError, match=r"source.crowd_qa.path.*nope.csv.*does not exist"):
        compose_params(project)


def test_unknown_override_key_is_refused(project):
    with pytest.raises(ConfigError, match="quality.min_lenght"):
        compose_params(project, ["quality.min_lenght=3"])


def test_stage_start_rechecks_params_written_by_dvc(project):
    write_params(project)
    _edit(project / "params.yaml", lambda d: d["dedup"].update(treshold=0.5))
    with pytest.raises(ConfigError, match=r"params.yaml.*dedup.treshold.*'threshold'"):
        validated_section(project, "dedup")
