"""The licence gate: an export fails, naming the source, if it would carry a licence it does not accept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ftdata.compose import compose_params
from ftdata.errors import ConfigError, GateError
from ftdata.licenses import check_export_licenses, license_violations
from tests.helpers import chat
from tests.miniproject import ROOT, build, make_project, run_stage, source_cfg


def records(*specs: tuple[str, str | None]) -> pd.DataFrame:
    rows = []
    for i, (source, lic) in enumerate(specs):
        rec = chat(("user", f"问题{i}"), ("assistant", "回答"), source=source, line=i + 1)
        rec["license"] = lic
        rows.append(rec)
    return pd.DataFrame(rows)


def test_records_under_accepted_licences_pass():
    check_export_licenses(
        records(("chat", "internal-use-only"), ("faq", "CC-BY-4.0")),
        ["internal-use-only", "CC-BY-4.0"],
    )


def test_licence_names_compare_case_and_space_insensitively():
    assert license_violations(records(("faq", " cc-by-4.0")), ["CC-BY-4.0"]) == []


def test_a_record_outside_the_list_fails_naming_source_licence_count_and_example():
    batch = records(
        ("chat", "internal-use-only"), ("scraped", "CC-BY-NC-4.0"), ("scraped", "CC-BY-NC-4.0")
    )
    with pytest.raises(GateError) as err:
        check_export_licenses(batch, ["internal-use-only"])
    msg = str(err.value)
    assert err.value.exit_code == 4
    assert "export.accepted_licenses ('internal-use-only') does not accept" in msg
    assert (
        "source `scraped` has licence 'CC-BY-NC-4.0' (2 record(s), e.g. data/raw/scraped.jsonl:2)"
        in msg
    )
    assert "`chat`" not in msg


def test_a_record_without_a_licence_is_never_exported():
    (violation,) = license_violations(
        records(("augmented", None), ("augmented", " ")), ["internal-use-only"]
    )
    assert (violation.source, violation.license, violation.records) == ("augmented", "(none)", 2)


def test_every_offending_source_is_listed_in_a_stable_order():
    batch = records(("b", "GPL"), ("a", "proprietary"), ("b", "GPL"))
    assert [(v.source, v.license, v.records) for v in license_violations(batch, [])] == [
        ("a", "proprietary", 1),
        ("b", "GPL", 2),
    ]


def test_an_empty_export_passes_even_with_nothing_accepted():
    check_export_licenses(records(), [])


# ---------------------------------------------------------------- config
def _project_conf(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


def test_the_example_export_accepts_every_licence_its_sources_declare():
    params = compose_params(ROOT)
    declared = {cfg["license"] for cfg in params["source"].values()}
    assert declared <= set(params["export"]["accepted_licenses"])


def test_an_export_must_declare_the_licences_it_accepts(tmp_path):
    project = _project_conf(tmp_path)
    path = project / "conf/export/default.yaml"
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    del conf["accepted_licenses"]
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"conf/export/default.yaml: required key `export.accepted_licenses` is missing",
    ):
        compose_params(project)


# ---------------------------------------------------------------- the export stage
QA = "".join(
    json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n"
    for q, a in [
        ("信用卡账单怎么查询？", "登录手机银行，进入信用卡账单页面即可查看本期账单。"),
        ("积分可以兑换什么礼品？", "积分可以在积分商城兑换航空里程、商品和年费。"),
        (
            "How do I report a lost card?",
            "Call the hotline or freeze the card in the mobile app right away.",
        ),
    ]
)


def test_export_stage_fails_with_exit_4_and_writes_no_export_when_a_licence_is_not_accepted(
    tmp_path, monkeypatch, capsys
):
    sources = {
        "tickets": source_cfg("data/raw/tickets.jsonl", license="internal-use-only"),
        "forum": source_cfg("data/raw/forum.jsonl", license="CC-BY-NC-4.0", kind="public"),
    }
    files = {"data/raw/tickets.jsonl": QA, "data/raw/forum.jsonl": QA.replace("？", "?")}
    project = make_project(
        tmp_path, sources, files, export={"accepted_licenses": ["internal-use-only"]}
    )
    statuses = build(project, monkeypatch, until="export")
    assert statuses["export"] == 4
    err = capsys.readouterr().err
    assert (
        "ftdata export: error: export.accepted_licenses ('internal-use-only') does not accept:"
        in err
    )
    assert "source `forum` has licence 'CC-BY-NC-4.0'" in err and "data/raw/forum.jsonl:" in err
    assert "Traceback" not in err
    assert not (project / "data/processed/records.parquet").exists()
    assert not (project / "data/processed/openai").exists()


def test_export_stage_passes_once_the_licence_is_accepted(tmp_path, monkeypatch):
    sources = {"forum": source_cfg("data/raw/forum.jsonl", license="CC-BY-NC-4.0", kind="public")}
    project = make_project(
        tmp_path,
        sources,
        {"data/raw/forum.jsonl": QA},
        export={"accepted_licenses": ["cc-by-nc-4.0"]},
    )
    assert build(project, monkeypatch, until="export")["export"] == 0
    exported = pd.read_parquet(project / "data/processed/records.parquet")
    assert set(exported["license"]) == {"CC-BY-NC-4.0"} and len(exported) > 0


def test_a_failed_gate_keeps_the_previous_export(tmp_path, monkeypatch):
    sources = {"forum": source_cfg("data/raw/forum.jsonl", license="CC-BY-NC-4.0", kind="public")}
    project = make_project(
        tmp_path,
        sources,
        {"data/raw/forum.jsonl": QA},
        export={"accepted_licenses": ["CC-BY-NC-4.0"]},
    )
    assert build(project, monkeypatch, until="export")["export"] == 0
    before = (project / "data/processed/records.parquet").read_bytes()
    make_project(tmp_path, sources, {}, export={"accepted_licenses": ["internal-use-only"]})
    assert run_stage(project, monkeypatch, "export") == 4
    assert (project / "data/processed/records.parquet").read_bytes() == before
