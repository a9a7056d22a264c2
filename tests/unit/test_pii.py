"""redact_pii: typed placeholders for validated PII; look-alikes stay; PII-only records rejected."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.errors import ConfigError
from ftdata.io import empty_records
from ftdata.privacy.detect import (
    PII_TYPES,
    find_pii,
    id_check_digit,
    is_valid_bank_card,
    is_valid_id_card,
    luhn_ok,
    redact,
)
from ftdata.reasons import Reason
from ftdata.record import new_record
from ftdata.runner import OpCall, apply_op
from tests.helpers import chat

ROOT = Path(__file__).resolve().parents[2]


def luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def wrong_check(number: str) -> str:
    """The same number with the next possible check character instead of the right one."""
    chars = "0123456789X"
    return number[:17] + chars[(chars.index(number[17].upper()) + 1) % 11]


def luhn_fail(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 5) % 10)


VALID_ID_X = "11010519491231002X"  # check digit X
VALID_ID = "44030519900307123" + id_check_digit("44030519900307123")
CARD_16 = luhn_complete("622202123456789")
CARD_19 = luhn_complete("622202123456789012")
ORDER_LUHN = luhn_complete("202311051234567")  # passes Luhn, but a date-led order number


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), dtype=object)


def load_bench():
    spec = importlib.util.spec_from_file_location("pii_eval", ROOT / "bench" / "pii_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- validators
def test_check_digit_fixtures_are_what_the_tests_assume():
    assert id_check_digit(VALID_ID_X[:17]) == "X"
    assert luhn_ok(CARD_16) and luhn_ok(CARD_19)
    assert not luhn_ok(luhn_fail(CARD_16)) and not luhn_ok(luhn_fail(CARD_19))


def test_id_card_with_x_check_digit_upper_or_lower_case_is_valid():
    assert is_valid_id_card(VALID_ID_X)
    assert is_valid_id_card(VALID_ID_X.lower())


@pytest.mark.parametrize(
    "number",
    [
        wrong_check(VALID_ID_X),
        wrong_check(VALID_ID),
        "990105194912310021",  # no such region
        "110105194902300025",  # 30 February
        "110105180001010011",  # born before 1900
        "11010519491231002",  # 17 digits
    ],
)
def test_invalid_id_numbers_are_rejected(number):
    assert not is_valid_id_card(number)


def test_bank_card_needs_luhn_a_card_prefix_and_16_to_19_digits():
    assert is_valid_bank_card(CARD_16) and is_valid_bank_card(CARD_19)
    assert not is_valid_bank_card(luhn_fail(CARD_16))
    assert not is_valid_bank_card(luhn_fail(CARD_19))
    assert luhn_ok(ORDER_LUHN) and not is_valid_bank_card(ORDER_LUHN)
    assert not is_valid_bank_card("622202123456784")  # 15 digits


# ---------------------------------------------------------------- redact: what goes
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机是13800138000，谢谢", "我的手机是<PHONE>，谢谢"),
        ("手机+86 138 0013 8000", "手机<PHONE>"),
        ("手机+8613800138000。", "手机<PHONE>。"),
        ("手机 86-138-0013-8000", "手机 <PHONE>"),
        ("Call 138-0013-8000 now", "Call <PHONE> now"),
        ("(+86)19912345678", "<PHONE>"),
        ("座机010-12345678", "座机<PHONE>"),
        ("电话0755-1234567转88", "电话<PHONE>"),
        ("office (021)12345678", "office <PHONE>"),
        ("电话（021）62345678", "电话<PHONE>"),
        (f"身份证{VALID_ID_X}", "身份证<ID_CARD>"),
        (f"ID: {VALID_ID}.", "ID: <ID_CARD>."),
        (f"卡号{CARD_16}", "卡号<BANK_CARD>"),
        (
            f"card {' '.join(CARD_19[i : i + 4] for i in range(0, 19, 4))} blocked",
            "card <BANK_CARD> blocked",
        ),
        (f"卡号{'-'.join(CARD_16[i : i + 4] for i in range(0, 16, 4))}", "卡号<BANK_CARD>"),
        ("邮箱zhang.wei+cs@example.com.cn。", "邮箱<EMAIL>。"),
        ("mail me: John.Smith@Mail.Example.org, thanks", "mail me: <EMAIL>, thanks"),
    ],
)
def test_redact_replaces_pii_with_typed_placeholders(text, expected):
    assert redact(text)[0] == expected


def test_redact_reports_sorted_types_and_keeps_landline_distinct():
    text = f"手机13800138000 座机010-12345678 邮箱a@b.cn 卡{CARD_16} 证{VALID_ID_X}"
    redacted, found = redact(text)
    assert found == ["bank_card", "email", "id_card", "landline", "phone"]
    assert redacted == "手机<PHONE> 座机<PHONE> 邮箱<EMAIL> 卡<BANK_CARD> 证<ID_CARD>"


def test_email_with_a_phone_number_as_local_part_is_one_email():
    assert redact("13800138000@163.com")[0] == "<EMAIL>"


def test_types_param_limits_what_is_redacted():
    text = f"13800138000 a@b.cn {CARD_16}"
    assert redact(text, ["email"]) == (f"13800138000 <EMAIL> {CARD_16}", ["email"])


def test_unknown_type_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'phone'"):
        redact("x", ["phones"])


# ---------------------------------------------------------------- redact: what stays
@pytest.mark.parametrize(
    "text",
    [
        "订单号2023110512345678还没发货",  # 16 digits, fails Luhn
        f"订单号 {ORDER_LUHN}",  # Luhn-valid but date-led: not a card prefix
        f"错误校验位 {wrong_check(VALID_ID_X)}",  # 18 digits, wrong ID check digit
        f"ID {wrong_check(VALID_ID)} is mistyped",
        f"卡号{luhn_fail(CARD_16)}",  # 16 digits, Luhn fails
        f"卡号{luhn_fail(CARD_19)}",  # 19 digits, Luhn fails
        "金额¥12,345.67，另付5000元",
        "还款日2024-03-15，账单日20240315",
        "流水号TX13800138000",
        "流水号2024031513800138000123",  # a mobile inside a longer digit run
        f"编号9{CARD_16}",  # a card inside a longer digit run
        f"编号{VALID_ID_X[:17]}X1",  # an ID inside a longer run
        "会员号12345678901",  # 11 digits not starting 1[3-9]
        "会员号10086123456",
        "余额13800138000.00元",  # an amount, not a phone
        "客服热线95588或400-820-8820",
        "6222 0212 3456 7890 1234 5678",  # grouped run longer than any card
        "version 1.13800138000",
        "Order #2023110512345678 ships 2024-03-15 for $1,299.99",
    ],
)
def test_lookalikes_are_not_redacted(text):
    assert redact(text) == (text, [])


def test_matches_sit_on_digit_boundaries():
    assert find_pii("电话13800138000") != []
    assert find_pii("电话813800138000") == []  # 12 digits
    assert find_pii("电话138001380001") == []


# ---------------------------------------------------------------- the batch op
def test_redact_pii_through_the_runner_sets_flags_and_lineage():
    records = [
        chat(
            ("user", "我的手机13800138000，帮我查账单"),
            ("assistant", "好的，已发送到您的手机。"),
            line=1,
        ),
        chat(("user", "What is my annual fee?"), ("assistant", "It is 200 CNY."), line=2),
    ]
    result = apply_op(frame(*records), OpCall("redact_pii", {}), "clean")
    kept = result.kept
    assert kept["messages"][0][0]["content"] == "我的手机<PHONE>，帮我查账单"
    assert list(kept["pii_redacted"]) == [True, False]
    assert list(kept["pii_types"]) == [["phone"], []]
    assert [e["op"] for e in kept["ops"][0]] == ["redact_pii"]
    assert list(kept["ops"][1]) == []


def test_redact_pii_covers_text_and_every_role():
    rec = chat(
        ("system", "联系a@b.cn"), ("user", "卡号多少"), ("assistant", f"您的卡号是{CARD_16}")
    )
    rec["text"] = "手机13800138000"
    kept = apply_op(frame(rec), OpCall("redact_pii", {}), "clean").kept.iloc[0]
    assert [m["content"] for m in kept["messages"]] == [
        "联系<EMAIL>",
        "卡号多少",
        "您的卡号是<BANK_CARD>",
    ]
    assert kept["text"] == "手机<PHONE>"
    assert kept["pii_types"] == ["bank_card", "email", "phone"]


def test_records_whose_user_turns_are_only_pii_are_rejected_redacted():
    records = [
        chat(("user", "13800138000"), ("assistant", "好的，已记录。"), line=1),
        chat(
            ("user", f"{CARD_16}，a@b.cn！"),
            ("user", "  13912345678 "),
            ("assistant", "收到"),
            line=2,
        ),
        chat(("user", "手机13800138000"), ("assistant", "已记录。"), line=3),
        chat(("user", "13800138000"), ("user", "帮我查账单"), ("assistant", "好的"), line=4),
    ]
    result = apply_op(frame(*records), OpCall("redact_pii", {}), "clean")
    assert list(result.rejected["reason"]) == [Reason.PII_ONLY] * 2
    # The rejected copy is the redacted one: the rejects file never holds the PII.
    assert result.rejected["messages"].iloc[0][0]["content"] == "<PHONE>"
    assert "13912345678" not in str(result.rejected["messages"].iloc[1])
    assert [m[0]["content"] for m in result.kept["messages"]] == ["手机<PHONE>", "<PHONE>"]


def test_classification_text_that_is_only_pii_is_rejected():
    rec = new_record(
        source="intents",
        source_kind="crowd",
        license="internal",
        locator="intents.csv:2",
        raw="x",
        messages=[],
        text="Email: john@example.com",
    )
    only = dict(rec, id="only", text="john@example.com")
    result = apply_op(frame(rec, only), OpCall("redact_pii", {}), "clean")
    assert list(result.kept["text"]) == ["Email: <EMAIL>"]
    assert list(result.rejected["id"]) == ["only"]


def test_redact_pii_types_param_and_earlier_types_are_merged():
    rec = chat(("user", "邮箱a@b.cn 手机13800138000"), ("assistant", "收到。"))
    rec["pii_types"] = ["id_card"]
    kept = apply_op(frame(rec), OpCall("redact_pii", {"types": ["email"]}), "clean").kept.iloc[0]
    assert kept["messages"][0]["content"] == "邮箱<EMAIL> 手机13800138000"
    assert kept["pii_types"] == ["email", "id_card"]


# ---------------------------------------------------------------- corpus targets
def test_corpus_has_the_promised_coverage():
    bench = load_bench()
    rows = bench.load_corpus()
    spans = [s for r in rows for s in r["spans"]]
    assert len(spans) >= 300
    assert {s["type"] for s in spans} == set(PII_TYPES)
    assert sum(len(r["keep"]) for r in rows) >= 100
    assert any(s["type"] == "id_card" and s["value"][-1] in "Xx" for s in spans)
    assert {r["lang"] for r in rows} == {"zh", "en"}
    for row in rows:
        for item in row["spans"] + row["keep"]:
            assert row["text"][item["start"] : item["end"]] == item["value"]


def test_corpus_file_is_what_the_generator_produces():
    bench = load_bench()
    committed = (ROOT / "tests" / "data" / "pii_corpus.jsonl").read_text(encoding="utf-8")
    assert committed == bench.corpus_lines(bench.build_corpus()), (
        "run: python bench/pii_eval.py --write-corpus"
    )


def test_recall_and_precision_targets_hold_on_the_corpus():
    bench = load_bench()
    report = bench.evaluate(bench.load_corpus())
    for kind, scores in report["per_type"].items():
        assert scores["recall"] >= 0.99, (kind, report["misses"])
        assert scores["precision"] >= 0.97, (kind, report["false_hits"])
    assert sum(report["lookalikes_hit"].values()) == 0


# ---------------------------------------------------------------- robustness
DIGITISH = st.text(alphabet=st.sampled_from(list("0123456789 -+()@.xX86a1你")), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), DIGITISH))
def test_redact_never_raises_and_only_inserts_placeholders(text):
    redacted, found = redact(text)
    assert found == sorted(set(found))
    assert set(found) <= set(PII_TYPES)
    assert (redacted == text) == (not found)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.one_of(st.text(max_size=30), DIGITISH), DIGITISH), min_size=1, max_size=5)
)
def test_redact_pii_accounts_for_every_row(rows):
    records = [chat(("user", u), ("assistant", a), line=i + 1) for i, (u, a) in enumerate(rows)]
    batch = frame(*records)
    result = apply_op(batch, OpCall("redact_pii", {}), "clean")  # checks accounting itself
    assert len(result.kept) + len(result.rejected) == len(batch)
    if len(result.rejected):
        assert set(result.rejected["reason"]) == {Reason.PII_ONLY}


def test_empty_batch_keeps_every_column():
    result = apply_op(empty_records(), OpCall("redact_pii", {}), "clean")
    assert len(result.kept) == 0
    assert {"id", "messages", "pii_redacted", "pii_types"} <= set(result.kept.columns)


# ---------------------------------------------------------------- regressions from the Faker corpus (issue 12)
ID_A = "43102319680525932" + id_check_digit("43102319680525932")
ID_15 = "110105491231002"  # first generation: 1949-12-31, no check digit
CARD_JCB = luhn_complete("352800123456789")
CARD_AMEX = luhn_complete("37828224631000")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"联系人X,{ID_A},17087921742,北京", "联系人X,<ID_CARD>,<PHONE>,北京"),
        ("13800138000,13900139000", "<PHONE>,<PHONE>"),
        (f"证件号{ID_15}，请核实", "证件号<ID_CARD>，请核实"),
        (f"old id {ID_15[:6]} {ID_15[6:12]} {ID_15[12:]}", "old id <ID_CARD>"),
        ("Tel13901234567", "Tel<PHONE>"),
        ("手机:13800138000ok", "手机:<PHONE>ok"),
        (f"ID{VALID_ID_X}", "ID<ID_CARD>"),
        ("vx13801234567 QQ13801234568", "vx<PHONE> QQ<PHONE>"),
        ("手机165.5166.9348", "手机<PHONE>"),
        ("手机138\u20100013\u20108000", "手机<PHONE>"),
        ("手机138\u20110013\u20118000", "手机<PHONE>"),
        ("手机138\u20130013\u20138000", "手机<PHONE>"),
        ("手机138\u20140013\u20148000", "手机<PHONE>"),
        ("手机138\u22120013\u22128000", "手机<PHONE>"),
        ("手机138－0013－8000", "手机<PHONE>"),
        ("手机１３８００１３８０００", "手机<PHONE>"),
        ("手机138\u200b0013\u200b8000", "手机<PHONE>"),
        (f"身份证{VALID_ID_X[:6]} {VALID_ID_X[6:10]} {VALID_ID_X[10:14]} {VALID_ID_X[14:]}", "身份证<ID_CARD>"),
        ("office 86-10-62345678", "office <PHONE>"),
        ("office 0086-10-62345678", "office <PHONE>"),
        ("邮箱是用户@例子.中国，谢谢", "邮箱是<EMAIL>，谢谢"),
        ("mail name@münchen.de now", "mail <EMAIL> now"),
        ("邮箱zhang＠163.com就行", "邮箱<EMAIL>就行"),
        (f"JCB {CARD_JCB}", "JCB <BANK_CARD>"),
        (f"Amex card {CARD_AMEX}", "Amex card <BANK_CARD>"),
    ],
)  # fmt: skip
def test_variants_that_leaked_before_are_redacted(text, expected):
    assert redact(text)[0] == expected


def test_a_fullwidth_comma_list_is_found_before_and_after_nfkc():
    from ftdata.ops.text import nfkc

    text = "13800138000，13900139000"
    assert nfkc(text) == "13800138000,13900139000"  # no Han on the line: nfkc folds "，"
    assert redact(text)[0] == "<PHONE>，<PHONE>"
    assert redact(nfkc(text))[0] == "<PHONE>,<PHONE>"


def test_spans_map_back_to_the_original_text():
    text = "电话：１３８　００１３　８０００，邮箱ａ＠ｂ．ｃｎ"
    matches = find_pii(text)
    assert [(m.type, m.value) for m in matches] == [
        ("phone", "１３８　００１３　８０００"),
        ("email", "ａ＠ｂ．ｃｎ"),
    ]
    assert all(text[m.start : m.end] == m.value for m in matches)


@pytest.mark.parametrize(
    "text",
    [
        "TX13800138000 is a transaction id",
        "SN13800138000",
        "编号13800138000AB",  # letters glued on the right, no phone label
        f"订单号{luhn_complete('622202123456789')}还没到账",
        f"Order no. {luhn_complete('622202123456789012')} shipped",
        f"tracking {luhn_complete('45320151128336')}",
        f"ref {ID_15}",
        f"流水号{luhn_complete('300000000000000000')}",  # 19 digits, 30xx: not a card range
        f"本期账单{luhn_complete('331234567890123456')}",  # 19 digits starting 33
        f"编号{luhn_complete('352712345678901')}",  # 3527: just below JCB
        "app version v1.13800138000",
        "金额13800138000.00元",
    ],
)
def test_order_numbers_and_other_lookalikes_stay(text):
    assert redact(text) == (text, [])


def test_optional_types_are_off_by_default_and_on_when_listed():
    from stdnum.cn import uscc

    code = "91110108" + "MA01ABCD"
    code = code + "E" + uscc.calc_check_digit(code + "E")
    text = f"护照号E12345678，车牌京A12345，微信号abc_12345，企业代码{code}"
    assert redact(text) == (text, [])
    new, kinds = redact(text, PII_TYPES + ("passport", "plate", "account_id", "uscc"))
    assert new == "护照号<PASSPORT>，车牌<PLATE>，微信号<ACCOUNT_ID>，企业代码<USCC>"
    assert kinds == ["account_id", "passport", "plate", "uscc"]
    assert redact("E12345678 is a part number", ["passport"])[1] == []  # only when labelled
    assert redact("QQ群号 123", ["account_id"])[1] == []
    digits = next(
        b + uscc.calc_check_digit(b)
        for b in (f"91110108{n:09d}" for n in range(1000))
        if uscc.calc_check_digit(b).isdigit()
    )
    assert redact(f"交易号{digits}", ["uscc"])[1] == []  # all digits: only when labelled
    assert redact(f"统一社会信用代码{digits}", ["uscc"])[1] == ["uscc"]
