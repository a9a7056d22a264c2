"""Rule-based augmentation ops: what each makes, lineage of every child, determinism."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.augment import rules
from ftdata.augment.engine import filter_children, leak_guard, rule_op_params, splits_of
from ftdata.compose import compose_params
from ftdata.ops.split import group_keys
from tests.conftest import ROOT
from tests.helpers import chat

AUGMENT = compose_params(ROOT)["augment"]


def batch(*records: dict, variants: int = 1) -> pd.DataFrame:
    df = pd.DataFrame(list(records)).astype(object)
    df["_variants"] = variants
    return df


def run(op: str, df: pd.DataFrame, **override) -> list[dict]:
    params = {**rule_op_params(AUGMENT, op), **override}
    return getattr(rules, op)(df, **params).kept.to_dict("records")


def test_dialect_rewrites_user_turns_longest_phrase_first_and_keeps_the_answer():
    parent = chat(
        ("user", "怎么查账单？没有收到短信"),
        ("assistant", "您好，没有收到账单短信可以在APP查询。"),
        lang="zh",
    )
    [child] = run("dialect", batch(parent))
    assert child["messages"][0]["content"] == "点样查账单？冇收到短信"
    assert (
        child["messages"][1] == parent["messages"][1]
    )  # the agent's answer is not dialect-rewritten
    assert '"dialect":"yue"' in child["meta"]


def test_dialect_skips_english_and_records_with_nothing_to_rewrite():
    en = chat(
        ("user", "How do I check my bill?"), ("assistant", "Open the app."), line=2, lang="en"
    )
    plain = chat(("user", "积分兑换礼品"), ("assistant", "请到积分商城。"), line=3, lang="zh")
    assert run("dialect", batch(en, plain)) == []


def test_synonym_replaces_dictionary_words_found_by_jieba_and_variants_differ():
    parent = chat(
        ("user", "请问怎么查询信用卡账单"), ("assistant", "登录手机银行即可查询账单。"), lang="zh"
    )
    children = run("synonym", batch(parent, variants=3), max_replacements=2)
    assert 1 <= len(children) <= 3
    questions = [c["messages"][0]["content"] for c in children]
    assert len(set(questions)) == len(questions)
    for q in questions:
        assert q != parent["messages"][0]["content"]
        assert "信用卡" in q  # not in the dictionary: never touched
    assert all(c["messages"][1] == parent["messages"][1] for c in children)


def test_synonym_uses_word_segmentation_not_substrings():
    # 可以 is in the dictionary, but 可以 inside 可以下 ... is still a word here; 多久 inside 多久了 too.
    # 查询 must not be replaced inside a longer dictionary-unknown token such as 查询机.
    tokens = rules.tokens("怎么查询积分", "zh", ("怎么", "查询"))
    assert "".join(tokens) == "怎么查询积分"
    assert "怎么" in tokens and "查询" in tokens


def test_english_synonyms_keep_capitalisation():
    parent = chat(("user", "Check my statement please"), ("assistant", "Open the app."), lang="en")
    [child] = run("synonym", batch(parent), max_replacements=2)
    q = child["messages"][0]["content"]
    assert q != "Check my statement please"
    assert q[0].isupper()


def test_qa_to_dialogue_and_back_round_trip():
    qa = chat(("user", "积分有效期是多久？"), ("assistant", "积分有效期为3年。"), lang="zh")
    [dialogue] = run("qa_to_dialogue", batch(qa))
    roles = [m["role"] for m in dialogue["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert dialogue["messages"][2:] == qa["messages"]
    back = run("dialogue_to_qa", batch(dialogue))
    assert [m["content"] for m in back[0]["messages"]] == [
        "积分有效期是多久？",
        "积分有效期为3年。",
    ]


def test_dialogue_to_qa_strips_greetings_and_joins_user_turns():
    rec = chat(
        ("user", "你好客服"),
        ("user", "我想问下积分怎么兑换礼品"),
        ("assistant", "您好，您可以通过积分商城兑换。"),
        ("user", "谢谢"),
        ("assistant", "不客气。"),
        lang="zh",
    )
    [child] = run("dialogue_to_qa", batch(rec))
    assert [m["content"] for m in child["messages"]] == [
        "积分怎么兑换礼品",
        "您可以通过积分商城兑换。",
    ]


def test_multiturn_to_qa_makes_one_pair_per_substantive_exchange_and_skips_identity_checks():
    rec = chat(
        ("user", "你好"),
        ("assistant", "您好，请问有什么可以帮您？"),
        ("user", "临时额度怎么申请"),
        ("assistant", "可在APP申请临时额度。"),
        ("user", "手机号<PHONE>"),
        ("assistant", "已核实。"),
        ("user", "临时额度会影响征信吗"),
        ("assistant", "不会影响征信。"),
        lang="zh",
        label="账户问题>额度>额度调整",
    )
    children = run("multiturn_to_qa", batch(rec))
    assert [c["messages"][0]["content"] for c in children] == [
        "临时额度怎么申请",
        "临时额度会影响征信吗",
    ]
    assert {c["label"] for c in children} == {"账户问题>额度>额度调整"}
    assert len({c["id"] for c in children}) == 2


def test_every_child_has_lineage_a_derived_id_and_the_parents_conversation():
    parent = chat(
        ("user", "怎么查账单"), ("assistant", "在APP查询。"), lang="zh", conversation_id="chat:S1"
    )
    for op in ("dialect", "synonym", "qa_to_dialogue"):
        [child, *_] = run(op, batch(parent))
        assert child["source_kind"] == "augment"
        assert child["parents"] == [parent["id"]]
        assert child["ops"][-1]["stage"] == "augment" and child["ops"][-1]["op"] == op
        assert child["conversation_id"] == "chat:S1"
        assert child["id"] != parent["id"] and len(child["id"]) == 16
        assert child["source"] == parent["source"] and child["license"] == parent["license"]


def test_same_parent_and_params_give_byte_identical_children_and_seed_changes_ids():
    parent = chat(
        ("user", "请问怎么查询账单，为什么没有收到"), ("assistant", "在APP查询。"), lang="zh"
    )
    first = run("synonym", batch(parent, variants=2))
    again = run("synonym", batch(parent, variants=2))
    assert first == again
    reseeded = run("synonym", batch(parent, variants=2), seed=7)
    assert {c["id"] for c in reseeded}.isdisjoint({c["id"] for c in first})


def test_a_child_never_depends_on_other_records_in_the_batch():
    a = chat(("user", "请问怎么查询账单"), ("assistant", "在APP查询。"), line=1, lang="zh")
    b = chat(("user", "为什么额度没有提高"), ("assistant", "请稍后再试。"), line=2, lang="zh")
    alone = run("synonym", batch(a))
    together = [c for c in run("synonym", batch(b, a)) if c["parents"] == [a["id"]]]
    assert alone == together


def test_children_duplicating_a_record_are_rejected_but_closeness_to_the_own_parent_is_allowed():
    parent = chat(
        ("user", "怎么查账单"),
        ("assistant", "您好，登录手机银行APP即可查询本期与历史账单明细。"),
        line=1,
        lang="zh",
    )
    other = chat(
        ("user", "点样查账单"),
        ("assistant", "您好，登录手机银行APP即可查询本期与历史账单明细。"),
        line=2,
        lang="zh",
    )
    existing = pd.DataFrame([parent, other]).astype(object)
    [dialect_child] = run("dialect", batch(parent))  # equals `other` exactly
    [synonym_child] = run("synonym", batch(parent))  # close to its own parent only
    accepted, rejected = filter_children(existing, [dialect_child, synonym_child], {"near": True})
    assert [c["id"] for c in accepted] == [synonym_child["id"]]
    assert rejected[0]["reason"] == "exact_duplicate" and rejected[0]["duplicate_of"] == other["id"]


def test_leak_guard_keeps_children_with_their_parents_group():
    records = [
        chat(("user", f"问题{i}号：怎么查账单"), ("assistant", "在APP查询。"), line=i, lang="zh")
        for i in range(40)
    ]
    df = pd.DataFrame(records).astype(object)
    split_params = {"ratios": {"train": 0.5, "val": 0.25, "test": 0.25}, "seed": 42}
    splits = splits_of(df, split_params)
    children = run("dialect", batch(*records))
    ok, leaked = leak_guard(df, children, split_params, splits)
    parent_split = dict(zip(df["id"], splits, strict=True))
    assert {c["id"] for c in ok} == {
        c["id"] for c in children if parent_split[c["parents"][0]] == "train"
    }
    assert {c["reason"] for c in leaked} <= {"split_leak"}
    assert len(ok) and len(leaked)  # both cases occur with these ratios
    combined = pd.concat([df, pd.DataFrame(children).astype(object)], ignore_index=True)
    keys = dict(zip(combined["id"], group_keys(combined), strict=True))
    assert all(keys[c["id"]] == keys[c["parents"][0]] for c in children)


def test_unknown_rule_op_in_config_names_the_key():
    from ftdata.errors import ConfigError

    with pytest.raises(ConfigError, match=r"augment.ops.*'synonym'"):
        rule_op_params(AUGMENT, "synonyms")


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_the_prefix_index_finds_every_pair_at_or_above_the_threshold(threshold):
    """The val/test guard is exhaustive: the index must propose every pair brute force accepts."""
    import random

    from ftdata.augment.engine import PrefixIndex
    from ftdata.ops.dedup import jaccard, shingles

    rng = random.Random(7)
    alphabet = "信用卡账单还款逾期积分兑换挂失补卡额度分期年费怎么查询"
    base = ["".join(rng.choice(alphabet) for _ in range(rng.randint(4, 40))) for _ in range(60)]
    # near copies: a few characters changed, dropped or added, so many pairs sit near the threshold
    held = base + [
        "".join(c if rng.random() > 0.08 else rng.choice(alphabet) for c in t)[rng.randint(0, 2) :]
        for t in base
    ]
    probes = [t + rng.choice(["", "吗", "呢呢"]) for t in held[::3]] + ["", "短"]
    held_sets = [shingles(t, 3) for t in held]
    index = PrefixIndex(held_sets, threshold)
    found = 0
    for probe in probes:
        own = shingles(probe, 3)
        want = {j for j, other in enumerate(held_sets) if jaccard(own, other) >= threshold}
        got = set(index.candidates(own))
        assert want <= got, (probe, sorted(want - got))
        found += len(want)
    assert found > 10  # the check exercised real near pairs
