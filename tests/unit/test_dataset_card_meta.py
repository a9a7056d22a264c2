"""The dataset card's front matter uses the Hugging Face Hub's own keys, and its language mix is
computed from the exported records, never hand-written."""

from __future__ import annotations

import re

import yaml

from ftdata.dataset_card import hub_license_fields, render_card
from tests.unit.test_report_html import data

# The hub's dataset-card metadata keys (huggingface/hub-docs datasetcard.md); `license_details`
# is the legacy free-text field the hub replaced with license_name / license_link.
HUB_KEYS = {
    "pretty_name",
    "language",
    "language_details",
    "license",
    "license_name",
    "license_link",
    "tags",
    "annotations_creators",
    "language_creators",
    "multilinguality",
    "size_categories",
    "source_datasets",
    "task_categories",
    "task_ids",
    "paperswithcode_id",
    "configs",
    "dataset_info",
    "extra_gated_fields",
    "train-eval-index",
}
SECTION = {"thin_label_min": 2, "card": {"summary": "S."}}


def _card(sources: dict | None = None, langs: list[str] | None = None) -> str:
    report = data()
    if sources is not None:
        report.sources = sources
    if langs is not None:
        report.records = report.records.assign(lang=langs)
    return render_card(report, SECTION, {"export": {"dataset_name": "bank_card"}})


def _front(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def test_front_matter_uses_only_hub_keys_and_names_custom_licences():
    sources = {
        "a": {"kind": "logs", "license": "internal-use-only"},
        "b": {"kind": "public", "license": "CC-BY-4.0"},
        "c": {"kind": "crawl", "license": "vendor-agreement-2024-017"},
    }
    front = _front(_card(sources))
    assert set(front) <= HUB_KEYS
    assert front["license"] == ["cc-by-4.0", "other"]
    assert front["license_name"] == "bank-card-source-licences"


def test_hub_licence_ids_and_a_single_custom_licence():
    assert hub_license_fields(["CC-BY-4.0"], "x") == {"license": "cc-by-4.0"}
    assert hub_license_fields(["internal-use-only"], "x") == {
        "license": "other",
        "license_name": "internal-use-only",
    }
    assert hub_license_fields(["MIT", "apache-2.0"], "x") == {"license": ["apache-2.0", "mit"]}


def test_card_states_the_computed_language_mix():
    card = _card(langs=["zh", "zh", "en"])
    assert "zh 2 (66.7%), en 1 (33.3%)" in card
    front = _front(card)
    assert front["language"] == ["en", "zh"] and front["multilinguality"] == "multilingual"
    # The detector's `mixed` is not an ISO language code: counted in the body, not listed.
    card = _card(langs=["zh", "mixed", "zh"])
    assert _front(card)["language"] == ["zh"] and "mixed 1 (33.3%)" in card


def test_example_card_text_in_conf_writes_no_shares_the_build_computes():
    from tests.conftest import ROOT

    card = yaml.safe_load((ROOT / "conf/report/default.yaml").read_text(encoding="utf-8"))["card"]
    text = yaml.safe_dump(card, allow_unicode=True)
    assert not re.search(r"\d\s*%", text), "a hand-written share in report.card goes stale"
