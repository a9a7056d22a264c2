"""An op's params are declared once, by its signature, and found by one rule.

The registry reads each op's signature into a schema at registration; compose and the
stage check `<section>.<op>` against it, so a default lives only in the signature.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ftdata.catalog import get_op
from ftdata.compose import compose_params
from ftdata.errors import ConfigError
from ftdata.params import op_params
from ftdata.registry import OpResult, params_schema

ROOT = Path(__file__).resolve().parents[2]


def squeeze(
    batch: pd.DataFrame,
    *,
    max_run: int = 3,
    marks: list[str] | tuple[str, ...] = ("!", "?"),
    note: str | None = None,
    level: int,
) -> OpResult:
    return OpResult(kept=batch)


def test_the_schema_is_the_signature_defaults_required_params_and_yaml_types():
    schema = params_schema("squeeze_punct", squeeze)
    assert schema.__name__ == "SqueezePunctParams"
    found = {f.name: f for f in dataclasses.fields(schema)}
    assert list(found) == ["max_run", "marks", "note", "level"]
    made = schema(level=1)
    assert (made.max_run, made.marks, made.note) == (3, ["!", "?"], None)  # a tuple is a list
    assert found["marks"].type == list[str]
    assert found["level"].default == "???"  # OmegaConf's MISSING: required


def test_an_op_taking_any_params_has_no_schema_and_checks_its_own():
    assert get_op("redact_pii_model").params is None
    assert get_op("nfkc").params is not None  # a text op: the text function's params


SECTION = {"ops": ["redact_pii"], "redact_pii": {"types": ["phone"]}}


def test_own_params_are_checked_and_defaults_come_from_the_signature():
    assert op_params("clean", SECTION, get_op("redact_pii")) == {"types": ["phone"]}
    assert op_params("clean", {"ops": []}, get_op("nfkc")) == {
        "keep_cjk_punct": True,
        "keep_circled": True,
    }
    with pytest.raises(
        ConfigError, match=r"unknown key `clean.redact_pii.typez`; did you mean 'types'"
    ):
        op_params("clean", {"redact_pii": {"typez": ["phone"]}}, get_op("redact_pii"))
    with pytest.raises(ConfigError, match=r"bad value for `clean.nfkc.keep_circled`"):
        op_params("clean", {"nfkc": {"keep_circled": "sometimes"}}, get_op("nfkc"))


def test_shared_section_keys_reach_every_op_whose_signature_names_them():
    section = {"ops": ["min_chars"], "min_chars": 12, "max_chars": 90, "glossary": []}
    assert op_params("quality", section, get_op("min_chars")) == {"min_chars": 12}
    augment = {"seed": 7, "synonym": {"groups": {"zh": [["帐单", "账单"]]}}}
    assert op_params("augment", augment, get_op("synonym")) == {
        "seed": 7,
        "groups": {"zh": [["帐单", "账单"]]},
        "max_replacements": 2,
        "roles": None,
    }


@pytest.fixture
def project(tmp_path) -> Path:
    for part in ("conf", "data/raw"):
        shutil.copytree(ROOT / part, tmp_path / part)
    return tmp_path


def _edit_clean(project: Path, edit) -> None:
    path = project / "conf/clean/default.yaml"
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(conf)
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c.update(nfck={"keep_circled": True}),
            r"unknown key `clean.nfck`; did you mean 'nfkc'",
        ),
        (
            lambda c: c["nfkc"].update(keep_circled="maybe"),
            r"bad value for `clean.nfkc.keep_circled`",
        ),
        (lambda c: c["redact_pii"].update(typez=[]), r"unknown key `clean.redact_pii.typez`"),
    ],
    ids=["misspelt op", "wrong type", "misspelt param"],
)
def test_compose_refuses_op_params_the_signature_does_not_accept(project, edit, message):
    _edit_clean(project, edit)
    with pytest.raises(ConfigError, match=message) as err:
        compose_params(project)
    assert str(err.value).startswith("conf/clean/default.yaml")


def test_ftdata_ops_shows_each_op_s_params_from_its_signature():
    from typer.testing import CliRunner

    from ftdata.cli import app, params_line

    assert params_line(params_schema("squeeze_punct", squeeze)) == (
        "max_run=3, marks=['!', '?'], note=None, level"
    )
    assert params_line(None) == "any"
    result = CliRunner().invoke(app, ["ops"], env={"COLUMNS": "240"})
    assert result.exit_code == 0 and "min_substance_chars=4" in result.output
