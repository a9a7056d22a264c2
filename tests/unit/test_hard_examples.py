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


# ------------------------------------------------------------------ scale: cap and search
def _many():
    """Forty records: near-identical overdue questions, a repay one close to them, fillers."""
    texts = [f"信用卡逾期了会影响征信吗第{i}次" for i in range(12)]  # 0-11 overdue
    texts += ["信用卡逾期了会影响征信吗怎么还款"]  # 12 repay: close to the overdue ones
    texts += [f"积分可以兑换哪些礼品编号{i}" for i in range(27)]  # 13-39 points
    labels = [OVERDUE] * 12 + [REPAY] + [POINTS] * 27
    return texts, labels, [f"r{i}" for i in range(len(texts))]


def test_over_the_cap_only_a_hash_chosen_sample_is_mined_each_against_every_record():
    from ftdata.augment.hard import mined_rows

    texts, labels, ids = _many()
    known = {pair_key(OVERDUE, REPAY): "conf"}
    full = mine(texts, labels, ids, known_pairs=known, pair_similarity=0.3, search="foreign")
    capped = mine(
        texts, labels, ids, known_pairs=known, pair_similarity=0.3, search="foreign", max_mined=15
    )
    picked = set(mined_rows(texts, ids, 15))
    assert (capped.mined, capped.skipped) == (15, 25) and (full.mined, full.skipped) == (40, 0)
    for i in range(len(texts)):
        if i in picked:  # exact: the same flag and partner as mining everything
            assert (capped.hard[i], capped.partner[i], capped.similarity[i]) == (
                full.hard[i],
                full.partner[i],
                full.similarity[i],
            )
        else:  # not mined: unknown, not "not hard"
            assert capped.hard[i] is None and capped.partner[i] is None
    # the sample holds overdue records (8, 9): they still find their repay partner, which is
    # outside the sample (mined records are searched against all records)
    assert picked & {8, 9} and 12 not in picked
    assert all(capped.hard[i] and capped.partner[i] == "r12" for i in picked & {8, 9})
    # the choice depends on each record's text alone: not on input order, not on the other rows
    order = list(reversed(range(len(texts))))
    again = mined_rows([texts[i] for i in order], [ids[i] for i in order], 15)
    assert {ids[order[r]] for r in again} == {ids[r] for r in picked}
    assert set(mined_rows(texts[:30], ids[:30], 15)) <= picked | set(range(30))
    # a record in the sample stays in it when records with larger hashes are added
    small = mined_rows(texts + ["新的记录"], ids + ["new"], 15)
    assert len(small) == 15 and len(set(small) & picked) >= 14


def test_under_the_cap_mining_is_unchanged():
    texts, labels, ids = _many()
    known = {pair_key(OVERDUE, REPAY): "conf"}
    a = mine(texts, labels, ids, known_pairs=known, pair_similarity=0.3)
    b = mine(texts, labels, ids, known_pairs=known, pair_similarity=0.3, max_mined=40)
    assert (a.hard, a.partner, a.similarity, a.why) == (b.hard, b.partner, b.similarity, b.why)
    assert None not in a.hard and a.skipped == 0


def test_foreign_search_finds_the_known_pair_behind_many_same_label_neighbours():
    texts, labels, ids = _many()
    known = {pair_key(OVERDUE, REPAY): "conf"}
    # the overdue records' 5 nearest are all overdue: the neighbours search never sees a repay one
    near = mine(texts, labels, ids, known_pairs=known, pair_similarity=0.3, neighbours=5)
    assert not any(near.hard[:12])
    far = mine(
        texts, labels, ids, known_pairs=known, pair_similarity=0.3, neighbours=5, search="foreign"
    )
    assert all(far.hard[:12]) and set(far.partner[:12]) == {"r12"}
    assert far.why[0] == "conf" and far.hard[12] and labels[ids.index(far.partner[12])] == OVERDUE
    assert not any(far.hard[13:])  # points are far from everything
    again = mine(
        texts, labels, ids, known_pairs=known, pair_similarity=0.3, neighbours=5, search="foreign"
    )
    assert (far.hard, far.partner, far.similarity) == (again.hard, again.partner, again.similarity)
