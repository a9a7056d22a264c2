"""Pure parts of `ftdata release`: version check, gates, guideline versions, changelog order, manifest schema."""

from __future__ import annotations

import copy

import pytest

from ftdata.errors import ConfigError
from ftdata.release import (
    CHANGELOG_HEADER,
    add_to_changelog,
    check_version,
    failed_gates,
    guideline_version,
    label_issue_counts,
    manifest_errors,
    preference_counts,
    tag_message,
)
from tests.conftest import ROOT

MANIFEST = {
    "manifest_version": 1,
    "dataset": "bank_card",
    "version": "1.1",
    "tag": "data_v1.1",
    "message": "Complaints source",
    "git_commit": "0" * 40,
    "git_commit_date": "2024-12-31T10:00:00+08:00",
    "params_hash": "193d49b273a6",
    "sources": {
        "complaints": {
            "path": "data/raw/complaints/2024q4.jsonl",
            "format": "jsonl",
            "kind": "feedback",
            "license": "internal-use-only",
            "owner": "crm-team",
            "collected_at": "2024-12-31",
            "raw": {"md5": "57a1436ed945" + "0" * 20, "size": 2048},
        }
    },
    "guidelines": {"guidelines/bank_card.md": {"version": "2.0", "sha256": "a" * 64}},
    "taxonomy": {"version": "2.0", "params_hash": "abc", "files_sha256": None},
    "counts": {
        "raw_records": 11,
        "exported_records": 10,
        "splits": {"train": 8, "val": 1, "test": 1},
        "stages": [
            {"stage": "ingest", "in": 11, "added": 0, "out": 10, "rejected": {"empty_record": 1}}
        ],
    },
    "metrics": {
        "kept_ratio": 0.9091,
        "rejected_total": 1,
        "rejected_by_reason": {"empty_record": 1},
        "gates": {},
    },
    "outputs": {"data/processed/openai": {"md5": "1" * 32 + ".dir", "size": 10, "nfiles": 3}},
    "artifacts": {"records": {"path": "data/processed/records.parquet", "type": "dataset"}},
    "remote": {"name": "local", "url": "/tmp/.ftdata-remote/bank_card"},
}


def test_version_is_major_dot_minor():
    assert check_version("1.10") == "data_v1.10"
    for bad in ("1", "v1.0", "1.0.0", "01.2", "1.x"):
        with pytest.raises(ConfigError, match="expected MAJOR.MINOR"):
            check_version(bad)


def test_failed_gates_honour_every_shape_and_warn_mode():
    annotate = {
        "gates": [
            {
                "gate": "accuracy",
                "batch": "b1",
                "annotator": "ann1",
                "passed": False,
                "mode": "fail",
                "detail": "0.9 < 0.95",
            },
            {"gate": "agreement", "batch": "b1", "passed": False, "mode": "warn"},
            {
                "gate": "accuracy",
                "batch": "b2",
                "annotator": "ann2",
                "passed": True,
                "mode": "fail",
            },
        ]
    }
    assert failed_gates(annotate) == ["accuracy b1 ann1 (0.9 < 0.95)"]
    assert failed_gates(
        {"gates": {"rejects_ratio": False, "pii": {"status": "failed"}, "ok": True}}
    ) == [
        "rejects_ratio",
        "pii",
    ]
    assert failed_gates({"in": 3}) == [] and failed_gates([]) == []


def test_guideline_version_from_front_matter_or_a_version_line():
    assert guideline_version('---\nguideline: bank_card\nversion: "2.0"\n---\n# 指南\n') == "2.0"
    assert guideline_version("# 指南\n\n**Version:** v3.1\n") == "3.1"
    assert guideline_version("# 指南\n\n版本说明\n") is None


def test_changelog_puts_the_newest_release_first(tmp_path):
    path = tmp_path / "CHANGELOG.md"
    path.write_text(add_to_changelog(path, "## data_v1.0 (d)\n\nfirst\n"), encoding="utf-8")
    text = add_to_changelog(path, "## data_v1.1 (d)\n\nsecond\n")
    assert text.startswith(CHANGELOG_HEADER)
    assert text.index("## data_v1.1") < text.index("## data_v1.0")
    assert text.count("## data_v") == 2


def test_manifest_schema_accepts_a_full_manifest_and_names_what_is_wrong():
    assert manifest_errors(ROOT, MANIFEST) == []
    broken = copy.deepcopy(MANIFEST)
    broken["sources"]["complaints"]["raw"]["md5"] = "not-a-hash"
    del broken["params_hash"]
    errors = manifest_errors(ROOT, broken)
    assert any("params_hash" in e for e in errors)
    assert any(e.startswith("$.sources.complaints.raw.md5") for e in errors)


def test_tag_message_summarises_counts_sources_and_guidelines():
    message = tag_message(MANIFEST)
    assert message.splitlines()[0] == "data_v1.1: Complaints source"
    assert "records: 11 raw -> 10 exported (train 8, val 1, test 1)" in message
    assert (
        "complaints: data/raw/complaints/2024q4.jsonl md5 57a1436ed945 license internal-use-only owner crm-team"
        in message
    )
    assert "guidelines: guidelines/bank_card.md v2.0" in message


def test_label_issue_and_preference_counts_reach_the_manifest_and_the_tag_message():
    metrics = {
        "in": 40,
        "flagged": 3,
        "levels": {"1": {"checked": 40, "classes": 2, "flagged": 1, "share": 0.025, "too_few": 0}},
    }
    prefs = {"pairs": {"train": 4, "val": 1}, "kto": {"train": {"desirable": 2, "undesirable": 2}}}
    manifest = {
        **MANIFEST,
        "label_issues": label_issue_counts(metrics),
        "preference": preference_counts(prefs),
    }
    assert manifest["label_issues"] == {
        "checked": 40,
        "flagged": 3,
        "levels": {"1": {"checked": 40, "classes": 2, "flagged": 1}},
    }
    assert manifest_errors(ROOT, manifest) == []
    message = tag_message(manifest)
    assert "label issues: 3 of 40 labels flagged for review" in message
    assert "preference pairs: 5" in message
    broken = copy.deepcopy(manifest)
    broken["label_issues"]["levels"]["1"]["flagged"] = -1
    assert any("label_issues.levels" in e for e in manifest_errors(ROOT, broken))
    assert label_issue_counts(None) is None and preference_counts(None) is None
