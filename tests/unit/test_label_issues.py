"""Label-error detection (ftdata/label_issues.py, the label_issues stage): planted label
flips are flagged with the label the classifier suggests, the queue is private and goes
back to the annotation tools, and the max_share gate stops the build."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from ftdata.cli import app
from ftdata.io import write_records
from ftdata.label_issues import Classifier, check_level, labelled
from tests.helpers import chat, frame
from tests.miniproject import make_project, metrics, run_stage

BILL, FEE, LIMIT = "账户问题>账单>账单查询", "产品问题>年费>年费政策", "账户问题>额度>额度调整"
PHRASES = {
    BILL: ["账单怎么查", "本月账单金额", "账单日是哪天", "statement this month", "view my bill"],
    FEE: ["年费多少钱", "年费怎么免", "白金卡年费", "annual fee waiver", "why was I charged a fee"],
    LIMIT: ["提高额度", "临时额度", "额度不够用", "raise my credit limit", "limit increase"],
}
FILLERS = ["请问", "你好，", "麻烦问下", "hi,", "please", "急！", "", "谢谢"]


def _corpus(per_label: int = 40, flips: int = 6, seed: int = 7) -> tuple[list[dict], set[str]]:
    """Records whose text says their label, then ``flips`` of them given another label."""
    rng = random.Random(seed)
    rows = []
    for label, phrases in PHRASES.items():
        for _ in range(per_label):
            text = f"{rng.choice(FILLERS)}{rng.choice(phrases)} {rng.choice(FILLERS)}".strip()
            rows.append(
                chat(("user", text), ("assistant", "好的"), line=len(rows) + 1, label=label)
            )
    flipped = set()
    for rec in rng.sample(rows, flips):
        rec["label"] = rng.choice([label for label in PHRASES if label != rec["label"]])
        flipped.add(rec["id"])
    return rows, flipped


def test_planted_label_flips_are_flagged_with_the_label_the_text_says():
    rows, flipped = _corpus()
    truth = {r["id"]: r["label"] for r in _corpus(flips=0)[0]}
    result = check_level(labelled(frame(*rows)), 3, Classifier())
    flagged = {row["id"]: row for row in result.issues}
    assert flipped <= set(flagged)
    assert len(flagged) <= len(flipped) + 2  # a couple of honest doubts at most
    for rid in flipped:
        assert flagged[rid]["suggested"] == truth[rid] != flagged[rid]["given"]
    scores = [row["score"] for row in result.issues]
    assert scores == sorted(scores)  # most suspect first
    assert result.as_metrics()["checked"] == len(rows)


def test_clean_labels_give_an_almost_empty_queue():
    rows, _ = _corpus(flips=0)
    assert len(check_level(labelled(frame(*rows)), 3, Classifier()).issues) <= 2


def test_each_level_is_checked_on_its_own():
    rows, _ = _corpus(flips=0)
    # Moving a bill question under 额度 is wrong at level 3, right at level 1 (账户问题 both).
    rows[0]["label"] = LIMIT
    data = labelled(frame(*rows))
    assert rows[0]["id"] in {r["id"] for r in check_level(data, 3, Classifier()).issues}
    assert rows[0]["id"] not in {r["id"] for r in check_level(data, 1, Classifier()).issues}


def test_the_queue_does_not_depend_on_record_order():
    rows, _ = _corpus()
    forward = check_level(labelled(frame(*rows)), 3, Classifier()).issues
    backward = check_level(labelled(frame(*reversed(rows))), 3, Classifier()).issues
    assert forward == backward and forward


def test_a_class_smaller_than_the_folds_sits_its_level_out():
    rows, _ = _corpus(flips=0)
    rare = [
        chat(("user", f"积分什么时候过期 {i}"), ("assistant", "一年"), line=900 + i, label="x>y>z")
        for i in range(3)
    ]
    result = check_level(labelled(frame(*rows, *rare)), 3, Classifier(folds=5))
    assert result.too_few == 3 and result.checked == len(rows) and result.classes == 3
    assert not {r["id"] for r in rare} & {row["id"] for row in result.issues}
    single = check_level(labelled(frame(*rows)), 1, Classifier())  # 账户问题 / 产品问题
    assert single.classes == 2
    one_class = [r for r in rows if r["label"] == BILL]
    assert check_level(labelled(frame(*one_class)), 3, Classifier()).checked == 0


def _project(tmp_path, rows, **section):
    project = make_project(tmp_path / "p", {}, {}, label_issues=section)
    write_records(project / "data/interim/annotate.parquet", frame(*rows))
    return project


def test_the_stage_writes_a_private_queue_that_annotate_export_sends_back(tmp_path, monkeypatch):
    rows, flipped = _corpus()
    phone = "13812345678"
    victim = next(r for r in rows if r["id"] in flipped)
    victim["messages"][0]["content"] += f" 我的手机 {phone}"
    project = _project(tmp_path, rows, max_share=None)
    assert run_stage(project, monkeypatch, "label_issues") == 0
    queue_file = project / "data/processed/review/label_issues.jsonl"
    queue = [json.loads(line) for line in queue_file.read_text("utf-8").splitlines()]
    assert {row["id"] for row in queue} >= flipped
    assert phone not in queue_file.read_text("utf-8")
    assert {"id", "locator", "level", "given", "suggested", "score"} <= set(queue[0])
    m = metrics(project, "label_issues")
    assert m["flagged"] == len({row["id"] for row in queue})
    assert sum(level["flagged"] for level in m["levels"].values()) == len(queue)

    out = tmp_path / "tasks"
    args = ["annotate", "export", "--tool", "label-studio", "--ids", str(queue_file)]
    args += ["--records", "data/interim/annotate.parquet", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--root", str(project)])
    assert result.exit_code == 0, result.output
    tasks = json.loads((out / "tasks.json").read_text("utf-8"))
    assert len(tasks) == m["flagged"]


def test_the_gate_stops_the_build_naming_the_level_and_the_share(tmp_path, monkeypatch, capsys):
    rows, _ = _corpus(flips=12)
    project = _project(tmp_path, rows, max_share=0.02, levels=[3])
    assert run_stage(project, monkeypatch, "label_issues") == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bound <= 2.0% (label_issues.max_share)" in err[0]
    assert err[0].startswith("ftdata label_issues: error: level 3: ")
    gate = metrics(project, "label_issues")["gates"][0]  # written before the build stopped
    assert gate["passed"] is False and gate["figure"] > 0.02


@pytest.mark.parametrize("rows", [[], [chat(("user", "你好"), ("assistant", "您好"))]])
def test_no_labelled_records_give_empty_outputs(tmp_path, monkeypatch, rows):
    project = _project(tmp_path, rows)
    assert run_stage(project, monkeypatch, "label_issues") == 0
    assert metrics(project, "label_issues")["levels"] == {}
    assert (project / "data/processed/review/label_issues.jsonl").read_text("utf-8") == ""
