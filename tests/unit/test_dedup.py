"""dedup: exact (normalised) and near (MinHash LSH + verified Jaccard) duplicates, keep the first."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import ftdata.ops.dedup as dedup_mod
from ftdata.errors import ConfigError
from ftdata.ops.dedup import (
    dedup,
    near_duplicate_clusters,
    normalise_for_dedup,
    shingles,
)
from ftdata.reasons import Reason
from ftdata.runner import OpCall, apply_op


def make_batch(texts: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    ids = ids or [f"r{i:03d}" for i in range(len(texts))]
    return pd.DataFrame(
        {
            "id": ids,
            "source": ["chat_logs"] * len(texts),
            "locator": [f"chat.jsonl:{i + 1}" for i in range(len(texts))],
            "conversation_id": ids,
            "messages": [[{"role": "user", "content": t}] for t in texts],
            "text": [None] * len(texts),
            "label": [None] * len(texts),
            "parents": [[] for _ in texts],
            "ops": [[] for _ in texts],
        },
        dtype=object,
    )


def rejected_by_id(result) -> dict[str, dict]:
    return {row["id"]: row for row in result.rejected.to_dict("records")}


def exhaustive_candidates(index, keys) -> np.ndarray:
    """Worst-case LSH: every pair is a candidate, so only the Jaccard check decides."""
    rows = sorted(int(i) for i in index)
    pairs = [(a, b) for k, a in enumerate(rows) for b in rows[k + 1 :]]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


@pytest.fixture
def exhaustive_lsh(monkeypatch):
    monkeypatch.setattr(dedup_mod, "band_candidates", exhaustive_candidates)


# ------------------------------------------------------------------ helpers
def test_normalise_for_dedup_drops_case_width_whitespace_and_zh_en_punctuation():
    assert normalise_for_dedup("Ｈｅｌｌｏ，  World！\n【测试】“引号”…") == "helloworld测试引号"
    assert normalise_for_dedup("我的信用卡账单怎么查询？") == "我的信用卡账单怎么查询"
    # symbols and digits are content, not punctuation
    assert normalise_for_dedup("额度+1000元") == "额度+1000元"


def test_shingles_are_character_ngrams_and_short_text_is_one_shingle():
    assert shingles("abcdef", 5) == {"abcde", "bcdef"}
    assert shingles("查账单", 5) == {"查账单"}
    assert shingles("", 5) == set()


def test_near_duplicate_clusters_returns_first_member_index_per_item():
    texts = [
        "积分可以兑换哪些礼品",
        "我的信用卡账单怎么查询？",
        "我的信用卡账单怎么查询啊",
        "信用卡丢了怎么挂失补卡",
    ]
    assert near_duplicate_clusters(texts) == [0, 1, 1, 3]


# ------------------------------------------------------------------ near duplicates
def test_chinese_near_duplicate_is_rejected_and_points_at_first_occurrence():
    batch = make_batch(
        ["我的信用卡账单怎么查询？", "积分可以兑换哪些礼品", "我的信用卡账单怎么查询啊"]
    )
    result = dedup(batch)
    assert list(result.kept["id"]) == ["r000", "r001"]
    row = rejected_by_id(result)["r002"]
    assert row["reason"] == Reason.NEAR_DUPLICATE
    assert row["duplicate_of"] == "r000"
    assert row["detail"] == "near duplicate of r000 (jaccard 0.88)"


def test_english_sentence_with_one_word_changed_is_near_duplicate():
    first = (
        "I would like to know how I can check the statement of my credit card online, "
        "and whether the bill can be paid automatically every month from my savings account."
    )
    changed = first.replace("every month", "each month")
    result = dedup(make_batch([first, "How do I raise my credit limit?", changed]))
    row = rejected_by_id(result)["r002"]
    assert row["reason"] == Reason.NEAR_DUPLICATE
    assert row["duplicate_of"] == "r000"


def test_variants_of_many_questions_are_all_caught():
    questions = [
        f"请问我的信用卡{topic}应该怎么办理，需要准备哪些材料，大概多久可以处理完成"
        for topic in (
            "账单分期",
            "积分兑换",
            "逾期还款",
            "额度调整",
            "挂失补卡",
            "年费减免",
            "自动还款",
            "销户注销",
        )
    ]
    variants = [q + "呢" for q in questions] + [q.replace("请问", "您好") for q in questions]
    result = dedup(make_batch(questions + variants))
    assert list(result.kept["id"]) == [f"r{i:03d}" for i in range(len(questions))]
    assert set(result.rejected["reason"]) == {Reason.NEAR_DUPLICATE}


def test_unrelated_texts_sharing_boilerplate_are_not_merged():
    greeting = "您好，这里是信用卡中心智能客服，很高兴为您服务。"
    signoff = " -- Sent from the Bank Card mobile app, please do not reply."
    texts = [
        greeting + "我想查询一下本月的账单金额",
        greeting + "积分兑换的礼品什么时候发货",
        greeting + "我的卡丢了需要挂失补办",
        "Can I split my last purchase into twelve instalments?" + signoff,
        "Why was an annual fee charged on my card this year?" + signoff,
    ]
    result = dedup(make_batch(texts))
    assert len(result.kept) == len(texts)
    assert result.rejected.empty


def test_every_lsh_candidate_is_verified_by_exact_jaccard(exhaustive_lsh):
    # With an LSH that proposes everything, only the Jaccard check stands
    # between these unrelated texts and one big cluster.
    texts = [
        "您好，这里是信用卡中心，我想查询本月账单",
        "您好，这里是信用卡中心，我想办理分期还款",
        "您好，这里是信用卡中心，我想查询本月账单啊",
    ]
    result = dedup(make_batch(texts))
    assert list(result.kept["id"]) == ["r000", "r001"]
    assert rejected_by_id(result)["r002"]["duplicate_of"] == "r000"


def test_chained_near_duplicate_names_the_member_it_was_linked_through(exhaustive_lsh):
    a = "abcdefghijklmnopqrst"
    b = a + "uv"  # J(a, b) = 16/18
    c = b + "wx"  # J(b, c) = 18/20, J(a, c) = 16/20
    result = dedup(make_batch([a, b, c]), threshold=0.85)
    rejected = rejected_by_id(result)
    assert rejected["r001"]["detail"] == "near duplicate of r000 (jaccard 0.89)"
    assert rejected["r002"]["duplicate_of"] == "r000"
    assert (
        rejected["r002"]["detail"]
        == "near duplicate of r000 (jaccard 0.80) via r001 (jaccard 0.90)"
    )


# ------------------------------------------------------------------ exact duplicates
def test_exact_duplicate_differing_only_in_whitespace_and_fullwidth_is_caught():
    batch = make_batch(
        [
            "how do I check my bill?",
            "我的额度是多少？",
            "Ｈｏｗ  ｄｏ Ｉ ｃｈｅｃｋ ｍｙ ｂｉｌｌ？",
            "我的 额度 是多少?",
        ]
    )
    result = dedup(batch, near=False)
    rejected = rejected_by_id(result)
    assert set(rejected) == {"r002", "r003"}
    assert rejected["r002"]["reason"] == Reason.EXACT_DUPLICATE
    assert rejected["r002"]["duplicate_of"] == "r000"
    assert rejected["r003"]["duplicate_of"] == "r001"


def test_exact_dedup_runs_before_near_dedup():
    result = dedup(make_batch(["我的信用卡账单怎么查询？", "我的信用卡账单怎么查询?"]))
    assert rejected_by_id(result)["r001"]["reason"] == Reason.EXACT_DUPLICATE


def test_punctuation_only_records_are_not_merged_with_each_other():
    result = dedup(make_batch(["？？？", "！！！", "？？？"]))
    assert list(result.kept["id"]) == ["r000", "r001"]
    assert rejected_by_id(result)["r002"]["duplicate_of"] == "r000"


def test_exact_duplicate_of_a_near_duplicate_points_at_the_kept_row():
    batch = make_batch(
        ["我的信用卡账单怎么查询？", "我的信用卡账单怎么查询啊", "我的信用卡账单 怎么查询啊！"]
    )
    rejected = rejected_by_id(dedup(batch))
    assert rejected["r002"]["reason"] == Reason.EXACT_DUPLICATE
    assert rejected["r002"]["duplicate_of"] == "r000"
    assert "r001" in rejected["r002"]["detail"] and "r000" in rejected["r002"]["detail"]


def test_messages_and_text_are_both_compared():
    batch = make_batch(["账单怎么查", "账单怎么查"])
    batch.at[1, "text"] = "另外积分怎么兑换"
    assert dedup(batch, near=False).rejected.empty


# ------------------------------------------------------------------ accounting, determinism
def corpus(n_topics: int = 60, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    topics = ["账单", "积分", "逾期", "额度", "挂失", "分期", "年费", "还款"]
    texts = []
    for i in range(n_topics):
        base = f"第{i}号客户咨询{rng.choice(topics)}问题：" + "".join(
            rng.choice("信用卡银行客服查询办理申请手续费利息优惠活动") for _ in range(30)
        )
        texts.append(base)
        if i % 3 == 0:
            texts.append(base + "谢谢")  # near duplicate
        if i % 4 == 0:
            texts.append(" ".join(base))  # exact after normalisation
    return texts


def test_kept_plus_rejected_accounts_for_every_row_and_duplicate_of_is_kept():
    batch = make_batch(corpus())
    result = dedup(batch)
    assert len(result.kept) + len(result.rejected) == len(batch)
    assert sorted(result.kept["id"]) == sorted(set(batch["id"]) - set(result.rejected["id"]))
    kept_ids = set(result.kept["id"])
    assert set(result.rejected["duplicate_of"]) <= kept_ids
    assert list(result.kept["dup_cluster"]) == list(result.kept["id"])
    assert {Reason.EXACT_DUPLICATE, Reason.NEAR_DUPLICATE} <= set(result.rejected["reason"])


def test_same_input_twice_gives_identical_output():
    batch = make_batch(corpus())
    first, second = dedup(batch.copy()), dedup(batch.copy())
    pd.testing.assert_frame_equal(first.kept, second.kept)
    pd.testing.assert_frame_equal(first.rejected, second.rejected)


def clusters_of(result) -> tuple[set[frozenset[str]], dict[str, str]]:
    rep = {rid: rid for rid in result.kept["id"]}
    rep.update(zip(result.rejected["id"], result.rejected["duplicate_of"], strict=True))
    groups: dict[str, set[str]] = {}
    for rid, r in rep.items():
        groups.setdefault(r, set()).add(rid)
    return {frozenset(g) for g in groups.values()}, rep


def test_permuting_input_changes_only_which_member_is_kept():
    batch = make_batch(corpus())
    order = list(range(len(batch)))
    random.Random(11).shuffle(order)
    shuffled = batch.iloc[order].reset_index(drop=True)

    clusters, _ = clusters_of(dedup(batch))
    shuffled_clusters, shuffled_rep = clusters_of(dedup(shuffled))
    assert shuffled_clusters == clusters
    assert any(len(c) > 1 for c in clusters)
    position = {rid: i for i, rid in enumerate(shuffled["id"])}
    for cluster in shuffled_clusters:
        first = min(cluster, key=position.__getitem__)
        assert {shuffled_rep[rid] for rid in cluster} == {first}


# ------------------------------------------------------------------ params, runner
def test_runs_through_the_runner_with_config_params():
    batch = make_batch(["我的信用卡账单怎么查询？", "我的信用卡账单怎么查询啊", "积分怎么兑换"])
    params = {"exact": True, "near": True, "ngram": 5, "threshold": 0.8, "num_perm": 128, "seed": 1}
    result = apply_op(batch, OpCall("dedup", params), "dedup")
    assert list(result.kept["id"]) == ["r000", "r002"]
    assert list(result.rejected["duplicate_of"]) == ["r000"]
    assert all(ops == [] for ops in result.kept["ops"])  # no text changed: no lineage entry


def test_near_false_keeps_near_duplicates():
    batch = make_batch(["我的信用卡账单怎么查询？", "我的信用卡账单怎么查询啊"])
    assert dedup(batch, near=False).rejected.empty


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"threshold": 1.5}, "dedup.threshold"),
        ({"ngram": 0}, "dedup.ngram"),
        ({"num_perm": 1}, "dedup.num_perm"),
    ],
)
def test_bad_params_raise_config_error_naming_the_key(params, key):
    with pytest.raises(ConfigError, match=key):
        dedup(make_batch(["a", "b"]), **params)
