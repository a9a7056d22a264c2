"""Hard-example mining: known confusable pairs, evaluation confusion, TF-IDF neighbours."""

from __future__ import annotations

import json

from ftdata.augment.hard import eval_pairs, mine, pair_key

OVERDUE = "账户问题>还款>逾期处理"
REPAY = "账户问题>还款>还款方式"
POINTS = "产品问题>积分规则>兑换流程"

TEXTS = [
    "信用卡逾期了会影响征信吗",  # 0 overdue
    "信用卡还款逾期三天有罚息吗",  # 1 overdue
    "信用卡怎么自动还款",  # 2 repay: close to the overdue ones
    "信用卡还款方式有哪些",  # 3 repay
    "积分可以兑换哪些礼品",  # 4 points: far from everything
    "积分兑换礼品要多久到",  # 5 points
]
LABELS = [OVERDUE, OVERDUE, REPAY, REPAY, POINTS, POINTS]
IDS = [f"r{i}" for i in range(len(TEXTS))]


def test_a_known_confusable_pair_flags_close_records_with_their_partner():
    result = mine(
        TEXTS,
        LABELS,
        IDS,
        known_pairs={pair_key(OVERDUE, REPAY): "conf"},
        min_similarity=0.99,
        pair_similarity=0.2,
    )
    flagged = {IDS[i] for i, h in enumerate(result.hard) if h}
    assert flagged and flagged <= {"r0", "r1", "r2", "r3"}
    for i, hard in enumerate(result.hard):
        if hard:
            partner = IDS.index(result.partner[i])
            assert {LABELS[i], LABELS[partner]} == {OVERDUE, REPAY}
            assert result.why[i] == "conf"
    assert not result.hard[4] and not result.hard[5]


def test_without_a_known_pair_only_very_close_neighbours_are_hard():
    strict = mine(TEXTS, LABELS, IDS, known_pairs={}, min_similarity=0.99, pair_similarity=0.2)
    assert not any(strict.hard)
    loose = mine(TEXTS, LABELS, IDS, known_pairs={}, min_similarity=0.2, pair_similarity=0.2)
    assert any(loose.hard) and set(w for w in loose.why if w) == {"neighbours"}
    assert sum(loose.pairs.values()) == sum(loose.hard)


def test_unlabelled_records_are_never_hard_nor_partners():
    labels = [OVERDUE, None, REPAY, REPAY, POINTS, POINTS]
    result = mine(TEXTS, labels, IDS, known_pairs={}, min_similarity=0.0, pair_similarity=0.0)
    assert result.hard[1] is False
    assert "r1" not in result.partner


def test_mining_is_deterministic():
    a = mine(TEXTS, LABELS, IDS, known_pairs={}, min_similarity=0.2)
    b = mine(TEXTS, LABELS, IDS, known_pairs={}, min_similarity=0.2)
    assert (a.hard, a.partner, a.similarity) == (b.hard, b.partner, b.similarity)


def test_confusion_matrix_csv_and_json_give_pairs_above_the_share(tmp_path):
    (tmp_path / "confusion.csv").write_text(
        f"true,predicted,count\n{OVERDUE},{OVERDUE},90\n{OVERDUE},{REPAY},10\n{POINTS},{POINTS},99\n{POINTS},{REPAY},1\n",
        encoding="utf-8",
    )
    pairs, files = eval_pairs(tmp_path, min_confusion=0.05)
    assert pairs == {pair_key(OVERDUE, REPAY): 0.1} and len(files) == 1
    (tmp_path / "confusion.csv").unlink()
    (tmp_path / "m.json").write_text(
        json.dumps({"labels": [OVERDUE, REPAY], "matrix": [[8, 2], [0, 10]]}), encoding="utf-8"
    )
    assert eval_pairs(tmp_path, min_confusion=0.05)[0] == {pair_key(OVERDUE, REPAY): 0.2}


def test_predictions_are_scored_against_the_records_labels(tmp_path):
    lines = [
        {"id": "r0", "prediction": REPAY},
        {"id": "r1", "prediction": OVERDUE},
        {"id": "r4", "prediction": POINTS},
    ]
    (tmp_path / "predictions.jsonl").write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8"
    )
    gold = dict(zip(IDS, LABELS, strict=True))
    pairs, _ = eval_pairs(tmp_path, min_confusion=0.3, gold=gold)
    assert pairs == {pair_key(OVERDUE, REPAY): 0.5}
    assert eval_pairs(tmp_path / "missing", min_confusion=0.3, gold=gold) == ({}, [])


def test_a_bad_confusion_file_names_file_line_and_field(tmp_path):
    import pytest

    from ftdata.errors import SourceError

    (tmp_path / "c.csv").write_text("true,predicted,count\na,b,many\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"c.csv:2: field `count`"):
        eval_pairs(tmp_path, min_confusion=0.1)
