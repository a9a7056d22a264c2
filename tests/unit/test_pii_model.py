"""redact_pii_model: spans from an OpenAI-compatible server (the loopback test server) become placeholders."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.errors import ConfigError
from ftdata.runner import OpCall, apply_op, op_calls
from tests.helpers import chat
from tests.llm_server import FakeLLMServer


@pytest.fixture()
def server():
    with FakeLLMServer() as srv:
        yield srv


def frame(*records: dict) -> pd.DataFrame:
    return pd.DataFrame(list(records), dtype=object)


def params(server, tmp_path, **extra) -> dict:
    return {
        "base_url": server.base_url,
        "cache_dir": str(tmp_path / "cache"),
        "max_retries": 0,
        **extra,
    }


def test_names_and_addresses_the_model_returns_are_redacted(server, tmp_path):
    records = [
        chat(
            ("user", "我叫王小明，住在北京市朝阳区建国路88号，卡丢了"),
            ("assistant", "已为您挂失。"),
            line=1,
        ),
        chat(
            ("user", "My name is Mary Jones, I live at 12 Park Road, Leeds"),
            ("assistant", "Noted."),
            line=2,
        ),
        chat(("user", "年费怎么收？"), ("assistant", "首年免年费。"), line=3),
    ]
    result = apply_op(
        frame(*records), OpCall("redact_pii_model", params(server, tmp_path)), "clean"
    )
    kept = result.kept
    assert kept["messages"][0][0]["content"] == "我叫<NAME>，住在<ADDRESS>，卡丢了"
    assert kept["messages"][1][0]["content"] == "My name is <NAME>, I live at <ADDRESS>, Leeds"
    assert kept["messages"][2][0]["content"] == "年费怎么收？"
    assert list(kept["pii_types"]) == [["address", "name"], ["address", "name"], []]
    assert list(kept["pii_redacted"]) == [True, True, False]
    assert len(result.rejected) == 0
    assert server.requests == 6  # one call per distinct message


def test_a_second_run_is_answered_from_the_cache(server, tmp_path):
    batch = frame(
        chat(("user", "我叫李雷，住在上海市浦东新区世纪大道1号"), ("assistant", "好的，已记录。"))
    )
    call = OpCall("redact_pii_model", params(server, tmp_path))
    first = apply_op(batch, call, "clean").kept
    sent = server.requests
    second = apply_op(batch, call, "clean").kept
    assert server.requests == sent
    assert list(first["messages"]) == list(second["messages"])


def test_a_failed_call_leaves_the_text_unchanged(server, tmp_path):
    server.script(["500", "500"])
    batch = frame(
        chat(("user", "我叫韩梅梅，住在广州市天河区体育西路2号"), ("assistant", "收到。"))
    )
    kept = apply_op(batch, OpCall("redact_pii_model", params(server, tmp_path)), "clean").kept
    assert kept["messages"][0][0]["content"] == "我叫韩梅梅，住在广州市天河区体育西路2号"


def test_the_api_key_is_sent_but_not_stored(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PII_TEST_KEY", "sk-secret-123")
    batch = frame(chat(("user", "我叫张伟，住在杭州市西湖区文三路5号"), ("assistant", "好的。")))
    apply_op(
        batch,
        OpCall("redact_pii_model", params(server, tmp_path, api_key_env="PII_TEST_KEY")),
        "clean",
    )
    assert "Bearer sk-secret-123" in server.auth_headers
    stored = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "cache").rglob("*.json"))
    assert stored and "sk-secret-123" not in stored


def test_off_by_default_and_unknown_keys_are_config_errors(server, tmp_path):
    from pathlib import Path

    from ftdata.compose import SECTION_SCHEMAS, compose_params
    from ftdata.params import check_section

    root = Path(__file__).resolve().parents[2]
    section = check_section(
        "clean", compose_params(root)["clean"], SECTION_SCHEMAS["clean"], "conf"
    )
    assert "redact_pii_model" not in section["ops"]
    assert [c.name for c in op_calls(section, "clean", names=["redact_pii_model"])] == [
        "redact_pii_model"
    ]
    batch = frame(chat(("user", "我叫张伟"), ("assistant", "好的。")))
    with pytest.raises(ConfigError, match="unknown key"):
        apply_op(batch, OpCall("redact_pii_model", params(server, tmp_path, modle="x")), "clean")
    with pytest.raises(ConfigError, match="unknown type"):
        apply_op(
            batch, OpCall("redact_pii_model", params(server, tmp_path, types=["phone"])), "clean"
        )
