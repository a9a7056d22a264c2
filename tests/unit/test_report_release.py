"""A build's report and card show the release it is compared with (contracts.drift.baseline,
always a release before it: `ftdata release` writes a manifest after the build it tags), and
the label and annotator trend up to this build."""

from __future__ import annotations

from ftdata.dataset_card import render_card
from ftdata.report_html import render
from tests.unit.test_report_html import data

MANIFEST = {"tag": "data_v1.0", "version": "1.0", "message": "First release", "git_commit": "abc"}
SECTION = {"thin_label_min": 2, "card": {"summary": "S."}}


TREND = [
    {
        "tag": "data_v1.0",
        "labels": {"1": {"账户问题": 0.4, "产品问题": 0.6}},
        "annotators": {"li_na": {"agreement_with_consensus": 0.99, "gold_accuracy": 1.0}},
    },
    {
        "tag": "this build",
        "labels": {"1": {"账户问题": 0.25, "产品问题": 0.7, "投诉": 0.05}},
        "annotators": {
            "li_na": {"agreement_with_consensus": 0.91, "gold_accuracy": 0.95},
            "zhao_lei": {"agreement_with_consensus": 0.97, "gold_accuracy": None},
        },
    },
]


def _section(page: str, anchor: str) -> str:
    section = page[page.index(f'<section id="{anchor}">') :]
    return section[: section.index("</section>")]


def test_report_names_the_baseline_release_it_is_compared_with():
    section = _section(render(data(manifest=MANIFEST)), "release")
    assert "<h2>Baseline release</h2>" in section
    assert "compared with (contracts.drift.baseline): data_v1.0" in section
    assert "never shows its own release" in section
    none = _section(render(data()), "release")
    assert "set contracts.drift.baseline" in none and "not available" in none


def test_card_names_the_baseline_release_it_is_compared_with():
    card = render_card(data(manifest=MANIFEST), SECTION, {"export": {"dataset_name": "demo"}})
    assert "## Previous release" not in card
    block = card[card.index("## Baseline release") :]
    assert block.splitlines()[2].startswith(
        "The release this build is compared with (`contracts.drift.baseline`): data_v1.0."
    )
    assert "| tag | data_v1.0 |" in block


def test_trend_shows_each_label_share_and_annotator_per_release_then_this_build():
    section = _section(render(data(trend=TREND)), "trend")
    assert "<th class=n>data_v1.0</th><th class=n>this build</th>" in section
    # a share in percent per release; a label the release did not have is blank
    assert "<td>投诉</td><td class=n></td><td class=n>5</td>" in section
    assert "<td>账户问题</td><td class=n>40</td><td class=n>25</td>" in section
    assert "<td>li_na</td><td>agreement</td><td class=n>0.99</td><td class=n>0.91</td>" in section
    assert "<td>zhao_lei</td><td>gold accuracy</td><td class=n></td><td class=n></td>" in section
    card = render_card(data(trend=TREND), SECTION, {"export": {"dataset_name": "demo"}})
    block = card[card.index("## Across releases") :]
    assert "| label | data_v1.0 | this build |" in block
    assert "| li_na | agreement | 0.99 | 0.91 |" in block
    assert "not available" in _section(render(data()), "trend")


def test_release_summary_says_the_report_shows_the_previous_release():
    from ftdata.release import ReleaseResult, release_markdown

    manifest = {
        "git_commit": "f" * 40,
        "params_hash": "p" * 12,
        "counts": {"exported_records": 3, "raw_records": 5, "splits": {"train": 3}},
    }
    result = ReleaseResult(
        version="1.1",
        tag="data_v1.1",
        commit="c" * 40,
        manifest_path="data/release/manifest.json",
        manifest=manifest,
        remote={},
        pushed=0,
        previous="data_v1.0",
    )
    text = release_markdown(result)
    assert "built before it: their release section shows data_v1.0" in text
    assert "`git show data_v1.1:data/release/manifest.json`" in text
    first = release_markdown(ReleaseResult(**{**result.as_dict(), "previous": None}))
    assert "shows no release (this is the first)" in first
