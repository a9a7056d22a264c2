"""The figures the README quotes about the example build are the committed metrics' figures.

Reads data/metrics/*.json as committed (no build): after a change that moves a count,
rebuilding the example and committing the metrics makes this test name every README
figure to update. Each quote must still be in the README, so a rewrite that drops one
updates this list too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _metrics(name: str) -> dict:
    path = ROOT / "data/metrics" / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not committed (the example is not built)")
    return json.loads(path.read_text(encoding="utf-8"))


def _release_line() -> dict:
    summary = _metrics("summary")
    return {
        "exported": summary["exported_records"],
        "raw": summary["raw_records"],
        **{split: summary["splits"][split] for split in ("train", "val", "test")},
    }


def _evaluation() -> dict:
    ev = _metrics("evaluate")
    return {
        "scored": ev["scored"],
        "labelled": ev["labelled_split_records"],
        "accuracy": f"{ev['accuracy']:.3f}",
        "macro_f1": f"{ev['macro_f1']:.3f}",
        "level1": f"{ev['levels']['1']['accuracy']:.3f}",
        "hard": ev["hard_examples"],
        "rejected": ev["rejected_total"],
    }


def _decontamination() -> dict:
    faq = _metrics("split")["decontaminate"]["benchmarks"]["bank_faq_eval"]
    return {"texts": faq["texts"], "rejected": faq["contaminated"], **faq["by_method"]}


def _label_issues() -> dict:
    m = _metrics("label_issues")
    return {
        "flagged": m["flagged"],
        "checked": f"{m['in']:,}",
        **{f"l{level}": m["levels"][str(level)]["flagged"] for level in (1, 2, 3)},
    }


def _tokens() -> dict:
    tokens = _metrics("summary")["tokens"]
    train = tokens["splits"]["train"]
    return {"total": f"{tokens['total']:,}", "train": f"{train['tokens']:,}", "p95": train["p95"]}


def _preference() -> dict:
    m = _metrics("preference")
    kto = sum(k["desirable"] + k["undesirable"] for k in m["kto"].values())
    return {"records": m["in"], "pairs": sum(m["pairs"].values()), **m["pairs"], "kto": kto}


# (what the README says, a pattern with named groups, the committed figures)
QUOTES = [
    (
        "`ftdata release 1.0` output",
        r"- (?P<exported>\d+) records exported \(test (?P<test>\d+), train (?P<train>\d+), "
        r"val (?P<val>\d+)\) of (?P<raw>\d+) raw",
        _release_line,
    ),
    (
        "Evaluation and production feedback",
        r"(?P<scored>\d+) of (?P<labelled>\d+)\s+labelled test records scored, accuracy "
        r"(?P<accuracy>[\d.]+), macro-F1 (?P<macro_f1>[\d.]+) at the leaf\s+\((?P<level1>[\d.]+) "
        r"at level 1\), (?P<hard>\d+) hard examples, (?P<rejected>\d+) planted bad lines rejected",
        _evaluation,
    ),
    (
        "Decontamination against benchmark sets",
        r"(?P<texts>\d+) held-out FAQ questions reject (?P<rejected>\d+) train records "
        r"\(exact (?P<exact>\d+), n-gram (?P<ngram>\d+),\s+MinHash (?P<minhash>\d+);",
        _decontamination,
    ),
    (
        "Label-error detection",
        r"The example flags (?P<flagged>\d+) of its (?P<checked>[\d,]+) labelled records\s+"
        r"\(level 1: (?P<l1>\d+), level 2: (?P<l2>\d+), level 3: (?P<l3>\d+)\)",
        _label_issues,
    ),
    (
        "Token budgets",
        r"The example: (?P<total>[\d,]+) tokens, (?P<train>[\d,]+) of\s+them in train "
        r"\(p95 (?P<p95>\d+) tokens a record\)",
        _tokens,
    ),
    (
        "Preference data from production feedback",
        r"The example's (?P<records>\d+) adjudicated agent corrections give (?P<pairs>\d+) pairs "
        r"\(train (?P<train>\d+), val (?P<val>\d+), test (?P<test>\d+)\) and (?P<kto>\d+)\s+KTO",
        _preference,
    ),
]


@pytest.mark.parametrize(("where", "pattern", "figures"), QUOTES, ids=[q[0] for q in QUOTES])
def test_readme_figures_match_the_committed_metrics_of_the_example(where, pattern, figures):
    found = list(re.finditer(pattern, README))
    assert found, (
        f"README no longer quotes the {where} figures: update tests/unit/test_readme_numbers.py"
    )
    expected = {k: str(v) for k, v in figures().items()}
    for match in found:
        quoted = match.groupdict()
        stale = {
            k: f"README {quoted[k]}, metrics {expected[k]}"
            for k in quoted
            if quoted[k] != expected[k]
        }
        assert not stale, f"README ({where}) is stale: {stale}"


def test_readme_quotes_no_walkthrough_count_the_example_cannot_back():
    # The helpdesk walkthrough builds a project of its own; its counts were once quoted and went stale.
    assert not re.search(r"ingest \d+ -> export \d+", README)
