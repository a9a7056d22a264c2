"""Annotation formats in and out (Label Studio, doccano, CSV, reviewer files) and the annotate step."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from ftdata.annotate import doccano, labelstudio
from ftdata.annotate.build import run
from ftdata.annotate.classification import classification_text, to_classification
from ftdata.annotate.importers import InputSpec, read_input, read_verdicts
from ftdata.annotate.taxonomy import load
from ftdata.config_schema import SECTION_SCHEMAS
from ftdata.errors import SourceError
from ftdata.params import check_section
from ftdata.schemas import errors_of
from tests.helpers import chat

ROOT = Path(__file__).resolve().parents[2]
BILL, FEE, LOSS = "账户问题>账单>账单查询", "产品问题>年费>年费政策", "账户问题>卡片>挂失补卡"


@pytest.fixture(scope="module")
def tax():
    return load(ROOT / "conf/taxonomy/bank_card.yaml")


# ---------------------------------------------------------------- Label Studio
def test_label_config_has_a_taxonomy_control_with_every_leaf_path(tax):
    root = ET.fromstring(labelstudio.label_config(tax))
    control = root.find("Taxonomy")
    assert control.get("leafsOnly") == "true" and control.get("maxUsages") == "1"
    assert control.get("toName") == root.find("Text").get("name") == "text"
    paths = []

    def walk(node, prefix):
        for choice in node.findall("Choice"):
            path = prefix + [choice.get("value")]
            assert choice.get("hint"), path
            if choice.findall("Choice"):
                walk(choice, path)
            else:
                paths.append(">".join(path))

    walk(control, [])
    assert paths == tax.leaves


def test_tasks_carry_the_record_id_and_predict_only_valid_labels(tax):
    items = [
        {"id": "a" * 16, "text": "年费多少", "label": FEE, "source": "s"},
        {"id": "b" * 16, "text": "x", "label": "旧>标签"},
    ]
    tasks = labelstudio.tasks(items, "2.0", tax)
    assert tasks[0]["data"] == {
        "text": "年费多少",
        "record_id": "a" * 16,
        "source": "s",
        "guideline_version": "2.0",
    }
    assert tasks[0]["predictions"][0]["result"][0]["value"] == {
        "taxonomy": [["产品问题", "年费", "年费政策"]]
    }
    assert "predictions" not in tasks[1]


def _ls_annotation(user, label=None, cancelled=False, extra_labels=()):
    result = (
        [
            {
                "from_name": "intent",
                "to_name": "text",
                "type": "taxonomy",
                "value": {"taxonomy": [label.split(">")]},
            }
        ]
        if label
        else []
    )
    result += [{"type": "taxonomy", "value": {"taxonomy": [x.split(">")]}} for x in extra_labels]
    return {"completed_by": user, "result": result, "was_cancelled": cancelled}


def test_label_studio_export_with_several_annotators_becomes_rows_and_rejects(tmp_path):
    export = [
        {
            "id": 1,
            "data": {"text": "t", "record_id": "r1", "guideline_version": "2.0"},
            "annotations": [
                _ls_annotation(1, BILL),
                _ls_annotation({"id": 2, "email": "wang@bank.example"}, FEE),
            ],
        },
        {
            "id": 2,
            "data": {"text": "t", "record_id": "r2"},
            "annotations": [
                _ls_annotation(1, cancelled=True),
                _ls_annotation(3, BILL, extra_labels=[FEE]),
                _ls_annotation(4),
            ],
        },
        {"id": 3, "data": {"text": "no id"}, "annotations": [_ls_annotation(1, BILL)]},
    ]
    path = tmp_path / "data/raw/annotations/ls.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    spec = InputSpec(
        path="data/raw/annotations/ls.json",
        tool="label-studio",
        guideline_version="1.9",
        annotators={"1": "li_na"},
    )
    result = read_input(spec, tmp_path)
    assert [
        (r.task_id, r.annotator, r.label, r.guideline_version, r.batch) for r in result.rows
    ] == [
        ("r1", "li_na", BILL, "2.0", "ls"),
        ("r1", "wang@bank.example", FEE, "2.0", "ls"),
    ]
    assert result.rows[0].locator == "data/raw/annotations/ls.json#/0/annotations/0"
    reasons = [(r["reason"], r["locator"].split("#")[1]) for r in result.rejects]
    assert reasons == [
        ("annotation_cancelled", "/1/annotations/0"),
        ("malformed_annotation", "/1/annotations/1"),  # two labels
        ("malformed_annotation", "/1/annotations/2"),  # no label, not cancelled
        ("malformed_annotation", "/2/annotations/0"),  # task without record_id
    ]
    assert "2 labels" in result.rejects[1]["detail"] and result.read == 6


def test_a_label_studio_file_that_is_not_an_export_is_one_reject(tmp_path):
    (tmp_path / "ls.json").write_text('{"not": "a list"}', encoding="utf-8")
    result = read_input(InputSpec(path="ls.json", tool="label-studio"), tmp_path)
    assert [r["reason"] for r in result.rejects] == ["malformed_annotation"] and not result.rows


# ---------------------------------------------------------------- doccano
def test_doccano_round_trip_files(tmp_path, tax):
    rows = doccano.import_rows([{"id": "c" * 16, "text": "卡丢了", "label": LOSS}], "2.0", tax)
    assert rows == [
        {
            "text": "卡丢了",
            "label": [LOSS],
            "record_id": "c" * 16,
            "guideline_version": "2.0",
            "source": None,
        }
    ]
    labels = doccano.label_types(tax)
    assert [x["text"] for x in labels] == tax.leaves and all(
        x["background_color"].startswith("#") for x in labels
    )

    folder = tmp_path / "batch_02"
    folder.mkdir()
    (folder / "li_na.jsonl").write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"id": 1, "text": "a", "label": [BILL], "record_id": "r1"},
                {"id": 2, "text": "b", "label": [], "record_id": "r2"},
                {"id": 3, "text": "c", "label": [BILL, FEE], "record_id": "r3"},
                {"id": 4, "text": "d", "label": [[0, 1, "SPAN"]], "record_id": "r4"},
                {
                    "id": 5,
                    "text": "e",
                    "label": [FEE],
                    "meta": {"record_id": "r5"},
                    "annotator": "zhao",
                },
            ]
        )
        + "\n{broken\n",
        encoding="utf-8",
    )
    result = read_input(
        InputSpec(path="batch_02", tool="doccano", guideline_version="2.0"), tmp_path
    )
    assert [(r.task_id, r.annotator, r.label, r.batch) for r in result.rows] == [
        ("r1", "li_na", BILL, "batch_02"),
        ("r5", "zhao", FEE, "batch_02"),
    ]
    assert result.skipped == {"unlabelled": 1}
    assert [(r["reason"], r["locator"]) for r in result.rejects] == [
        ("malformed_annotation", "batch_02/li_na.jsonl:3"),
        ("malformed_annotation", "batch_02/li_na.jsonl:4"),
        ("malformed_annotation", "batch_02/li_na.jsonl:6"),
    ]


# ---------------------------------------------------------------- CSV and reviewer files
def test_csv_annotations_need_their_columns_and_name_the_bad_line(tmp_path):
    (tmp_path / "a.csv").write_text("id,label\nr1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"a\.csv:1: missing column\(s\) annotator"):
        read_input(InputSpec(path="a.csv", tool="csv"), tmp_path)
    (tmp_path / "b.csv").write_text(
        f"\ufeffid,annotator,label,guideline_version,cancelled\nr1,li_na,{BILL},1.0,\nr2,,{BILL},2.0,\nr3,wang,{FEE},,yes\n",
        encoding="utf-8",
    )
    result = read_input(InputSpec(path="b.csv", tool="csv", guideline_version="2.0"), tmp_path)
    assert [(r.task_id, r.annotator, r.guideline_version, r.locator) for r in result.rows] == [
        ("r1", "li_na", "1.0", "b.csv:2")
    ]
    assert [(r["reason"], r["locator"]) for r in result.rejects] == [
        ("malformed_annotation", "b.csv:3"),
        ("annotation_cancelled", "b.csv:4"),
    ]


def test_spot_check_verdicts_accept_english_and_chinese_and_reject_the_rest(tmp_path):
    (tmp_path / "v.csv").write_text(
        "id,verdict,reviewer\nr1,correct,z\nr2,错误,z\nr3,maybe,z\n", encoding="utf-8"
    )
    verdicts, rejects = read_verdicts(["v.csv"], tmp_path)
    assert [(v.task_id, v.correct) for v in verdicts] == [("r1", True), ("r2", False)]
    assert rejects[0]["locator"] == "v.csv:4" and "maybe" in rejects[0]["detail"]


# ---------------------------------------------------------------- the annotate step
def test_classification_text_is_the_user_side_and_rows_match_the_schema():
    messages = [
        {"role": "assistant", "content": "您好"},
        {"role": "user", "content": "年费多少 "},
        {"role": "assistant", "content": "100元"},
        {"role": "user", "content": "能免吗"},
    ]
    assert classification_text(messages, None) == "年费多少\n能免吗"
    assert classification_text(messages, "explicit text") == "explicit text"
    rec = chat(("user", "年费多少"), ("assistant", "100元"), label=FEE)
    row = to_classification({**rec, "lang": "zh"})
    assert row["label_levels"] == ["产品问题", "产品问题>年费", FEE]
    assert errors_of(row, "classification.schema.json") == []
    assert to_classification({**rec, "label": None}) is None


def _own_sections() -> dict:
    """The annotate and taxonomy sections as compose gives them (only these conf files are read)."""
    import yaml

    out = {}
    for name, rel in (
        ("annotate", "conf/annotate/default.yaml"),
        ("taxonomy", "conf/taxonomy/bank_card.yaml"),
    ):
        raw = yaml.safe_load((ROOT / rel).read_text(encoding="utf-8"))
        out[name] = check_section(name, raw, SECTION_SCHEMAS[name], rel)
    return out


def _project(tmp_path: Path, n: int = 24):
    """Records r00..rNN with source labels, the guideline, and annotation files written by the test."""
    records = pd.DataFrame(
        [
            chat(("user", f"问题 {i} 账单"), ("assistant", "答复"), line=i, label=BILL)
            for i in range(n)
        ]
    )
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")
    params = _own_sections()
    section = {
        **params["annotate"],
        "inputs": [{"path": "ann.csv", "tool": "csv", "batch": "b1"}],
        "gold": ["gold.csv"],
        "adjudication": ["adj.csv"],
        "spot_check_verdicts": [],
    }
    return records, section, params["taxonomy"]


def _write(tmp_path: Path, name: str, header: str, rows: list[str]) -> None:
    (tmp_path / name).write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_annotate_step_labels_by_consensus_adjudication_and_keeps_annotations_apart(tmp_path):
    records, section, taxonomy = _project(tmp_path)
    ids = list(records["id"])
    rows = []
    for i, rid in enumerate(ids):
        third = FEE if i < 3 else BILL  # three items: 2 of 3 -> consensus, still a disagreement
        rows += [f"{rid},li_na,{BILL},2.0", f"{rid},wang,{BILL},2.0", f"{rid},zhao,{third},2.0"]
    rows[-1] = f"{ids[-1]},zhao,{FEE},2.0"
    rows[-2] = f"{ids[-1]},wang,{LOSS},2.0"  # item 23: three-way split -> no consensus
    rows += [
        f"{ids[20]},zhao,{FEE},2.0",  # a later vote by the same annotator supersedes the earlier one
        "ffffffffffffffff,li_na,账户问题>账单>账单查询,2.0",  # unknown id
        f"{ids[5]},li_na,账单查询,2.0",  # bare leaf name: not a label -> reject (li_na's earlier vote stays)
        f"{ids[6]},old_timer,账户问题>卡片>挂失冻结,1.0",  # split migration: re-annotate, no vote
    ]
    _write(tmp_path, "ann.csv", "id,annotator,label,guideline_version", rows)
    _write(tmp_path, "gold.csv", "id,label", [f"{rid},{BILL}" for rid in ids[:20]])
    _write(tmp_path, "adj.csv", "id,label,reviewer,note", [f"{ids[4]},{FEE},chen,override"])
    section["consensus"] = {"min_annotators": 2, "min_share": 0.6}
    result = run(records, section, taxonomy, tmp_path)

    assert len(result.kept) + len(result.rejected) == len(records)
    labels = dict(zip(result.kept["id"], result.kept["label"], strict=True))
    origin = dict(zip(result.kept["id"], result.kept["label_origin"], strict=True))
    assert (labels[ids[0]], origin[ids[0]]) == (BILL, "consensus")
    assert (labels[ids[4]], origin[ids[4]]) == (FEE, "adjudicated")
    assert (
        pd.isna(labels[ids[23]]) and origin[ids[23]] == "no_consensus"
    )  # drop_label keeps the record
    assert labels[ids[20]] == BILL  # li_na + wang still outvote zhao's newer FEE
    ann = {
        a["annotator"]: a for a in result.kept[result.kept["id"] == ids[6]]["annotations"].iloc[0]
    }
    assert (
        ann["old_timer"]["label"] is None
        and ann["old_timer"]["original_label"] == "账户问题>卡片>挂失冻结"
    )
    reasons = sorted(r["reason"] for r in result.annotation_rejects)
    assert reasons == ["label_not_in_taxonomy", "unknown_task_id"]
    assert "did you mean '账户问题>账单>账单查询'" in next(
        r["detail"] for r in result.annotation_rejects if r["reason"] == "label_not_in_taxonomy"
    )
    report = result.report
    assert (
        report["annotations"]["superseded"] == 1
        and report["annotations"]["ambiguous_migration"] == 1
    )
    # disagreements: items 0-2 (zhao), 20 (zhao's newer vote), 23 (three-way split)
    assert report["by_batch"]["b1"]["percent_agreement"] == pytest.approx(round(19 / 24, 4))
    assert report["by_batch"]["b1"]["annotators"]["zhao"]["gold_accuracy"] == pytest.approx(
        round(17 / 20, 4)
    )
    queue = {e["id"]: e["why"] for e in result.review}
    assert "no_consensus" in queue[ids[23]]
    assert any(
        w.startswith("batch_disagreement") for w in queue[ids[0]]
    )  # 4/24 > 10 % disagreement
    assert ids[4] not in queue  # adjudicated
    assert [e["id"] for e in result.reannotate] == [ids[6]]


def test_unresolved_and_out_of_taxonomy_labels_can_reject_records_instead(tmp_path):
    records, section, taxonomy = _project(tmp_path, n=3)
    records.loc[2, "label"] = "不存在>的>标签"
    ids = list(records["id"])
    _write(
        tmp_path,
        "ann.csv",
        "id,annotator,label,guideline_version",
        [f"{ids[0]},a,{BILL},2.0", f"{ids[0]},b,{FEE},2.0"],
    )
    _write(tmp_path, "gold.csv", "id,label", [])
    _write(tmp_path, "adj.csv", "id,label", [])
    section.update(unresolved="reject", label_not_in_taxonomy="reject")
    result = run(records, section, taxonomy, tmp_path)
    assert sorted(result.rejected["reason"]) == ["annotation_conflict", "label_not_in_taxonomy"]
    assert list(result.kept["id"]) == [ids[1]]
    section.update(unresolved="keep_source", label_not_in_taxonomy="drop_label")
    kept = run(records, section, taxonomy, tmp_path).kept.set_index("id")
    assert kept.loc[ids[0], "label"] == BILL and pd.isna(kept.loc[ids[2], "label"])
    assert kept.loc[ids[2], "label_origin"] == "not_in_taxonomy"
