"""Model-backed augmentation end to end against a real HTTP chat-completions server on 127.0.0.1.

The server is tests/llm_server.py, a deterministic TEST SERVER (no model
weights can be downloaded here; llama-cpp-python would compile for ~8 min):
it speaks the OpenAI protocol over real HTTP, so the official ``openai``
client, our retries, timeouts, cache and budget all run for real.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import secrets
from pathlib import Path

import pandas as pd
import pytest

from ftdata.augment.engine import augment
from ftdata.compose import compose_params
from ftdata.errors import ConfigError
from ftdata.llm.cache import LlmCache
from ftdata.llm.client import ChatClient
from tests.conftest import ROOT, copy_built, run
from tests.helpers import chat
from tests.llm_server import FakeLLMServer

pytestmark = pytest.mark.e2e

ALL_TRAIN = {"ratios": {"train": 1.0, "val": 0.0, "test": 0.0}, "seed": 42}
DEDUP = {"exact": True, "near": True, "ngram": 5, "threshold": 0.8, "num_perm": 128, "seed": 1}
KEY_ENV = "FTDATA_TEST_LLM_KEY"


@pytest.fixture
def server():
    with FakeLLMServer(slow_seconds=1.5) as srv:
        yield srv


@functools.cache
def _augment_conf() -> dict:
    return compose_params(ROOT)["augment"]


def section(server: FakeLLMServer, cache_dir: Path, **llm) -> dict:
    base = copy.deepcopy(_augment_conf())
    base["ops"] = []  # model-backed ops only
    base["hard"]["enabled"] = False
    base["llm"].update(
        {
            "enabled": True,
            "base_url": server.base_url,
            "model": "test-model",
            "api_key_env": KEY_ENV,
            "ops": ["paraphrase"],
            "select_fraction": 1.0,
            "cache_dir": str(cache_dir),
            "timeout_s": 0.5,
            "max_retries": 2,
            "backoff_s": 0.01,
            "backoff_max_s": 0.05,
            "concurrency": 1,
        }
    )
    base["llm"].update(llm)
    return base


QUESTIONS = [
    "信用卡账单怎么查询",
    "积分可以兑换哪些礼品",
    "临时额度怎么申请",
    "卡丢了怎么挂失",
    "分期手续费怎么算",
]


def frame(n: int = 1) -> pd.DataFrame:
    rows = [
        chat(
            ("user", q),
            ("assistant", "您好，请在手机银行APP办理。"),
            line=i,
            lang="zh",
            label="账户问题>账单>账单查询",
        )
        for i, q in enumerate(QUESTIONS[:n])
    ]
    return pd.DataFrame(rows).astype(object)


def build(df: pd.DataFrame, cfg: dict):
    client = ChatClient(cfg["llm"], LlmCache(cfg["llm"]["cache_dir"]))
    result = augment(
        df,
        cfg,
        split_params=ALL_TRAIN,
        dedup_params=DEDUP,
        balance_params={"strategy": "none"},
        eval_dir=Path("/nonexistent"),
        client=client,
    )
    return result, client.stats


def children(result) -> list[dict]:
    return [r for r in result.records.to_dict("records") if r["source_kind"] == "augment"]


def test_paraphrases_are_children_and_a_second_build_makes_zero_requests(
    server, tmp_path, monkeypatch
):
    key = "sk-test-" + secrets.token_hex(8)
    monkeypatch.setenv(KEY_ENV, key)
    cfg = section(server, tmp_path / "cache", concurrency=3)
    first, stats = build(frame(5), cfg)
    made = children(first)
    assert server.requests == 5 and stats.calls == 5 and stats.cache_hits == 0
    assert len(made) == 5 and all(
        c["ops"][-1]["op"] == "paraphrase" and len(c["parents"]) == 1 for c in made
    )
    assert set(server.auth_headers) == {f"Bearer {key}"}
    assert first.report["llm"]["calls_made"] == 5

    second, stats2 = build(frame(5), cfg)
    assert server.requests == 5  # nothing sent: every call answered by the cache
    assert stats2.calls == 0 and stats2.cache_hits == 5
    assert children(second) == made
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert key not in path.read_text(encoding="utf-8")
            assert "127.0.0.1" not in path.read_text(encoding="utf-8")  # base_url is not stored


def test_429_and_500_are_retried_with_backoff(server, tmp_path):
    server.script(["429", "500"])
    result, stats = build(frame(1), section(server, tmp_path / "cache"))
    assert server.requests == 3 and stats.retries == 2 and stats.failed == 0
    assert len(children(result)) == 1


def test_a_timeout_is_retried_and_a_call_that_keeps_failing_makes_no_record_and_no_cache_entry(
    server, tmp_path
):
    server.script(["slow"])
    result, stats = build(frame(1), section(server, tmp_path / "a"))
    assert server.requests == 2 and stats.retries == 1 and len(children(result)) == 1

    server.reset()
    server.script(["slow", "slow", "slow"])
    result, stats = build(frame(1), section(server, tmp_path / "b"))
    assert server.requests == 3 and stats.failed == 1
    assert children(result) == [] and result.rejected == []
    assert len(LlmCache(tmp_path / "b")) == 0  # the next build tries again


def test_a_malformed_body_is_retried_then_counted_as_failed(server, tmp_path):
    server.script(["malformed"])
    result, stats = build(frame(1), section(server, tmp_path / "a"))
    assert server.requests == 2 and len(children(result)) == 1
    server.reset()
    server.script(["malformed"] * 3)
    result, stats = build(frame(1), section(server, tmp_path / "b"))
    assert stats.failed == 1 and children(result) == []


def test_empty_non_json_and_off_language_answers_are_rejected_with_reasons_and_cached(
    server, tmp_path
):
    server.script(["empty", "not_json"])
    server.responder = lambda body: json.dumps({"text": "How can I check my bill online today?"})
    cfg = section(server, tmp_path / "cache")
    result, _ = build(frame(3), cfg)
    reasons = sorted(r["reason"] for r in result.rejected)
    assert reasons == ["llm_empty", "llm_off_language", "llm_schema_invalid"]
    assert all(r["detail"].startswith("paraphrase: ") for r in result.rejected)
    assert result.added == 3 and children(result) == []
    before = server.requests
    again, _ = build(frame(3), cfg)
    assert server.requests == before  # invalid answers were paid for too: replayed, not re-asked
    assert sorted(r["reason"] for r in again.rejected) == reasons


def test_the_call_budget_caps_calls_in_a_deterministic_order(server, tmp_path):
    result, stats = build(frame(5), section(server, tmp_path / "cache", max_calls=2))
    assert server.requests == 2 and stats.over_budget == 3
    assert [c["parents"][0] for c in children(result)] == list(frame(5)["id"][:2])


def test_back_translation_makes_two_calls_and_returns_to_the_source_language(server, tmp_path):
    result, stats = build(frame(2), section(server, tmp_path / "cache", ops=["back_translate"]))
    assert server.requests == 4 and stats.calls == 4
    assert any("Output language: en" in p for p in server.prompts)
    made = children(result)
    assert len(made) == 2 and all(c["lang"] == "zh" for c in made)


def test_boundary_examples_between_confusable_intents_have_both_parents(server, tmp_path):
    overdue, repay = "账户问题>还款>逾期处理", "账户问题>还款>还款方式"
    rows = [
        chat(
            ("user", "信用卡逾期了三天会影响征信吗"),
            ("assistant", "逾期会上报征信。"),
            line=1,
            lang="zh",
            label=overdue,
        ),
        chat(
            ("user", "信用卡逾期还款有罚息吗"),
            ("assistant", "会产生罚息。"),
            line=2,
            lang="zh",
            label=overdue,
        ),
        chat(
            ("user", "信用卡怎么设置自动还款"),
            ("assistant", "在APP设置。"),
            line=3,
            lang="zh",
            label=repay,
        ),
        chat(
            ("user", "信用卡还款可以用支付宝吗"),
            ("assistant", "可以。"),
            line=4,
            lang="zh",
            label=repay,
        ),
    ]
    cfg = section(server, tmp_path / "cache", ops=["boundary"], select_fraction=0.0)
    cfg["hard"].update(
        {
            "enabled": True,
            "confusable": [{"labels": [overdue, repay], "note": "已逾期 vs 没有逾期"}],
            "pair_similarity": 0.1,
        }
    )
    result, _ = build(pd.DataFrame(rows).astype(object), cfg)
    made = children(result)
    assert made and all(c["ops"][-1]["op"] == "boundary" and len(c["parents"]) == 2 for c in made)
    assert any("已逾期 vs 没有逾期" in p for p in server.prompts)
    assert all([m["role"] for m in c["messages"]] == ["user", "assistant"] for c in made)
    assert result.records["hard"].tolist().count(True) >= 2


def test_unknown_llm_op_names_the_key(server, tmp_path):
    with pytest.raises(ConfigError, match=r"augment.llm.ops.*'paraphrase'"):
        build(frame(1), section(server, tmp_path / "cache", ops=["paraphrse"]))


# ------------------------------------------------------------------ through DVC
NEW_QUESTIONS = [
    "XQ01 我在国外刷卡被拒了是什么原因",
    "XQ02 信用卡绑定的手机号换了要怎么改",
    "XQ03 附属卡的消费会算在主卡账单里吗",
    "XQ04 境外消费的货币转换费是多少",
    "XQ05 信用卡快到期了新卡什么时候寄出",
    "XQ06 为什么我的积分少了一部分",
    "XQ07 账单分期以后还能提前还清吗",
    "XQ08 我想注销一张不用的信用卡",
    "XQ09 还款日遇到节假日会顺延吗",
    "XQ10 年费没交会不会影响我的征信记录",
    "XQ11 额度用完了还能不能再刷",
    "XQ12 临时额度到期后没还完怎么办",
    "XQ13 挂失以后原来的自动还款还有效吗",
    "XQ14 被冻结的卡里面还有溢缴款怎么取",
    "XQ15 积分兑换的里程多久到账户",
    "XQ16 最低还款以后利息怎么计算",
    "XQ17 新办的卡收到以后怎样设置交易密码",
    "XQ18 商场买家电可以直接办分期吗",
    "XQ19 网上购物被盗刷了应该先做什么",
    "XQ20 白金卡的年费可以用积分抵扣吗",
]


def _dvc_env(key: str) -> dict:
    return {KEY_ENV: key}


def test_dvc_build_caches_calls_reuses_them_and_calls_only_for_new_records(tmp_path, built_project):
    key = "sk-test-" + secrets.token_hex(12)
    project = copy_built(built_project, tmp_path / "project")
    with FakeLLMServer() as server:
        overrides = [
            "augment.llm.enabled=true",
            f"augment.llm.base_url={server.base_url}",
            f"augment.llm.api_key_env={KEY_ENV}",
            "augment.llm.ops=[paraphrase,back_translate,dialect_rewrite]",
            "augment.llm.select_fraction=0.15",
            "augment.llm.max_calls=5000",
            "augment.llm.concurrency=8",
            "augment.llm.backoff_s=0.01",
        ]
        run(["ftdata", "compose", *overrides], project)
        run(["dvc", "repro", "augment"], project, env=_dvc_env(key))
        metrics = json.loads((project / "data/metrics/augment.json").read_text(encoding="utf-8"))
        first_calls = server.requests
        assert first_calls > 50 and metrics["llm"]["calls_made"] == first_calls
        assert metrics["llm"]["calls_saved"] == 0
        entries = len(LlmCache(project / "data/cache/llm"))
        assert entries == first_calls

        # a forced rebuild with unchanged inputs: zero requests, every call from the cache
        run(["dvc", "repro", "--force", "--single-item", "augment"], project, env=_dvc_env(key))
        assert server.requests == first_calls
        metrics = json.loads((project / "data/metrics/augment.json").read_text(encoding="utf-8"))
        assert metrics["llm"]["calls_made"] == 0 and metrics["llm"]["calls_saved"] == first_calls

        # ~1 % new records: calls for those only
        crowd = project / "data/raw/crowd/qa_pairs.csv"
        with open(crowd, "a", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            for i, q in enumerate(NEW_QUESTIONS):
                writer.writerow(
                    [
                        f"W9{i:02d}",
                        q,
                        f"您好，关于{q[5:]}，请通过手机银行APP查询或致电客服热线。",
                        "bill_query",
                        "2024-08-01 10:00:00",
                    ]
                )
        server.prompts.clear()
        run(["dvc", "repro", "augment"], project, env=_dvc_env(key))
        new_calls = server.requests - first_calls
        assert new_calls > 0
        first_steps = [p for p in server.prompts if not p.startswith("把下面的问题翻译成")]
        assert first_steps and all("XQ" in p for p in first_steps), [
            p[:60] for p in first_steps if "XQ" not in p
        ]
        metrics = json.loads((project / "data/metrics/augment.json").read_text(encoding="utf-8"))
        assert metrics["llm"]["calls_made"] == new_calls
        assert metrics["llm"]["calls_saved"] == first_calls

    # the API key reached the server and nothing else: not params, cache, outputs, logs, git, DVC cache
    needle = key.encode()
    leaks = [
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    ]
    assert leaks == []
    assert KEY_ENV in (project / "params.yaml").read_text(encoding="utf-8")
