"""A model server that echoes the request's Authorization header leaves no trace of the key.

Real HTTP on 127.0.0.1 (tests/llm_server.py, a TEST SERVER in echo mode), the
official ``openai`` client, the augment engine and the stage's own writers
(records, rejects, the model-call cache, the log); then
``ftdata/secrets_scan.py`` searches everything written (parquet decoded) for
the key.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import secrets
from pathlib import Path

import pandas as pd
import pytest

from ftdata.augment.engine import augment
from ftdata.compose import compose_params
from ftdata.errors import ConfigError
from ftdata.io import write_records
from ftdata.llm.cache import LlmCache
from ftdata.llm.client import REDACTED_KEY, ChatClient, scrub_key
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.secrets_scan import scan_for_secret
from tests.conftest import ROOT
from tests.helpers import chat
from tests.llm_server import FakeLLMServer

KEY_ENV = "FTDATA_TEST_ECHO_KEY"
QUESTIONS = ["信用卡账单怎么查询", "积分可以兑换哪些礼品", "临时额度怎么申请", "卡丢了怎么挂失"]


@functools.cache
def _augment_conf() -> dict:
    return compose_params(ROOT)["augment"]


def _section(server: FakeLLMServer, cache_dir: Path) -> dict:
    section = copy.deepcopy(_augment_conf())
    section["ops"] = []
    section["hard"]["enabled"] = False
    section["llm"].update(
        enabled=True,
        base_url=server.base_url,
        model="test-model",
        api_key_env=KEY_ENV,
        ops=["paraphrase"],
        select_fraction=1.0,
        cache_dir=str(cache_dir),
        timeout_s=2.0,
        max_retries=1,
        backoff_s=0.01,
        backoff_max_s=0.02,
        concurrency=1,
    )
    return section


def _records(n: int) -> pd.DataFrame:
    rows = [
        chat(("user", q), ("assistant", "您好，请在手机银行APP办理。"), line=i, lang="zh")
        for i, q in enumerate(QUESTIONS[:n])
    ]
    return pd.DataFrame(rows).astype(object)


def _build_and_write(section: dict, records: pd.DataFrame, out: Path, caplog) -> dict:
    """What stages/augment.py does, with every log line kept in out/build.log."""
    client = ChatClient(section["llm"], LlmCache(section["llm"]["cache_dir"]))
    with caplog.at_level(logging.DEBUG):
        result = augment(
            records,
            section,
            split_params={"ratios": {"train": 1.0, "val": 0.0, "test": 0.0}, "seed": 42},
            dedup_params={
                "exact": True,
                "near": True,
                "ngram": 5,
                "threshold": 0.8,
                "num_perm": 128,
                "seed": 1,
            },
            balance_params={"strategy": "none"},
            eval_dir=Path("/nonexistent"),
            client=client,
        )
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "augment.parquet", result.records)
    rejected = pd.DataFrame(result.rejected) if result.rejected else None
    write_rejects(out / "rejects.parquet", [rejects_frame("augment", rejected)])
    (out / "metrics.json").write_text(json.dumps(result.report, default=str), encoding="utf-8")
    (out / "build.log").write_text(caplog.text, encoding="utf-8")
    return {"result": result, "stats": client.stats}


@pytest.fixture
def key(monkeypatch) -> str:
    value = "sk-echo-" + secrets.token_hex(12)
    monkeypatch.setenv(KEY_ENV, value)
    return value


def _everything_written(tmp_path: Path) -> str:
    """All text written under tmp_path (parquet decoded by the scan; here for the marker)."""
    from ftdata.secrets_scan import _decoded, _files  # the scan's own walk and decoders

    parts = []
    for path in _files(tmp_path):
        data = path.read_bytes()
        parts.append(data.decode("utf-8", "replace"))
        parts += [body.decode("utf-8", "replace") for _how, body in _decoded(data)]
    return "\n".join(parts)


def test_a_server_echoing_the_key_in_content_errors_and_malformed_bodies_leaves_it_nowhere(
    tmp_path, key, caplog
):
    with FakeLLMServer() as server:
        server.default = "echo"
        # call 1: 500 echo then a 200 echo; call 2: malformed twice (failed); call 3: plain text
        # echo (llm_schema_invalid); call 4: 400 echo (not retried: failed)
        server.script(["echo_500", "echo", "echo_malformed", "echo_malformed"])
        server.script(["echo_not_json", "echo_400"])
        section = _section(server, tmp_path / "cache")
        built = _build_and_write(section, _records(4), tmp_path / "out", caplog)
        assert server.requests == 6
        assert set(server.auth_headers) == {f"Bearer {key}"}  # the key was really sent

    result, stats = built["result"], built["stats"]
    assert stats.failed == 2 and stats.retries == 2
    assert [r["reason"] for r in result.rejected] == ["llm_schema_invalid"]
    assert REDACTED_KEY in result.rejected[0]["detail"]
    children = [r for r in result.records.to_dict("records") if r["source_kind"] == "augment"]
    assert len(children) == 1
    assert f"Bearer {REDACTED_KEY}" in children[0]["messages"][0]["content"]
    # The echo really reached what was written (so a missing scrub would show up).
    written = _everything_written(tmp_path)
    assert written.count(REDACTED_KEY) >= 4  # cache x2, record, reject, log lines

    assert scan_for_secret(tmp_path, key, include_git=False) == []
    # Cache entries hold the call's parts and the response text, no headers.
    for entry in (tmp_path / "cache").glob("??/*.json"):
        assert set(json.loads(entry.read_text(encoding="utf-8"))) == {
            "key",
            "model",
            "template_hash",
            "input_hash",
            "params",
            "response",
        }


def test_an_echoed_key_in_a_401_error_is_not_in_the_config_error(tmp_path, key, caplog):
    with FakeLLMServer() as server:
        server.script(["echo_401"])
        section = _section(server, tmp_path / "cache")
        with pytest.raises(ConfigError) as err:
            _build_and_write(section, _records(1), tmp_path / "out", caplog)
    assert key not in str(err.value) and "HTTP 401" in str(err.value)
    assert key not in caplog.text


def test_a_cache_entry_written_before_the_scrub_is_rewritten_without_the_key(tmp_path, key, caplog):
    with FakeLLMServer() as server:
        server.default = "echo"
        section = _section(server, tmp_path / "cache")
        _build_and_write(section, _records(1), tmp_path / "first", caplog)
        # Plant the key back into the entry, as an older ftdata would have stored it.
        (entry,) = (tmp_path / "cache").glob("??/*.json")
        entry.write_text(entry.read_text().replace(REDACTED_KEY, key), encoding="utf-8")
        assert scan_for_secret(tmp_path / "cache", key, include_git=False)
        requests = server.requests
        again = _build_and_write(section, _records(1), tmp_path / "second", caplog)
        assert server.requests == requests and again["stats"].cache_hits == 1
    assert scan_for_secret(tmp_path, key, include_git=False) == []


def test_scrub_key_replaces_the_key_and_its_escaped_forms_but_not_short_placeholders():
    key = "sk-a/b+c=" + "x" * 12
    text = f'Bearer {key} | "{json.dumps(key)[1:-1]}" | sk-a%2Fb%2Bc%3D{"x" * 12}'
    scrubbed = scrub_key(text, key)
    assert scrubbed == f'Bearer {REDACTED_KEY} | "{REDACTED_KEY}" | {REDACTED_KEY}'
    # vLLM's placeholder key `EMPTY` is no secret: the model's words stay.
    assert scrub_key("EMPTY fields", "EMPTY") == "EMPTY fields"
