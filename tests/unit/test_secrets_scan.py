"""Secrets: conf may only name an environment variable, and the tree scanner finds a leaked key anywhere."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.compose import compose_params
from ftdata.errors import ConfigError
from ftdata.secrets_scan import inline_secrets, scan_for_secret

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-4f9c2a7e1b3d5f6a8c0e2b4d"


# ---------------------------------------------------------------- conf
def test_inline_secrets_finds_credentials_by_key_name_and_by_value_shape():
    params = {
        "augment": {"llm": {"api_key": "abc123", "api_key_env": "FTDATA_LLM_API_KEY", "token": ""}},
        "export": {"system_prompt": KEY},
        "source": {"s": {"meta": ["x", "hf_" + "a" * 34]}},
        "report": {"card": {"contact": "data-team@bank.example", "password": None}},
    }
    assert inline_secrets(params) == [
        "augment.llm.api_key",
        "export.system_prompt",
        "source.s.meta[1]",
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "data/raw", tmp_path / "data/raw")
    return tmp_path


def _set_prompt(project: Path, value: str) -> None:
    path = project / "conf/export/default.yaml"
    conf = yaml.safe_load(path.read_text(encoding="utf-8"))
    conf["system_prompt"] = value
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")


def test_compose_refuses_a_literal_key_in_conf_without_printing_it(project):
    _set_prompt(project, KEY)
    with pytest.raises(ConfigError) as err:
        compose_params(project)
    msg = str(err.value)
    assert msg.startswith("conf/export/default.yaml: `export.system_prompt` holds a literal secret")
    assert KEY not in msg


def test_compose_refuses_an_env_interpolation_that_would_write_the_key_into_params(
    project, monkeypatch
):
    # Hydra resolves ${oc.env:...} at compose time, i.e. into the committed params.yaml:
    # refused before Hydra runs, whatever shape the value has (ftdata/conf_guard.py).
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "no-known-key-shape-1234")
    _set_prompt(project, "${oc.env:FAKE_PROVIDER_KEY}")
    with pytest.raises(
        ConfigError,
        match=r"^conf/export/default.yaml:\d+:\d+: `system_prompt` uses \$\{oc.env:...\}.*api_key_env",
    ):
        compose_params(project)


def test_the_example_conf_holds_no_secret():
    assert inline_secrets(compose_params(ROOT)) == []


# ---------------------------------------------------------------- scanning a tree
def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_a_clean_tree_has_no_finding(tmp_path):
    (tmp_path / "params.yaml").write_text("export:\n  dataset_name: bank_card\n")
    assert scan_for_secret(tmp_path, KEY) == []


def test_the_scanner_finds_a_key_in_text_compressed_parquet_gzip_and_the_dvc_cache(tmp_path):
    (tmp_path / "params.yaml").write_text(f"llm:\n  key: {KEY}\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/build.log").write_text(f"calling model with Authorization: Bearer {KEY}\n")
    # Enough varied text for zstd to entropy-code the literals: the key's bytes are not on disk.
    rng = random.Random(0)
    words = [
        "信用卡",
        "账单",
        "积分",
        "额度",
        "分期",
        "还款",
        "error",
        "timeout",
        "server",
        "retry",
    ]
    details = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(2000)]
    details[1000] = f"error from server: {KEY}"
    table = pa.table({"detail": details})
    (tmp_path / "data/interim").mkdir(parents=True)
    pq.write_table(
        table, tmp_path / "data/interim/rejects.parquet", compression="zstd", write_statistics=False
    )
    assert (
        KEY.encode() not in (tmp_path / "data/interim/rejects.parquet").read_bytes()
    )  # why decoding matters
    cache = tmp_path / ".dvc/cache/files/md5/3f"
    cache.mkdir(parents=True)
    shutil.copy(tmp_path / "data/interim/rejects.parquet", cache / "9c0a1b2c3d4e5f60718293a4b5c6d7")
    (tmp_path / "data/metrics").mkdir(parents=True)
    (tmp_path / "data/metrics/calls.json.gz").write_bytes(
        gzip.compress(f'{{"key": "{KEY}"}}'.encode())
    )
    found = {(f.path, f.how) for f in scan_for_secret(tmp_path, KEY)}
    assert found == {
        ("params.yaml", "bytes"),
        ("logs/build.log", "bytes"),
        ("data/interim/rejects.parquet", "parquet"),
        (".dvc/cache/files/md5/3f/9c0a1b2c3d4e5f60718293a4b5c6d7", "parquet"),
        ("data/metrics/calls.json.gz", "gzip"),
    }


def test_the_scanner_finds_a_key_that_only_lives_in_git_history_even_when_packed(tmp_path):
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@ftdata.invalid")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "params.yaml").write_text(f"api_key: {KEY}\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "oops")
    (tmp_path / "params.yaml").write_text("api_key_env: OPENAI_API_KEY\n")
    _git(tmp_path, "commit", "-q", "-am", "fix")
    _git(tmp_path, "gc", "-q", "--aggressive")  # objects now live in a pack, not as loose files
    findings = scan_for_secret(tmp_path, KEY)
    assert [f.how for f in findings] == ["git object"]
    assert scan_for_secret(tmp_path, KEY, include_git=False) == []


def test_the_scanner_refuses_a_short_needle(tmp_path):
    with pytest.raises(ValueError, match="shorter than 8"):
        scan_for_secret(tmp_path, "sk-1")


def test_the_scanner_skips_the_virtualenv(tmp_path):
    (tmp_path / ".venv/lib").mkdir(parents=True)
    (tmp_path / ".venv/lib/x.py").write_text(KEY)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "ok.parquet")
    assert scan_for_secret(tmp_path, KEY) == []
