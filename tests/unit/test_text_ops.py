"""clean-stage text ops: mojibake, HTML, NFKC, whitespace, invisible chars, emoji, t2s."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftdata.ops.text as text_mod
from ftdata.ops.text import (
    collapse_whitespace,
    fix_mojibake,
    nfkc,
    remove_control,
    remove_emoji,
    strip_html,
    t2s,
    unescape_entities,
)
from ftdata.runner import OpCall, apply_op
from tests.helpers import chat


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), dtype=object)


def mojibake(s: str, codec: str = "sloppy-windows-1252") -> str:
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy codecs)

    return s.encode("utf-8").decode(codec)


# ---------------------------------------------------------------- fix_mojibake
@pytest.mark.parametrize(
    "original",
    ["银行卡挂失", "你好，我想查询账单", "积分兑换怎么操作？", "The café’s annual fee"],
)
@pytest.mark.parametrize("codec", ["sloppy-windows-1252", "latin-1"])
def test_fix_mojibake_repairs_utf8_read_as_latin1(original, codec):
    broken = mojibake(original, codec)
    assert broken != original
    assert fix_mojibake(broken) == original


def test_fix_mojibake_repairs_a_mojibake_fragment_inside_clean_chinese():
    assert fix_mojibake("您的é“¶è¡Œ卡") == "您的银行卡"
    assert fix_mojibake("您的" + mojibake("银行") + "卡已挂失") == "您的银行卡已挂失"


@pytest.mark.parametrize(
    "clean",
    [
        "“您好”，请问ＡＢＣ１２３是什么？",  # ftfy's defaults would uncurl and fold widths
        "naïve café, don’t worry",
        "AT&amp;T &nbsp; &#x4F60;好",  # entities are strip_html's job, not "bad" to ftfy
        "浣犲ソ",  # UTF-8 read as GBK: beyond ftfy, left as is
    ],
)
def test_fix_mojibake_leaves_text_that_is_not_mojibake_unchanged(clean):
    assert fix_mojibake(clean) == clean


def test_entities_missed_by_the_mojibake_guard_are_decoded_by_strip_html():
    raw = "AT&amp;T 年费&nbsp;200元 &#x4F60;好"
    assert fix_mojibake(raw) == raw
    assert strip_html(raw) == "AT&T 年费\xa0200元 你好"


def test_fix_mojibake_runs_through_the_runner_and_records_lineage():
    rec = chat(("user", mojibake("账单查询")), ("assistant", "好的"))
    result = apply_op(frame(rec), OpCall("fix_mojibake", {}), "clean")
    assert result.kept["messages"][0][0]["content"] == "账单查询"
    assert [e["op"] for e in result.kept["ops"][0]] == ["fix_mojibake"]


# ---------------------------------------------------------------- strip_html
def test_strip_html_drops_tags_scripts_and_styles_and_breaks_blocks():
    raw = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<p>您好&nbsp;请问</p><script>alert('x')</script>"
        "<ul><li>账单查询</li><li>积分兑换</li></ul>第一行<br>第二行</body></html>"
    )
    assert strip_html(raw) == "您好\xa0请问\n账单查询\n积分兑换\n第一行\n第二行"


def test_strip_html_english_with_attributes_and_comments():
    raw = (
        '<div class="msg"><!-- agent note -->Your <b>statement</b> is <a href="/s">here</a>.</div>'
    )
    assert strip_html(raw) == "Your statement is here."


@pytest.mark.parametrize(
    "text",
    [
        "a < b and c > d",
        "余额<100元时提醒我",
        "x<y",
        "请联系<PHONE>，卡号<BANK_CARD>",
        "<think>reasoning</think> answer",
        "if a <b then",
        "",
    ],
)
def test_strip_html_leaves_text_without_html_tags_unchanged(text):
    assert strip_html(text) == text


def test_strip_html_keeps_non_html_markup_beside_real_tags():
    assert strip_html("<p>请联系<PHONE></p>") == "请联系<PHONE>"


def test_strip_html_only_decodes_semicolon_terminated_entities():
    assert strip_html("?a=1&para=2&copy") == "?a=1&para=2&copy"
    assert strip_html("<p>?a=1&para=2</p>") == "?a=1&para=2"


def test_strip_html_undoes_double_escaping():
    assert strip_html("A&amp;amp;B &amp;nbsp;") == "A&B \xa0"
    assert unescape_entities("&amp;lt;p&amp;gt;") == "<p>"


def test_strip_html_keeps_text_after_an_unclosed_script_tag():
    assert strip_html("I typed <script> in the box") == "I typed <script> in the box"


def test_strip_html_through_the_runner_on_messages_and_text():
    rec = chat(("user", "<p>查账单</p>"), ("assistant", "Your bill &amp; points"))
    rec["text"] = "<b>hello</b>"
    kept = apply_op(frame(rec), OpCall("strip_html", {}), "clean").kept
    assert [m["content"] for m in kept["messages"][0]] == ["查账单", "Your bill & points"]
    assert kept["text"][0] == "hello"


# ---------------------------------------------------------------- nfkc
def test_nfkc_folds_full_width_ascii_in_chinese_and_keeps_chinese_punctuation():
    assert (
        nfkc("我的卡号尾号是１２３４，ＡＢＣ银行（分行）！")
        == "我的卡号尾号是1234，ABC银行（分行）！"
    )
    assert nfkc("好的……谢谢～请问：几号；还款？") == "好的……谢谢～请问：几号；还款？"


def test_nfkc_folds_full_width_punctuation_on_english_lines():
    assert nfkc("Hello，world！Ｔｅｓｔ　１２３？") == "Hello,world!Test 123?"


def test_nfkc_decides_per_line_so_mixed_lines_stay_consistent():
    text = "我用的是iPhone（128G），可以吗？\nOK（fine）"
    assert nfkc(text) == "我用的是iPhone（128G），可以吗？\nOK(fine)"


def test_nfkc_without_keep_cjk_punct_is_plain_nfkc():
    assert nfkc("你好，世界！（测试）……", keep_cjk_punct=False) == "你好,世界!(测试)......"


def test_nfkc_keeps_circled_list_numbers_unless_asked():
    assert nfkc("①查账单②还款") == "①查账单②还款"
    assert nfkc("①查账单②还款", keep_circled=False) == "1查账单2还款"


def test_nfkc_leaves_chinese_quotes_and_full_stop_alone():
    assert nfkc("“账单”《须知》【提示】。、") == "“账单”《须知》【提示】。、"


def test_nfkc_through_the_runner_with_params():
    rec = chat(("user", "额度，多少？"), ("assistant", "ＯＫ"))
    kept = apply_op(frame(rec), OpCall("nfkc", {"keep_cjk_punct": False}), "clean").kept
    assert [m["content"] for m in kept["messages"][0]] == ["额度,多少?", "OK"]


# ---------------------------------------------------------------- collapse_whitespace
def test_collapse_whitespace_spaces_tabs_and_blank_lines():
    raw = "  您好 \t\t 请问 \u3000 账单\xa0\xa0多少\n\n\n\n谢谢  \n"
    assert collapse_whitespace(raw) == "您好 请问 账单 多少\n\n谢谢"


def test_collapse_whitespace_normalizes_crlf_and_cr_and_keeps_single_newlines():
    assert collapse_whitespace("line one\r\nline two\rline three\r\n\r\n\r\nend") == (
        "line one\nline two\nline three\n\nend"
    )


def test_collapse_whitespace_keep_indent_preserves_code_indentation():
    code = "def f():\n    return  1\n\n\n\nx = 2   "
    assert collapse_whitespace(code) == "def f():\nreturn 1\n\nx = 2"
    assert collapse_whitespace(code, keep_indent=True) == "def f():\n    return 1\n\nx = 2"


def test_collapse_whitespace_through_the_runner():
    rec = chat(("user", "查  账单\r\n\r\n\r\n谢谢"), ("assistant", " fine "))
    kept = apply_op(frame(rec), OpCall("collapse_whitespace", {}), "clean").kept
    assert [m["content"] for m in kept["messages"][0]] == ["查 账单\n\n谢谢", "fine"]


# ---------------------------------------------------------------- remove_control
def test_remove_control_drops_zero_width_bidi_and_control_characters():
    raw = "账\u200b单\ufeff查\u200d询\u2060 \u202eabc\u202c \u2066x\u2069\u200e\u200f\x00\x07\x1b"
    assert remove_control(raw) == "账单查询 abc x"


def test_remove_control_keeps_newlines_tabs_and_turns_cr_into_newlines():
    assert remove_control("a\tb\r\nc\rd\x0ce") == "a\tb\nc\nd\ne"


def test_remove_control_keeps_visible_text_of_every_script():
    text = "Hello，你好！①【提示】café ½ 😀 ﷺ"
    assert remove_control(text) == text


def test_remove_control_through_the_runner():
    rec = chat(("user", "hi\u200bthere"), ("assistant", "ok"))
    kept = apply_op(frame(rec), OpCall("remove_control", {}), "clean").kept
    assert kept["messages"][0][0]["content"] == "hithere"


# ---------------------------------------------------------------- remove_emoji
PUNCTUATION = "，。？！、“”《》：；—…·()[]!?,.:;'\"-/%¥$@#&"


def test_remove_emoji_keeps_every_chinese_and_english_punctuation_mark():
    text = f"好的{PUNCTUATION}OK ①❶ ©2024 ™ → ℃ ※"
    assert remove_emoji(text) == text


def test_remove_emoji_removes_pictographs_modifiers_flags_and_sequences():
    raw = "好的👍🏻谢谢❤️！🇨🇳 👨‍👩‍👧 family ☀️ sunny ✅ done 🤖"
    assert remove_emoji(raw) == "好的谢谢！  family  sunny  done "


def test_remove_emoji_keeps_the_digit_of_a_keycap_and_text_style_symbols():
    assert remove_emoji("按1️⃣查询，©️ vs ©") == "按1查询， vs ©"


def test_remove_emoji_through_the_runner():
    rec = chat(("user", "Thanks 🙏 a lot!"), ("assistant", "不客气😊。"))
    kept = apply_op(frame(rec), OpCall("remove_emoji", {}), "clean").kept
    assert [m["content"] for m in kept["messages"][0]] == ["Thanks  a lot!", "不客气。"]


# ---------------------------------------------------------------- t2s
def test_t2s_converts_traditional_to_simplified_with_mainland_account_terms():
    assert t2s("我們的信用卡帳單和轉帳記錄") == "我们的信用卡账单和转账记录"


def test_t2s_with_no_phrase_overrides_is_plain_opencc():
    assert t2s("信用卡帳單", phrases={}) == "信用卡帐单"


def test_t2s_leaves_simplified_and_english_alone():
    assert t2s("信用卡额度调整") == "信用卡额度调整"
    assert t2s("Credit limit 10,000") == "Credit limit 10,000"


def test_t2s_builds_one_converter_per_process():
    text_mod._converter.cache_clear()
    t2s("額度")
    t2s("帳單")
    assert text_mod._converter.cache_info().misses == 1


def test_t2s_through_the_runner():
    rec = chat(("user", "額度調整"), ("assistant", "已為您辦理"))
    kept = apply_op(frame(rec), OpCall("t2s", {}), "clean").kept
    assert [m["content"] for m in kept["messages"][0]] == ["额度调整", "已为您办理"]


# ---------------------------------------------------------------- robustness
TEXT_OPS = [fix_mojibake, strip_html, nfkc, collapse_whitespace, remove_control, remove_emoji, t2s]
HTMLISH = st.text(alphabet=st.sampled_from(list("<>/&;#x!-pbrscitle =\"'你好\n ")), max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), HTMLISH))
def test_text_ops_never_raise_and_return_str(text):
    for op in TEXT_OPS:
        assert isinstance(op(text), str)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_cleanup_ops_are_idempotent(text):
    for op in (collapse_whitespace, remove_control, remove_emoji, nfkc):
        once = op(text)
        assert op(once) == once


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), HTMLISH, st.text(alphabet=st.sampled_from(list("<>/&;amplgtbp 你")))))
def test_strip_html_is_idempotent_so_no_markup_hides_behind_entities(text):
    once = strip_html(text)
    assert strip_html(once) == once
