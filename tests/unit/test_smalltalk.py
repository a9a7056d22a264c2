"""remove_smalltalk: drop chit-chat turns, reject dialogues with no substantive exchange."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.io import empty_records
from ftdata.ops.smalltalk import (
    DEFAULT_PHRASES,
    drop_smalltalk_turns,
    has_substantive_exchange,
    is_smalltalk,
    remove_smalltalk,
    substance_chars,
)
from ftdata.reasons import Reason
from ftdata.record import new_record
from ftdata.runner import OpCall, apply_op
from tests.helpers import chat


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), dtype=object)


def contents(messages: list[dict]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


def classification(text: str, line: int = 1) -> dict:
    return new_record(
        source="intents",
        source_kind="crowd",
        license="internal",
        locator=f"data/raw/intents.csv:{line}",
        raw=text,
        messages=[],
        text=text,
        label="账单>查询",
    )


@pytest.mark.parametrize(
    "turn",
    [
        "你好", "您好！", "在吗？", "在不在", "你好你好", "谢谢谢谢！", "多谢～", "好的", "好", "嗯",
        "哦。", "再见", "拜拜👋", "没有了，谢谢", "好的谢谢再见", "  嗯嗯  ", "hi", "Hello!!",
        "thanks", "Thank you.", "OK", "okay 👍", "bye bye", "ok thanks", "Thank you very much!",
    ],
)  # fmt: skip
def test_is_smalltalk_matches_phrases_with_punctuation_emoji_and_repetition(turn):
    assert is_smalltalk(turn)


@pytest.mark.parametrize(
    "turn",
    [
        "你好，我想查一下账单", "好像扣了两次年费", "谢谢，另外积分怎么兑换？", "在吗，额度能调高吗",
        "hi, I lost my card", "thanks, what is my minimum payment?", "ok 5000", "没有", "👍", "",
        "hello123",
    ],
)  # fmt: skip
def test_is_smalltalk_rejects_turns_with_substance(turn):
    assert not is_smalltalk(turn)


def test_substance_chars_counts_cjk_letters_digits_but_not_punctuation_or_emoji():
    assert substance_chars("账单，多少？") == 4
    assert substance_chars("Bill: 12 😀 !!") == 6
    assert substance_chars(None) == 0


def test_smalltalk_turns_are_removed_and_counted_through_the_runner():
    rec = chat(
        ("user", "你好"),
        ("assistant", "您好"),
        ("user", "我想查一下本期账单"),
        ("assistant", "您本期账单金额为3,200元，到期还款日为15日。"),
        ("user", "谢谢！"),
        ("assistant", "不客气，再见"),
    )
    result = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean")
    assert len(result.rejected) == 0
    kept = result.kept.iloc[0]
    assert contents(kept["messages"]) == [
        ("user", "我想查一下本期账单"),
        ("assistant", "您本期账单金额为3,200元，到期还款日为15日。"),
    ]
    assert kept["smalltalk_removed"] == 4
    assert [e["op"] for e in kept["ops"]] == ["remove_smalltalk"]


def test_greeting_plus_substance_is_kept_whole_not_stripped():
    rec = chat(("user", "你好，我想查一下账单"), ("assistant", "好的，请提供卡号后四位。"))
    kept = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean").kept.iloc[0]
    assert kept["messages"][0]["content"] == "你好，我想查一下账单"
    assert kept["smalltalk_removed"] == 0
    assert list(kept["ops"]) == []


def test_english_dialogue_keeps_the_substantive_exchange():
    rec = chat(
        ("user", "Hi!"),
        ("assistant", "Hello, how can I help?"),
        ("user", "What is my credit limit?"),
        ("assistant", "Your credit limit is 20,000 CNY."),
        ("user", "ok thanks, bye"),
    )
    kept = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean").kept.iloc[0]
    assert contents(kept["messages"]) == [
        ("assistant", "Hello, how can I help?"),
        ("user", "What is my credit limit?"),
        ("assistant", "Your credit limit is 20,000 CNY."),
    ]
    assert kept["smalltalk_removed"] == 2


def test_dialogue_of_only_smalltalk_is_rejected_as_no_substance():
    records = [
        chat(
            ("user", "在吗"), ("assistant", "在的"), ("user", "哦"), ("assistant", "好的"), line=1
        ),
        chat(("user", "hello"), ("assistant", "hi"), ("user", "thanks"), line=2),
    ]
    result = apply_op(frame(*records), OpCall("remove_smalltalk", {}), "clean")
    assert len(result.kept) == 0
    assert list(result.rejected["reason"]) == [Reason.NO_SUBSTANCE] * 2
    # Rejected rows keep their messages as they came in, with the count.
    assert len(result.rejected["messages"].iloc[0]) == 4
    assert list(result.rejected["smalltalk_removed"]) == [3, 3]


def test_dialogue_whose_answer_is_too_short_is_rejected():
    rec = chat(("user", "我的卡还能用吗"), ("assistant", "能"))
    result = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean")
    assert list(result.rejected["reason"]) == [Reason.NO_SUBSTANCE]
    assert "4 substantive" in result.rejected["detail"].iloc[0]


def test_min_substance_chars_param_changes_the_verdict():
    rec = chat(("user", "额度多少"), ("assistant", "两万"))
    loose = apply_op(frame(rec), OpCall("remove_smalltalk", {"min_substance_chars": 2}), "clean")
    strict = apply_op(frame(rec), OpCall("remove_smalltalk", {"min_substance_chars": 4}), "clean")
    assert (len(loose.kept), len(strict.kept)) == (1, 0)


def test_removal_merges_turns_of_the_same_role_it_brought_together():
    messages = [
        {"role": "user", "content": "我想查账单"},
        {"role": "assistant", "content": "好的"},
        {"role": "assistant", "content": "本期账单3,200元"},
        {"role": "user", "content": "分期呢"},
        {"role": "user", "content": "在吗"},
        {"role": "user", "content": "能分几期"},
        {"role": "assistant", "content": "可分3、6、12期"},
    ]
    cleaned, removed = drop_smalltalk_turns(messages, DEFAULT_PHRASES)
    assert removed == 2
    assert contents(cleaned) == [
        ("user", "我想查账单"),
        ("assistant", "本期账单3,200元"),
        ("user", "分期呢\n能分几期"),
        ("assistant", "可分3、6、12期"),
    ]


def test_adjacent_same_role_turns_already_in_the_input_are_not_merged():
    messages = [
        {"role": "user", "content": "我想查账单"},
        {"role": "user", "content": "本月的"},
        {"role": "assistant", "content": "本期账单3,200元"},
    ]
    cleaned, removed = drop_smalltalk_turns(messages, DEFAULT_PHRASES)
    assert removed == 0
    assert cleaned == messages


def test_consent_after_an_assistant_question_is_kept():
    rec = chat(
        ("user", "这笔消费能分期吗"),
        ("assistant", "可以分6期，需要为您办理吗？"),
        ("user", "好的"),
        ("assistant", "已为您办理6期分期，每期手续费0.6%。"),
    )
    kept = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean").kept.iloc[0]
    assert [m["content"] for m in kept["messages"]][2] == "好的"
    assert kept["smalltalk_removed"] == 0


def test_smalltalk_reply_to_a_question_is_removed_when_no_real_answer_follows():
    messages = [
        {"role": "user", "content": "挂失补卡要多久"},
        {"role": "assistant", "content": "7个工作日寄出。还有其他问题吗？"},
        {"role": "user", "content": "没有了，谢谢"},
        {"role": "assistant", "content": "不客气，再见"},
    ]
    cleaned, removed = drop_smalltalk_turns(messages, DEFAULT_PHRASES)
    assert removed == 2
    assert len(cleaned) == 2


def test_system_turns_are_never_removed():
    messages = [
        {"role": "system", "content": "好的"},
        {"role": "user", "content": "年费怎么收"},
        {"role": "assistant", "content": "首年免年费，刷卡6次免次年年费。"},
    ]
    cleaned, removed = drop_smalltalk_turns(messages, DEFAULT_PHRASES)
    assert (removed, cleaned) == (0, messages)


def test_custom_phrases_replace_the_defaults():
    rec = chat(("user", "亲"), ("user", "年费怎么收"), ("assistant", "首年免年费。"))
    kept = apply_op(frame(rec), OpCall("remove_smalltalk", {"phrases": ["hello"]}), "clean").kept
    assert kept["smalltalk_removed"].iloc[0] == 0
    kept = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean").kept
    assert kept["smalltalk_removed"].iloc[0] == 1


def test_classification_records_are_judged_on_their_text():
    records = [
        classification("我想查一下本期账单", line=1),
        classification("你好", line=2),
        classification("额度", line=3),
        classification("How do I redeem points?", line=4),
    ]
    result = apply_op(frame(*records), OpCall("remove_smalltalk", {}), "clean")
    assert list(result.kept["text"]) == ["我想查一下本期账单", "How do I redeem points?"]
    assert list(result.rejected["text"]) == ["你好", "额度"]
    assert set(result.rejected["reason"]) == {Reason.NO_SUBSTANCE}
    assert list(result.kept["smalltalk_removed"]) == [0, 0]


def test_classification_record_with_a_user_turn_is_not_treated_as_a_broken_dialogue():
    rec = chat(("user", "信用卡丢了怎么办"), label="挂失补卡")
    rec["text"] = "信用卡丢了怎么办"
    result = apply_op(frame(rec), OpCall("remove_smalltalk", {}), "clean")
    assert len(result.kept) == 1


def test_earlier_smalltalk_count_is_added_to():
    rec = chat(("user", "你好"), ("user", "年费怎么收"), ("assistant", "首年免年费。"))
    rec["smalltalk_removed"] = 2
    kept = remove_smalltalk(frame(rec)).kept
    assert kept["smalltalk_removed"].iloc[0] == 3


def test_has_substantive_exchange_needs_the_assistant_right_after_the_user():
    assert has_substantive_exchange(
        [{"role": "user", "content": "年费多少"}, {"role": "assistant", "content": "两百元整"}], 4
    )
    assert not has_substantive_exchange(
        [{"role": "assistant", "content": "两百元整"}, {"role": "user", "content": "年费多少"}], 4
    )


# ---------------------------------------------------------------- robustness
ROLE = st.sampled_from(["system", "user", "assistant"])
CONTENT = st.one_of(
    st.text(max_size=30), st.sampled_from(["你好", "谢谢！", "ok", "好的", "查账单吧"])
)
MESSAGES = st.lists(st.fixed_dictionaries({"role": ROLE, "content": CONTENT}), max_size=6)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(MESSAGES, st.one_of(st.none(), st.text(max_size=20))), min_size=1, max_size=5
    )
)
def test_remove_smalltalk_accounts_for_every_row(rows):
    records = []
    for i, (messages, text) in enumerate(rows):
        rec = chat(line=i + 1)
        rec["messages"] = messages
        rec["text"] = text
        records.append(rec)
    batch = frame(*records)
    result = apply_op(batch, OpCall("remove_smalltalk", {}), "clean")  # checks accounting itself
    assert len(result.kept) + len(result.rejected) == len(batch)
    if len(result.rejected):
        assert set(result.rejected["reason"]) == {Reason.NO_SUBSTANCE}
        assert all(result.rejected["detail"])


def test_empty_batch_keeps_every_column():
    result = remove_smalltalk(empty_records())
    assert len(result.kept) == 0
    assert {"id", "messages", "text", "smalltalk_removed"} <= set(result.kept.columns)
