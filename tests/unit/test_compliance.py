"""The `compliance` clean op: configured keyword / regex rules flag or reject high-risk content."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from ftdata.compose import compose_params
from ftdata.errors import ConfigError
from ftdata.io import empty_records, read_records, write_records
from ftdata.ops.compliance import compile_rules, find_hits, keyword_pattern
from ftdata.reasons import Reason
from ftdata.runner import OpCall, apply_op, op_calls, run_ops
from tests.helpers import chat

ROOT = Path(__file__).resolve().parents[2]
BANK_RULES = yaml.safe_load(
    (ROOT / "conf/clean/compliance/bank_card.yaml").read_text(encoding="utf-8")
)["rules"]


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), dtype=object)


def run(batch: pd.DataFrame, rules=BANK_RULES):
    return apply_op(batch, OpCall("compliance", {"rules": rules}), "clean")


def fired(role: str, content: str) -> list[str]:
    return [
        h.rule.id
        for h in find_hits(compile_rules(BANK_RULES), [{"role": role, "content": content}], None)
    ]


# ---------------------------------------------------------------- the op
def test_guaranteed_return_promise_by_the_agent_is_rejected_naming_rule_match_and_turn():
    promise = chat(
        ("user", "这个理财产品靠谱吗？"),
        ("assistant", "放心，这款产品保本保息，年化收益保证5%。"),
        line=7,
    )
    plain = chat(("user", "账单怎么查？"), ("assistant", "请登录手机银行查看本期账单。"), line=8)
    result = run(frame(promise, plain))
    assert list(result.kept["id"]) == [plain["id"]]
    (rejected,) = result.rejected.to_dict("records")
    assert rejected["reason"] == Reason.COMPLIANCE
    assert rejected["detail"].startswith(
        "data/raw/unit.jsonl:7: compliance rule `guaranteed_return`"
    )
    assert "'保本保息' in messages[1] (assistant)" in rejected["detail"]
    assert rejected["compliance_flags"] == ["guaranteed_return"]


def test_flag_rules_keep_the_record_list_the_rule_and_add_lineage():
    asks = chat(
        ("user", "信用卡可以套现吗？"), ("assistant", "信用卡套现属于违规行为，我们不能帮您办理。")
    )
    plain = chat(("user", "积分怎么兑换？"), ("assistant", "在积分商城兑换。"), line=2)
    result = run(frame(asks, plain))
    assert len(result.rejected) == 0
    assert list(result.kept["compliance_flags"]) == [["cash_out_mention"], []]
    assert [[e["op"] for e in ops] for ops in result.kept["ops"]] == [["compliance"], []]


def test_the_same_phrase_flags_a_customer_but_rejects_the_agent():
    request = chat(
        ("user", "怎么绕过风控多刷几笔？"),
        ("assistant", "抱歉，这类操作存在风险，请按正常用途用卡。"),
    )
    advice = chat(
        ("user", "怎么提额？"), ("assistant", "教您一个绕过风控的办法：分散消费。"), line=2
    )
    result = run(frame(request, advice))
    assert list(result.kept["compliance_flags"]) == [["risk_control_bypass_request"]]
    assert list(result.rejected["compliance_flags"]) == [["risk_control_bypass_advice"]]


@pytest.mark.parametrize(
    ("role", "content", "rules"),
    [
        ("assistant", "这款产品保本保息，年化收益保证5%。", ["guaranteed_return"]),
        ("assistant", "稳 赚 不 赔，放心买。", ["guaranteed_return"]),  # spaced-out keyword
        ("assistant", "我们保证年化8%的回报。", ["guaranteed_return"]),
        ("assistant", "We guarantee 8% annual returns on this plan.", ["guaranteed_return"]),
        ("assistant", "It offers GUARANTEED RETURNS.", ["guaranteed_return"]),
        ("assistant", "可以帮您套现，手续费2%。", ["cash_out_assistance", "cash_out_mention"]),
        ("assistant", "教您一个规避风控的技巧。", ["risk_control_bypass_advice"]),
        ("user", "How can I bypass the bank's risk control?", ["risk_control_bypass_request"]),
        ("user", "我想套现怎么办", ["cash_out_mention"]),
    ],
)
def test_high_risk_phrases_fire_their_rules(role, content, rules):
    assert fired(role, content) == rules


@pytest.mark.parametrize(
    ("role", "content"),
    [
        (
            "assistant",
            "理财产品不保本，我们无法保证收益，请谨慎投资。",
        ),  # negation: the answer we want
        ("assistant", "我们不承诺保本保息。"),
        ("assistant", "We cannot offer guaranteed returns; past performance is no guide."),
        ("assistant", "请不要试图绕过风控，以免影响用卡。"),
        ("assistant", "年化利率是18.25%，按日计息。"),  # the example data asks this a lot
        ("user", "卡被风控了怎么办"),  # so does this: a customer problem, not a bypass
        ("user", "保本保息的产品有吗？"),  # customers may ask; only the agent must not promise
        ("assistant", "Our cash outflow report is ready."),  # English keywords match whole words
    ],
)
def test_negations_questions_and_look_alikes_do_not_fire_reject_rules(role, content):
    assert not [
        r
        for r in fired(role, content)
        if r in {"guaranteed_return", "cash_out_assistance", "risk_control_bypass_advice"}
    ]


def test_roles_scope_which_turns_and_whether_text_is_checked():
    rules = [{"id": "t", "action": "reject", "keywords": ["套现"], "roles": ["text"]}]
    in_text = chat(("user", "你好"), text="信用卡套现")
    in_turn = chat(("user", "信用卡套现"), ("assistant", "不行"), line=2)
    result = run(frame(in_text, in_turn), rules)
    assert list(result.rejected["id"]) == [in_text["id"]]
    assert "in text" in result.rejected["detail"][0]


def test_several_rules_firing_are_all_recorded_and_the_first_reject_rule_is_named():
    rules = [
        {"id": "a_flag", "action": "flag", "keywords": ["年化"]},
        {"id": "b_reject", "action": "reject", "keywords": ["稳赚"]},
        {"id": "c_reject", "action": "reject", "patterns": ["保证.{0,2}收益"]},
    ]
    rec = chat(("user", "年化多少"), ("assistant", "年化8%，稳赚，保证收益"))
    result = run(frame(rec), rules)
    (rejected,) = result.rejected.to_dict("records")
    assert rejected["compliance_flags"] == ["a_flag", "b_reject", "c_reject"]
    assert (
        "rule `b_reject`" in rejected["detail"]
        and "also fired: a_flag, c_reject" in rejected["detail"]
    )


def test_earlier_flags_are_merged_not_replaced():
    rec = chat(("user", "我想套现"), ("assistant", "不可以。"), compliance_flags=["manual_review"])
    kept = run(frame(rec)).kept
    assert kept["compliance_flags"][0] == ["cash_out_mention", "manual_review"]


def test_no_rules_keeps_everything_and_empty_batch_keeps_the_column():
    rec = chat(("user", "保本保息吗"), ("assistant", "保本保息"))
    assert list(run(frame(rec), []).kept["compliance_flags"]) == [[]]
    result = run(empty_records())
    assert len(result.kept) == 0 and "compliance_flags" in result.kept.columns


def test_flags_survive_a_chunked_parquet_write_when_the_first_batch_has_none(tmp_path):
    from ftdata.io import RecordWriter

    first = run(frame(chat(("user", "账单"), ("assistant", "请查看"))))
    second = run(frame(chat(("user", "我想套现"), ("assistant", "不可以。"), line=2)))
    with RecordWriter(tmp_path / "c.parquet") as writer:
        writer.write(first.kept)
        writer.write(second.kept)
    back = read_records(tmp_path / "c.parquet")
    assert list(back["compliance_flags"]) == [[], ["cash_out_mention"]]


def test_keyword_patterns_are_word_bounded_in_ascii_and_space_tolerant_in_chinese():
    import re

    assert re.search(keyword_pattern("cash out"), "please CASH  OUT now", re.I)
    assert not re.search(keyword_pattern("cash out"), "cash outflow", re.I)
    assert re.search(keyword_pattern("稳赚不赔"), "稳 赚\t不赔")


# ---------------------------------------------------------------- config mistakes
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"id": "x", "action": "block", "keywords": ["a"]},
            r"\[0\] \(x\)\.action: 'block'; expected one of flag, reject",
        ),
        (
            {"id": "x", "patterns": ["年化("]},
            r"\[0\] \(x\)\.patterns: '年化\(' is not a valid regular expression",
        ),
        ({"id": "x"}, r"\[0\] \(x\): a rule needs at least one of `keywords` or `patterns`"),
        (
            {"id": "x", "keywords": ["a"], "roles": ["agent"]},
            r"\[0\] \(x\)\.roles: \['agent'\] unknown",
        ),
        ({"id": "two words", "keywords": ["a"]}, r"\[0\]\.id: 'two words' is not a rule id"),
        (
            {"id": "x", "keyword": ["a"]},
            r"\[0\] \(x\): unknown key `keyword`; did you mean 'keywords'",
        ),
        (
            {"id": "x", "keywords": "稳赚"},
            r"\[0\] \(x\)\.keywords: expected a list of non-empty strings",
        ),
    ],
)
def test_bad_rules_fail_naming_the_rule_and_key(rule, message):
    with pytest.raises(ConfigError, match=message):
        compile_rules([rule])


def test_duplicate_rule_ids_are_refused():
    with pytest.raises(ConfigError, match=r"\[1\] \(x\)\.id: 'x' is used by two rules"):
        compile_rules([{"id": "x", "keywords": ["a"]}, {"id": "x", "keywords": ["b"]}])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


def test_a_bad_regex_in_conf_fails_at_compose_time_naming_the_file(project):
    path = project / "conf/clean/compliance/bank_card.yaml"
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    conf["rules"][0]["patterns"].append("保证(")
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        compose_params(project)
    msg = str(err.value)
    assert msg.startswith(
        "conf/clean/compliance/bank_card.yaml: clean.compliance.rules[0] (guaranteed_return).patterns"
    )


def test_a_misspelt_rule_key_fails_at_compose_time_with_a_suggestion(project):
    path = project / "conf/clean/compliance/bank_card.yaml"
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    conf["rules"][0]["keyword"] = conf["rules"][0].pop("keywords")
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"^conf/clean/compliance/bank_card.yaml: clean.compliance.rules\[0\] \(guaranteed_return\): "
        r"unknown key `keyword`; did you mean 'keywords'",
    ):
        compose_params(project)


# ---------------------------------------------------------------- in the clean stage
def test_compliance_runs_in_the_configured_clean_chain_after_pii_redaction(project):
    params = compose_params(project)
    names = params["clean"]["ops"]
    assert "compliance" in names and names.index("redact_pii") < names.index("compliance")
    promise = chat(
        ("user", "我的手机13800138000，这个理财怎么样？"), ("assistant", "保证收益，稳赚不赔！")
    )
    kept, rejected = run_ops(frame(promise), op_calls(params["clean"], "clean"), "clean")
    assert len(kept) == 0
    (rejected,) = [r for r in rejected if len(r)]
    assert rejected["reason"].tolist() == [Reason.COMPLIANCE]
    assert "13800138000" not in str(rejected["messages"][0])  # the reject holds the redacted text


def test_example_rules_reject_nothing_in_the_example_data_shape(tmp_path):
    """The example (data/raw) has no high-risk replies: the op must not cost it records."""
    kept = chat(
        ("user", "卡被风控了怎么办"),
        ("assistant", "为保障您的账户安全，请联系客服核实身份后解除。"),
    )
    path = tmp_path / "x.parquet"
    write_records(path, frame(kept))
    result = run(read_records(path))
    assert len(result.rejected) == 0 and list(result.kept["compliance_flags"]) == [[]]
