"""PII detection measured on values nobody here wrote (Faker), through the configured clean chain.

The corpus generator and scorer are the benchmark's (bench/pii_faker.py,
bench/pii_eval.py); here a smaller seeded corpus is a regression gate.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ftdata.privacy.detect import OPTIONAL_PII_TYPES, PII_TYPES

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("faker")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("pii_eval")


@pytest.fixture(scope="module")
def faker_rows(bench):
    return bench.load_faker_bench().build_corpus(seed=4242, pii=400, optional=80, lookalikes=200)


@pytest.fixture(scope="module")
def configured_ops(bench):
    return list(bench.clean_section(ROOT)["ops"])


def test_faker_corpus_covers_every_leaked_variant(faker_rows):
    variants = {s["variant"].split("+")[0] for r in faker_rows for s in r["spans"]}
    layouts = {
        s["variant"].split("+")[1] for r in faker_rows for s in r["spans"] if "+" in s["variant"]
    }
    assert {
        "fifteen_digits",
        "glued_label",
        "dotted",
        "unicode_dash",
        "grouped_6_4_4_4",
    } <= variants
    assert {"86_dash", "0086_dash", "idn_zh", "idn_latin", "fullwidth"} <= variants
    assert {"comma_list", "fullwidth_comma", "json", "csv"} <= layouts
    kinds = {k["kind"] for r in faker_rows for k in r["keep"]}
    assert {"random_3_luhn", "order_number_luhn", "amount", "hotline", "bad_id_check"} <= kinds


def test_recall_and_precision_per_type_through_the_configured_chain(
    bench, faker_rows, configured_ops
):
    assert "redact_pii" in configured_ops
    report = bench.evaluate_chain(faker_rows, configured_ops, PII_TYPES)
    for kind, scores in report["per_type"].items():
        assert scores["instances"] >= 40, kind
        assert scores["recall"] >= 0.995, (kind, report["misses"][:10])
        assert scores["precision"] >= 0.99, (kind, report["false_hits"][:10])
    assert sum(report["lookalikes_hit"].values()) == 0, report["false_hits"][:10]


def test_find_pii_alone_meets_the_same_targets(bench, faker_rows):
    report = bench.evaluate(faker_rows, PII_TYPES)
    for kind, scores in report["per_type"].items():
        assert scores["recall"] >= 0.995, (kind, report["misses"][:10])
        assert scores["precision"] >= 0.99, (kind, report["false_hits"][:10])


@pytest.mark.parametrize("order_name", ["reversed", "redact_first", "redact_last", "shuffled_1"])
def test_chain_order_does_not_change_what_is_redacted(
    bench, faker_rows, configured_ops, order_name
):
    order = bench.chain_orders(configured_ops)[order_name]
    sample = faker_rows[:250]
    configured = bench.run_chain(sample, configured_ops, PII_TYPES)
    permuted = bench.run_chain(sample, order, PII_TYPES)
    placeholders = ("<PHONE>", "<LANDLINE>", "<ID_CARD>", "<BANK_CARD>", "<EMAIL>")
    for row in sample:
        a, b = configured[row["id"]], permuted[row["id"]]
        assert [a.count(p) for p in placeholders] == [b.count(p) for p in placeholders], (a, b)
        for span in row["spans"]:
            if span["type"] in PII_TYPES:
                assert bench.leak_key(span["type"], span["value"]) not in bench._squashed(b), b


def test_optional_types_are_measured_when_listed(bench, faker_rows, configured_ops):
    types = PII_TYPES + OPTIONAL_PII_TYPES
    report = bench.evaluate_chain(faker_rows, configured_ops, types)
    for kind in OPTIONAL_PII_TYPES:
        scores = report["per_type"][kind]
        assert scores["instances"] >= 10, kind
        assert scores["recall"] >= 0.995 and scores["precision"] >= 0.99, (
            kind,
            report["misses"][:5],
        )
    off = bench.evaluate_chain(faker_rows, configured_ops, PII_TYPES)
    assert "passport" not in off["per_type"]
