"""Dataset contracts (ftdata/contracts.py): each bound checked on the build's figures."""

from __future__ import annotations

import pytest

from ftdata.baselines import (
    guideline_state,
    release_figures,
    release_manifest,
    release_trend,
    trend_entry,
)
from ftdata.config_schema import ContractsConfig
from ftdata.contracts import (
    as_metrics,
    broken,
    check_contracts,
    check_section,
    drift_checks,
    markdown,
)
from ftdata.errors import ConfigError
from ftdata.params import check_section as check_schema
from ftdata.release import failed_gates
from tests.helpers import chat, frame

SUMMARY = {
    "exported_records": 10,
    "derived_records": {"augmented": 2, "resampled": 1},
    "splits": {"train": 8, "val": 1, "test": 1},
}
METRICS = {
    "export": {"residual_pii": {"records": 0}},
    "dedup": {"in": 20, "rejected_total": 5},
}


def _records():
    rows = []
    for i in range(10):
        label = "账户问题>账单>账单查询" if i < 7 else "产品问题>权益>积分"
        rows.append(
            chat(("user", "我的账单怎么查" * (i + 1)), ("assistant", "在App查看"), label=label)
        )
    return frame(*rows).assign(lang=["zh"] * 9 + ["en"])


def _section(**bounds) -> dict:
    return check_schema("contracts", bounds, ContractsConfig, "test")


def test_unset_bounds_are_not_checked_and_residual_pii_is_by_default():
    checks = check_contracts(_section(), SUMMARY, METRICS, _records())
    assert [c.name for c in checks] == ["residual_pii_records"]
    assert checks[0].passed


def test_each_bound_names_its_figure_and_its_key():
    section = _section(
        max_duplicate_share=0.2,
        max_derived_share=0.5,
        min_records_per_split={"train": 5, "val": 2},
        label_share={"level": 1, "min": 0.1, "max": 0.6},
        chars_percentile={"p": 50, "min": 10, "max": 1000},
        language_share={"zh": [0.5, 1.0], "en": [0.2, 0.5]},
    )
    checks = check_contracts(section, SUMMARY, METRICS, _records())
    failed = {c.line() for c in broken(checks)}
    assert failed == {
        "duplicate_share = 0.25, bound <= 0.2 (contracts.max_duplicate_share)",
        "records[val] = 1, bound >= 2 (contracts.min_records_per_split.val)",
        "label_share[账户问题] = 0.7, bound <= 0.6 (contracts.label_share.max)",
        "language_share[en] = 0.1, bound >= 0.2 (contracts.language_share.en[0])",
    }
    passed = {c.name for c in checks if c.passed}
    assert {"derived_share", "records[train]", "label_share[产品问题]", "chars_p50"} <= passed


def test_the_metrics_are_gates_release_refuses_and_the_card_shows():
    checks = check_contracts(_section(max_derived_share=0.1), SUMMARY, METRICS, _records())
    metrics = as_metrics(checks)
    assert (metrics["checked"], metrics["broken"]) == (2, 1)
    assert failed_gates(metrics) == [
        "derived_share (derived_share = 0.3, bound <= 0.1 (contracts.max_derived_share))"
    ]
    table = "\n".join(markdown(checks))
    assert "| derived_share | 0.3 | <= 0.1 (`contracts.max_derived_share`) | **broken** |" in table
    warn = check_contracts(
        _section(mode="warn", max_derived_share=0.1), SUMMARY, METRICS, _records()
    )
    assert failed_gates(as_metrics(warn)) == []  # a warn contract reports, it does not block


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"mode": "strict"}, "expected fail or warn"),
        ({"language_share": {"zh": [0.9, 0.1]}}, r"contracts.language_share.zh` is \[0.9, 0.1\]"),
        ({"language_share": {"zh": [0.5]}}, "expected \\[min, max\\]"),
    ],
)
def test_a_contract_that_cannot_be_checked_is_refused(bounds, message):
    with pytest.raises(ConfigError, match=message):
        check_section(_section(**bounds))


def _labels(**counts) -> list[dict]:
    """plots/labels.json rows: level-1 counts per label (all in train)."""
    return [{"level": 1, "label": k, "split": "train", "count": n} for k, n in counts.items()]


DRIFT = {"baseline": "data_v1.0", "level": 1, "max_label_share_change": 0.05,
         "max_source_loss": 0.2, "guideline_notes": True}  # fmt: skip


def test_drift_names_the_label_that_moved_and_the_release_it_moved_from():
    then = {"labels": _labels(账户问题=50, 产品问题=50), "sources": {"a": {"kept": 100}}}
    now = {"labels": _labels(账户问题=60, 产品问题=40), "sources": {"a": {"kept": 100}}}
    failed = [c.line() for c in broken(drift_checks(DRIFT, now, then, "fail"))]
    assert failed == [
        "label_share_change[产品问题] = 0.1 since data_v1.0, bound <= 0.05 "
        "(contracts.drift.max_label_share_change)",
        "label_share_change[账户问题] = 0.1 since data_v1.0, bound <= 0.05 "
        "(contracts.drift.max_label_share_change)",
    ]
    steady = {"labels": _labels(账户问题=104, 产品问题=96), "sources": {"a": {"kept": 100}}}
    assert not broken(drift_checks(DRIFT, steady, then, "fail"))  # 2 points: within


def test_drift_counts_a_lost_source_and_a_vanished_label_but_not_a_new_source():
    then = {"labels": _labels(A=50, B=50), "sources": {"a": {"kept": 100}, "b": {"kept": 10}}}
    now = {"labels": _labels(A=100), "sources": {"a": {"kept": 70}, "new": {"kept": 5}}}
    figures = {c.name: c.figure for c in drift_checks(DRIFT, now, then, "fail")}
    assert figures == {
        "label_share_change[A]": 0.5,
        "label_share_change[B]": 0.5,
        "source_loss[a]": 0.3,
        "source_loss[b]": 1.0,
    }
    assert drift_checks({**DRIFT, "baseline": None}, now, then, "fail") == []


def test_a_release_s_figures_are_read_from_its_tag_and_a_missing_tag_is_a_config_error(
    tmp_path,
):
    import json
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    plots = tmp_path / "data/metrics/plots"
    plots.mkdir(parents=True)
    (tmp_path / "data/metrics/summary.json").write_text(
        json.dumps({"sources": {"a": {"kept": 100}}}), encoding="utf-8"
    )
    (plots / "labels.json").write_text(json.dumps(_labels(A=3)), encoding="utf-8")
    git("init", "-q", "-b", "main")
    git("-c", "user.email=t@ftdata.invalid", "-c", "user.name=t", "add", "-A")
    git("-c", "user.email=t@ftdata.invalid", "-c", "user.name=t", "commit", "-qm", "build")
    git("tag", "data_v1.0")
    (plots / "labels.json").write_text(json.dumps(_labels(A=9)), encoding="utf-8")  # later edit
    figures = release_figures(tmp_path, "data_v1.0")
    assert figures == {"labels": _labels(A=3), "sources": {"a": {"kept": 100}}, "guidelines": {}}
    with pytest.raises(ConfigError, match="cannot read release 'data_v9.9'"):
        release_figures(tmp_path, "data_v9.9")


def test_the_trend_is_read_from_the_baseline_manifest_or_backfilled_from_a_hand_made_tag(
    tmp_path,
):
    import json
    import subprocess

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=t@ftdata.invalid", "-c", "user.name=t", *args],
            cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip

    metrics = tmp_path / "data/metrics"
    (metrics / "plots").mkdir(parents=True)
    (metrics / "plots/labels.json").write_text(json.dumps(_labels(A=3, B=1)), encoding="utf-8")
    annotate = {"by_annotator": {"li_na": {"annotations": 9, "agreement_with_consensus": 0.9}}}
    (metrics / "annotate.json").write_text(json.dumps(annotate), encoding="utf-8")
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "build")
    git("tag", "data_v1.0")  # by hand: no manifest, the point comes from its metrics
    first = release_trend(tmp_path, "data_v1.0")
    assert first == [
        {
            "tag": "data_v1.0",
            "labels": {"1": {"A": 0.75, "B": 0.25}},
            "annotators": {
                "li_na": {"annotations": 9, "agreement_with_consensus": 0.9, "gold_accuracy": None}
            },
        }
    ]
    # A released manifest carries the trend before it: that, not the tag's metrics, is read.
    release = tmp_path / "data/release"
    release.mkdir(parents=True)
    point = trend_entry("data_v1.1", _labels(A=1, B=1), None)
    (release / "manifest.json").write_text(json.dumps({"trend": [*first, point]}), "utf-8")
    git("add", "-A")
    git("commit", "-qm", "release")
    git("tag", "data_v1.1")
    assert [p["tag"] for p in release_trend(tmp_path, "data_v1.1")] == ["data_v1.0", "data_v1.1"]
    assert release_trend(tmp_path, "data_v1.1")[1]["labels"] == {"1": {"A": 0.5, "B": 0.5}}
    assert release_manifest(tmp_path, "data_v1.0") is None


GUIDE = '---\nversion: "{v}"\n{changes}---\n\n# 指南\n\n{body}\n'


def _guide(version: str, body: str, changes: str = "") -> dict:
    text = GUIDE.format(v=version, changes=changes, body=body)
    return guideline_state(text, "guidelines/g.md")


def _drift_of(now: dict, then: dict) -> dict[str, float]:
    figures = {"labels": [], "sources": {}}
    checks = drift_checks(
        DRIFT, {**figures, "guidelines": {"guidelines/g.md": now}},
        {**figures, "guidelines": {"guidelines/g.md": then}}, "fail",
    )  # fmt: skip
    return {c.name: c.passed for c in checks}


def test_an_edited_guideline_must_bump_its_version_and_say_what_changed():
    then = _guide("2.0", "只标叶子。")
    assert _drift_of(_guide("2.0", "只标叶子。"), then) == {
        "guideline_bumped[guidelines/g.md]": True,
        "guideline_noted[guidelines/g.md]": True,
    }
    edited = _drift_of(_guide("2.0", "只标叶子；账单争议标账单查询。"), then)
    assert edited["guideline_bumped[guidelines/g.md]"] is False  # same version, new text
    unnoted = _drift_of(_guide("2.1", "只标叶子；账单争议标账单查询。"), then)
    assert unnoted == {
        "guideline_bumped[guidelines/g.md]": True,
        "guideline_noted[guidelines/g.md]": False,
    }
    noted = _guide(
        "2.1", "只标叶子；账单争议标账单查询。", 'changes:\n  "2.1": 账单争议归账单查询\n'
    )
    assert all(_drift_of(noted, then).values())


def test_a_guideline_changes_entry_that_is_not_a_mapping_is_a_config_error():
    with pytest.raises(ConfigError, match="`changes` must map a version to its note"):
        _guide("2.1", "x", "changes: [2.1]\n")
