"""Agreement figures against hand-computed and published values; consensus; gates."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ftdata.annotate import agreement as ag
from ftdata.annotate.gates import enforce, evaluate
from ftdata.errors import GateError


def votes_of(rows: list[tuple[str, str, str]], batch: str = "b1") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"item": i, "batch": batch, "annotator": a, "label": lab, "guideline_version": "2.0"}
            for i, a, lab in rows
        ]
    )


def test_percent_agreement_counts_items_where_every_vote_agrees():
    votes = votes_of(
        [
            ("i1", "a", "x"),
            ("i1", "b", "x"),
            ("i1", "c", "x"),
            ("i2", "a", "x"),
            ("i2", "b", "y"),
            ("i2", "c", "x"),
            ("i3", "a", "y"),
            ("i3", "b", "y"),
            ("i4", "a", "z"),
        ]  # one vote: not counted
    )
    value, n = ag.percent_agreement(votes)
    assert (value, n) == (pytest.approx(2 / 3), 3)
    # pairs: i1 3/3, i2 1/3, i3 1/1 -> 5 of 7
    assert ag.pairwise_agreement(votes) == pytest.approx(5 / 7)


def test_cohen_kappa_matches_the_hand_computed_value():
    # 10 items, a and b agree on 8; marginals a: x6 y4, b: x6 y4 -> po .8, pe .52, kappa .28/.48 = 7/12
    a = ["x"] * 6 + ["y"] * 4
    b = ["x", "x", "x", "x", "x", "y", "y", "y", "y", "x"]
    rows = [(f"i{n}", "a", la) for n, la in enumerate(a)] + [
        (f"i{n}", "b", lb) for n, lb in enumerate(b)
    ]
    kappas = ag.cohen_kappas(votes_of(rows))
    assert kappas["a|b"]["items"] == 10
    assert kappas["a|b"]["agreement"] == 0.8
    assert kappas["a|b"]["kappa"] == pytest.approx(7 / 12, abs=1e-4)


def test_krippendorff_alpha_reproduces_the_published_nominal_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 observers x 12 units: nominal 0.743
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    rows = [
        (f"u{u:02d}", obs, f"label{v}")
        for obs, vals in data.items()
        for u, v in enumerate(vals)
        if v
    ]
    assert ag.krippendorff_alpha(votes_of(rows)) == pytest.approx(0.743, abs=1e-3)


def test_alpha_and_kappa_are_undefined_not_perfect_when_only_one_label_is_used():
    votes = votes_of([("i1", "a", "x"), ("i1", "b", "x"), ("i2", "a", "x"), ("i2", "b", "x")])
    assert ag.krippendorff_alpha(votes) is None
    assert ag.cohen_kappas(votes)["a|b"]["kappa"] is None


def test_per_level_agreement_is_higher_where_annotators_differ_only_at_the_leaf():
    votes = votes_of(
        [
            ("i1", "a", "P>分期>办理"),
            ("i1", "b", "P>年费>政策"),
            ("i2", "a", "A>卡>挂失"),
            ("i2", "b", "A>卡>冻结"),
        ]
    )
    levels = ag.by_level(votes, 3)
    assert [levels[str(n)]["percent_agreement"] for n in (1, 2, 3)] == [1.0, 0.5, 0.0]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["x", "x", "y"], "x"),  # 2 of 3
        (["x", "y", "z"], None),  # three-way split
        (["x", "y"], None),  # tie
        (["x"], None),  # one vote is not a consensus
        (["x", "x"], "x"),
    ],
)
def test_consensus_needs_a_strict_majority_of_enough_votes(labels, expected):
    assert ag.consensus_of(labels, min_annotators=2, min_share=0.6).label == expected


def test_wilson_interval_known_values():
    low, high = ag.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = ag.wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(0.7225, abs=1e-4)
    low, high = ag.wilson_interval(143, 150, 0.95)
    p, z, n = 143 / 150, 1.959964, 150
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    assert (low + high) / 2 == pytest.approx(centre, abs=1e-4)
    assert ag.wilson_interval(0, 0) == (None, None)


def test_gold_accuracy_per_batch_and_annotator():
    votes = pd.concat(
        [
            votes_of(
                [("g1", "a", "x"), ("g2", "a", "y"), ("g1", "b", "x"), ("g2", "b", "x")], "b1"
            ),
            votes_of([("g3", "a", "z")], "b2"),
        ]
    )
    table = ag.gold_accuracy(votes, {"g1": "x", "g2": "y", "g3": "q"})
    got = {
        (r["batch"], r["annotator"]): (r["gold_items"], r["gold_correct"])
        for r in table.to_dict("records")
    }
    assert got == {("b1", "a"): (2, 2), ("b1", "b"): (2, 1), ("b2", "a"): (1, 0)}


def test_crowdlab_rates_the_careless_annotator_lowest():
    texts, rows = {}, []
    labels = ["账单查询", "积分兑换", "分期办理"]
    phrases = {
        "账单查询": "这个月账单多少钱",
        "积分兑换": "积分怎么兑换礼品",
        "分期办理": "账单分期怎么办理",
    }
    for n in range(60):
        truth = labels[n % 3]
        item = f"i{n:02d}"
        texts[item] = f"{phrases[truth]} {n}"
        rows += [(item, "good1", truth), (item, "good2", truth)]
        careless = labels[(n + 1) % 3] if n % 3 == 0 or n % 5 == 0 else truth
        rows.append((item, "careless", careless))
    quality = ag.crowd_quality(votes_of(rows), texts, folds=3, seed=0)
    assert quality.method == "cleanlab-crowdlab"
    q = quality.annotator_quality
    assert q["careless"] < min(q["good1"], q["good2"])
    assert quality.suggested["i00"] == "账单查询"


def _report(accuracy: float, agreement: float, gold_items: int = 40, multi: int = 200) -> dict:
    return {
        "by_batch": {
            "batch_02": {
                "percent_agreement": agreement,
                "items_multi": multi,
                "annotators": {
                    "li_na": {
                        "gold_items": gold_items,
                        "gold_correct": gold_items,
                        "gold_accuracy": 1.0,
                        "agreement_with_consensus": 0.99,
                    },
                    "zhao_lei": {
                        "gold_items": gold_items,
                        "gold_correct": round(accuracy * gold_items),
                        "gold_accuracy": accuracy,
                        "agreement_with_consensus": 0.71,
                    },
                },
            }
        }
    }


GATES = {
    "accuracy": {"min": 0.95, "mode": "fail", "min_items": 20},
    "agreement": {"min": 0.9, "mode": "fail", "min_items": 20},
}


def test_a_failing_gate_names_the_batch_the_annotator_and_the_figure():
    results = evaluate(
        _report(0.75, 0.82), GATES, {"batch_02": "data/raw/annotations/doccano/batch_02"}
    )
    with pytest.raises(GateError) as err:
        enforce(results, "data/metrics/annotate.json")
    msg = str(err.value)
    assert (
        "gate `accuracy` failed for batch `batch_02` (data/raw/annotations/doccano/batch_02)" in msg
    )
    assert "annotator `zhao_lei` gold accuracy 0.750 (30 of 40 gold items) < 0.95" in msg
    assert (
        "gate `agreement` failed for batch `batch_02`" in msg
        and "percent agreement 0.820 over 200 items" in msg
    )
    assert "lowest annotator `zhao_lei`" in msg
    assert err.value.exit_code == 4


def test_warn_mode_reports_without_stopping_and_small_slices_are_not_gated():
    warn = {k: {**v, "mode": "warn"} for k, v in GATES.items()}
    warned = enforce(evaluate(_report(0.75, 0.82), warn, {}), "m.json")
    assert {(r.gate, r.annotator) for r in warned} == {
        ("accuracy", "zhao_lei"),
        ("agreement", "zhao_lei"),
    }
    assert evaluate(_report(0.5, 0.5, gold_items=5, multi=5), GATES, {}) == []
    assert all(r.passed for r in evaluate(_report(0.975, 0.93), GATES, {}))
    assert not math.isnan(evaluate(_report(0.975, 0.93), GATES, {})[0].figure)
