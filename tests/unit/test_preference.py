"""Preference data from feedback (ftdata/preference.py, the preference stage): the agent's
reply chosen and the model's rejected, never identical sides, every row private, valid
against its schema and loaded by HF `datasets`."""

from __future__ import annotations

import json

import pytest

from ftdata.io import write_records
from ftdata.preference import (
    IDENTICAL_SIDES,
    NO_MODEL_REPLY,
    NOT_A_PAIR_FLAG,
    dataset_info,
    preference_of,
    to_alpaca_ranking,
    to_kto,
    to_openai_preference,
    to_sharegpt_ranking,
)
from ftdata.schemas import errors_of
from tests.helpers import chat, frame
from tests.miniproject import make_project, metrics, run_stage

SECTION = {
    "kinds": ["feedback"],
    "pair_flags": ["agent_correction", "escalation"],
    "desirable_flags": ["thumbs_up"],
    "undesirable_flags": ["thumbs_down", "agent_correction", "escalation"],
}
QUESTION, MODEL, AGENT = (
    "积分过期还能找回吗",
    "积分可兑换商品。",
    "积分到期清零后无法恢复，到期前会短信提醒。",
)


def _feedback(flag, model_reply=MODEL, reply=AGENT, line=1, split="train") -> dict:
    rec = chat(("user", QUESTION), ("assistant", reply), source="feedback_log", line=line)
    meta = {"flag": flag, "model_reply": model_reply}
    return {**rec, "source_kind": "feedback", "split": split, "meta": json.dumps(meta)}


def test_an_agent_correction_is_a_pair_and_two_kto_examples():
    pref, why = preference_of(_feedback("agent_correction"), SECTION, "系统提示")
    assert why == ""
    assert (pref.chosen, pref.rejected) == (AGENT, MODEL)
    assert pref.prompt == [{"role": "user", "content": QUESTION}]
    assert pref.kto == [(MODEL, False), (AGENT, True)]
    assert pref.locator == "data/raw/feedback_log.jsonl:1" and pref.split == "train"


@pytest.mark.parametrize(
    "flag, model_reply, reply, reason, kto",
    [
        (
            "agent_correction",
            "积分可兑换商品",
            AGENT.replace(AGENT, "积分可兑换商品 。"),
            IDENTICAL_SIDES,
            [],
        ),
        ("thumbs_down", MODEL, MODEL, NOT_A_PAIR_FLAG, [(MODEL, False)]),
        ("thumbs_up", MODEL, MODEL, NOT_A_PAIR_FLAG, [(MODEL, True)]),
        ("agent_correction", None, AGENT, NO_MODEL_REPLY, []),
    ],
    ids=["identical after normalisation", "thumbs down", "thumbs up", "no model reply"],
)
def test_no_pair_without_two_different_replies(flag, model_reply, reply, reason, kto):
    pref, why = preference_of(_feedback(flag, model_reply, reply), SECTION, None)
    assert why == reason and pref.chosen is None and pref.rejected is None
    assert pref.kto == kto


def test_every_format_meets_its_schema_and_dataset_info_names_the_files():
    pref, _ = preference_of(_feedback("escalation"), SECTION, "系统提示")
    assert errors_of([to_sharegpt_ranking(pref)], "preference_sharegpt.schema.json") == []
    assert errors_of([to_alpaca_ranking(pref)], "preference_alpaca.schema.json") == []
    assert errors_of([to_kto(pref, AGENT, True)], "kto.schema.json") == []
    assert errors_of(to_openai_preference(pref), "openai_preference.schema.json") == []
    broken = {**to_sharegpt_ranking(pref), "rejected": {"from": "human", "value": MODEL}}
    assert errors_of([broken], "preference_sharegpt.schema.json")  # the schema can fail
    info = dataset_info("bank", [("dpo_sharegpt", "train"), ("kto", "train"), ("openai", "train")])
    assert errors_of(info, "dataset_info.schema.json") == []
    assert info["bank_dpo_sharegpt_train"]["ranking"] is True
    assert info["bank_kto_train"]["columns"]["kto_tag"] == "label"


def _project(tmp_path, rows):
    project = make_project(tmp_path / "p", {}, {})
    write_records(project / "data/processed/records.parquet", frame(*rows))
    return project


def test_the_stage_writes_private_files_that_hf_datasets_loads(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    phone = "13812345678"
    rows = [
        _feedback("agent_correction", model_reply=f"请拨打 {phone} 咨询。", line=1),
        _feedback("escalation", line=2, split="test"),
        _feedback("thumbs_down", reply=MODEL, line=3),
        _feedback("agent_correction", model_reply=None, line=4),
        chat(("user", "你好"), ("assistant", "您好"), line=5) | {"split": "train", "meta": None},
    ]
    project = _project(tmp_path, rows)
    assert run_stage(project, monkeypatch, "preference") == 0
    out = project / "data/processed/preference"
    m = metrics(project, "preference")
    assert m["in"] == 4 and m["out"] == 3 and m["rejected"] == {NO_MODEL_REPLY: 1}
    assert m["pairs"] == {"train": 1, "val": 0, "test": 1}
    assert m["no_pair"] == {NO_MODEL_REPLY: 1, NOT_A_PAIR_FLAG: 1}
    assert m["kto"]["train"] == {"desirable": 1, "undesirable": 2}
    every_file = "".join(p.read_text("utf-8") for p in sorted(out.iterdir()))
    assert phone not in every_file and "<PHONE" in every_file
    lineage = [json.loads(line) for line in (out / "lineage.jsonl").read_text("utf-8").splitlines()]
    assert {r["locator"] for r in lineage} == {
        f"data/raw/feedback_log.jsonl:{i}" for i in (1, 2, 3)
    }

    info = json.loads((out / "dataset_info.json").read_text("utf-8"))
    for name, entry in info.items():
        loaded = datasets.load_dataset(
            "json", data_files=str(out / entry["file_name"]), split="train"
        )
        expected = json.loads((out / entry["file_name"]).read_text("utf-8"))
        assert loaded.num_rows == len(expected), name
        if expected:
            assert set(loaded.column_names) == set(expected[0])
    assert not (out / "bank_card_dpo_sharegpt_val.json").exists()  # no rows, no file to fail on
    assert "bank_card_dpo_sharegpt_val" not in info
    train = datasets.load_dataset("json", data_files=str(out / "openai_train.jsonl"), split="train")
    assert train[0]["preferred_output"][0]["role"] == "assistant"
