"""A build's report and card show the release *before* the build (the manifest is written by
`ftdata release` after the build it tags), and say so instead of passing it off as this one."""

from __future__ import annotations

from ftdata.dataset_card import render_card
from ftdata.report_html import render
from tests.unit.test_report_html import data

MANIFEST = {"tag": "data_v1.0", "version": "1.0", "message": "First release", "git_commit": "abc"}
SECTION = {"thin_label_min": 2, "card": {"summary": "S."}}


def test_report_names_the_manifest_as_the_previous_release():
    page = render(data(manifest=MANIFEST))
    section = page[page.index('<section id="release">') :]
    section = section[: section.index("</section>")]
    assert "<h2>Previous release</h2>" in section
    assert "The last release before this build: data_v1.0" in section
    assert "built before its own release is cut" in section


def test_card_names_the_manifest_as_the_previous_release():
    card = render_card(data(manifest=MANIFEST), SECTION, {"export": {"dataset_name": "demo"}})
    assert "## Last release" not in card
    block = card[card.index("## Previous release") :]
    assert block.splitlines()[2].startswith("The last release before this build: data_v1.0.")
    assert "| tag | data_v1.0 |" in block


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
