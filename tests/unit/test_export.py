"""Trainer formats: strict alternation, system prompts, and schema validity."""

from __future__ import annotations

from ftdata.export import dataset_info, dialogue_turns, to_alpaca, to_openai, to_sharegpt
from ftdata.schemas import errors_of

DIALOGUE = [
    {"role": "assistant", "content": "您好，请问有什么可以帮您？"},
    {"role": "user", "content": "我想查账单"},
    {"role": "user", "content": "这个月的"},
    {"role": "assistant", "content": "请登录手机银行-信用卡-账单查询。"},
    {"role": "user", "content": "How do I redeem points?"},
    {"role": "assistant", "content": "Open the app and choose Points > Redeem."},
]


def test_dialogue_turns_drop_leading_agent_greeting_and_merge_same_role():
    turns = dialogue_turns(DIALOGUE)
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0]["content"] == "我想查账单\n这个月的"


def test_dialogue_ending_with_a_user_turn_is_trimmed_to_the_last_reply():
    turns = dialogue_turns([*DIALOGUE, {"role": "user", "content": "谢谢"}])
    assert turns[-1]["role"] == "assistant"


def test_openai_row_has_only_messages_and_a_system_prompt():
    row = to_openai(DIALOGUE, "你是银行客服")
    assert list(row) == ["messages"]
    assert row["messages"][0] == {"role": "system", "content": "你是银行客服"}
    assert errors_of(row, "openai_chat.schema.json") == []


def test_record_system_turn_wins_over_the_default_prompt():
    row = to_openai([{"role": "system", "content": "own"}, *DIALOGUE], "default")
    assert row["messages"][0]["content"] == "own"


def test_alpaca_puts_earlier_pairs_in_history():
    row = to_alpaca(DIALOGUE, None)
    assert row["instruction"] == "How do I redeem points?"
    assert row["output"].startswith("Open the app")
    assert row["history"] == [["我想查账单\n这个月的", "请登录手机银行-信用卡-账单查询。"]]
    assert errors_of([row], "alpaca.schema.json") == []


def test_sharegpt_uses_human_and_gpt():
    row = to_sharegpt(DIALOGUE, "sys")
    assert [c["from"] for c in row["conversations"]] == ["human", "gpt", "human", "gpt"]
    assert row["system"] == "sys"
    assert errors_of([row], "sharegpt.schema.json") == []


def test_a_dialogue_without_a_reply_fails_the_export_schema():
    row = to_openai([{"role": "user", "content": "在吗"}], None)
    assert errors_of(row, "openai_chat.schema.json")


def test_dataset_info_lists_every_file_and_validates():
    info = dataset_info("bank", ["train", "val"], ["alpaca", "sharegpt"])
    assert set(info) == {
        "bank_alpaca_train",
        "bank_alpaca_val",
        "bank_sharegpt_train",
        "bank_sharegpt_val",
    }
    assert info["bank_sharegpt_train"]["formatting"] == "sharegpt"
    assert errors_of(info, "dataset_info.schema.json") == []


def test_trainable_needs_a_user_turn_answered_later():
    from ftdata.ops.validate import trainable_problem

    assert (
        trainable_problem([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
        == ""
    )
    assert trainable_problem(DIALOGUE + [{"role": "user", "content": "行"}]) == ""
    assert trainable_problem(
        [{"role": "assistant", "content": "您好"}, {"role": "user", "content": "在吗"}]
    )
    assert trainable_problem([{"role": "assistant", "content": "您好"}]) == "no user turn"
