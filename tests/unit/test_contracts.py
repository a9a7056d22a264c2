"""Dataset contracts (ftdata/contracts.py): each bound checked on the build's figures."""

from __future__ import annotations

import pytest

from ftdata.config_schema import ContractsConfig
from ftdata.contracts import as_metrics, broken, check_contracts, check_section, markdown
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
