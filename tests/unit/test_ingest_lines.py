"""Ingest of JSON-lines sources (jsonl, scrapy, elk): parsing, mapping, rejects, ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftdata.errors import ConfigError, SourceError
from ftdata.ingest import read_source
from ftdata.reasons import Reason


def _cfg(path: str, fmt: str = "jsonl", **extra) -> dict:
    cfg = {
        "path": path,
        "format": fmt,
        "kind": "logs",
        "license": "internal",
        "owner": "cc-team",
        "collected_at": "2024-05-01",
        "fields": {"messages": "messages"},
    }
    cfg.update(extra)
    return cfg


def _read(root: Path, name: str, data: bytes | str, fmt: str = "jsonl", **extra):
    path = root / "data" / "raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    result = read_source("src", _cfg(f"data/raw/{name}", fmt, **extra), root)
    assert result.n_read == len(result.records) + len(result.rejects)
    return result


def _line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


CHAT_ZH = {
    "messages": [
        {"role": "user", "content": "我的信用卡账单怎么查？"},
        {"role": "assistant", "content": "您可以登录手机银行查看本期账单。"},
    ]
}
CHAT_EN = {
    "messages": [
        {"role": "user", "content": "How do I redeem my points?"},
        {"role": "assistant", "content": "Open the points mall in the app."},
    ]
}


def test_jsonl_chinese_and_english_chats_become_records(tmp_path):
    result = _read(tmp_path, "chat.jsonl", f"{_line(CHAT_ZH)}\n{_line(CHAT_EN)}\n")
    assert [r["messages"] for r in result.records] == [CHAT_ZH["messages"], CHAT_EN["messages"]]
    assert [r["locator"] for r in result.records] == [
        "data/raw/chat.jsonl:1",
        "data/raw/chat.jsonl:2",
    ]
    assert {r["source"] for r in result.records} == {"src"}
    assert {r["source_kind"] for r in result.records} == {"logs"}
    assert {r["license"] for r in result.records} == {"internal"}
    assert result.rejects == []


def test_malformed_json_line_is_rejected_with_file_line_and_parser_message(tmp_path):
    text = f'{_line(CHAT_EN)}\n{{"messages": [] "x": 1}}\n{_line(CHAT_ZH)}\n'
    result = _read(tmp_path, "chat.jsonl", text)
    assert len(result.records) == 2
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MALFORMED_JSON
    assert reject["detail"].startswith("data/raw/chat.jsonl:2: Expecting ',' delimiter")
    assert reject["raw"] == '{"messages": [] "x": 1}'
    assert reject["locator"] == "data/raw/chat.jsonl:2"
    assert reject["source"] == "src"


def test_truncated_last_line_is_a_malformed_line(tmp_path):
    text = f'{_line(CHAT_EN)}\n{{"messages": [{{"role": "user", "content": "额度'
    result = _read(tmp_path, "chat.jsonl", text)
    assert len(result.records) == 1
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MALFORMED_JSON
    assert reject["detail"].startswith("data/raw/chat.jsonl:2: ")


def test_mixed_line_endings_are_normalised_before_splitting(tmp_path):
    data = (_line(CHAT_EN) + "\r\n" + _line(CHAT_ZH) + "\r" + _line(CHAT_EN) + "\n").encode()
    result = _read(tmp_path, "chat.jsonl", data)
    assert [r["locator"] for r in result.records] == [
        "data/raw/chat.jsonl:1",
        "data/raw/chat.jsonl:2",
        "data/raw/chat.jsonl:3",
    ]
    assert result.rejects == []


def test_nul_bytes_are_removed_and_noted_in_meta(tmp_path):
    line = _line(CHAT_ZH)
    dirty = line[:10] + "\x00\x00" + line[10:]
    result = _read(tmp_path, "chat.jsonl", dirty + "\n" + _line(CHAT_EN) + "\n")
    first, second = result.records
    assert first["messages"] == CHAT_ZH["messages"]
    assert json.loads(first["meta"])["nul_bytes_removed"] == 2
    assert second["meta"] is None


def test_blank_lines_are_not_records_but_are_counted_per_file(tmp_path):
    result = _read(tmp_path, "chat.jsonl", f"\n{_line(CHAT_EN)}\n   \n\n{_line(CHAT_ZH)}\n")
    assert len(result.records) == 2 and result.n_read == 2
    assert result.files == [
        {"path": "data/raw/chat.jsonl", "encoding": "utf-8", "n_read": 2, "blank_lines": 3}
    ]


def test_empty_file_gives_no_records_and_no_error(tmp_path):
    result = _read(tmp_path, "chat.jsonl", b"")
    assert result.records == [] and result.rejects == [] and result.n_read == 0


def test_unknown_role_is_rejected_naming_the_role(tmp_path):
    turns = [{"role": "customer", "content": "挂失"}, {"role": "agent", "content": "已为您挂失。"}]
    roles = {"customer": "user", "staff": "assistant"}
    result = _read(tmp_path, "chat.jsonl", _line({"messages": turns}) + "\n", roles=roles)
    (reject,) = result.rejects
    assert reject["reason"] == Reason.UNKNOWN_ROLE
    assert "'agent'" in reject["detail"] and "messages[1].role" in reject["detail"]
    assert reject["detail"].startswith("data/raw/chat.jsonl:1: ")


def test_roles_map_raw_roles_to_canonical_roles(tmp_path):
    turns = [
        {"speaker": "客户", "text": "年费怎么收？"},
        {"speaker": "客服", "text": "首年免年费。"},
    ]
    result = _read(
        tmp_path,
        "chat.jsonl",
        _line({"dialog": {"turns": turns}}) + "\n",
        fields={"messages": "dialog.turns", "role": "speaker", "content": "text"},
        roles={"客户": "user", "客服": "assistant"},
    )
    (record,) = result.records
    assert record["messages"] == [
        {"role": "user", "content": "年费怎么收？"},
        {"role": "assistant", "content": "首年免年费。"},
    ]


def test_without_roles_only_canonical_roles_are_accepted(tmp_path):
    turns = [{"role": "bot", "content": "hi"}]
    result = _read(tmp_path, "chat.jsonl", _line({"messages": turns}) + "\n")
    assert [r["reason"] for r in result.rejects] == [Reason.UNKNOWN_ROLE]


def test_missing_field_is_rejected_naming_path_and_config_key(tmp_path):
    result = _read(tmp_path, "chat.jsonl", _line({"msgs": []}) + "\n")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MISSING_FIELD
    assert (
        reject["detail"] == "data/raw/chat.jsonl:1: field 'messages' (fields.messages) is missing"
    )


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"messages": "not a list of turns"}, "'messages'"),
        ({"messages": [["user", "hi"]]}, "'messages[0]'"),
        ({"messages": [{"role": "user", "content": 95588}]}, "'messages[0].content'"),
        ({"messages": [{"role": "user", "content": {"text": "hi"}}]}, "'messages[0].content'"),
    ],
)
def test_wrong_types_are_rejected_naming_the_field(tmp_path, record, field):
    result = _read(tmp_path, "chat.jsonl", _line(record) + "\n")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.WRONG_TYPE
    assert field in reject["detail"]


def test_a_line_that_is_not_an_object_is_a_wrong_type(tmp_path):
    result = _read(tmp_path, "chat.jsonl", "[1, 2, 3]\n")
    assert [r["reason"] for r in result.rejects] == [Reason.WRONG_TYPE]


def test_record_with_only_whitespace_content_is_empty(tmp_path):
    turns = [{"role": "user", "content": "  "}, {"role": "assistant", "content": "\n"}]
    result = _read(tmp_path, "chat.jsonl", _line({"messages": turns}) + "\n")
    assert [r["reason"] for r in result.rejects] == [Reason.EMPTY_RECORD]


def test_messages_given_as_a_json_string_are_parsed(tmp_path):
    record = {"messages": json.dumps(CHAT_EN["messages"])}
    result = _read(tmp_path, "chat.jsonl", _line(record) + "\n")
    assert result.records[0]["messages"] == CHAT_EN["messages"]


def test_question_answer_system_become_a_chat(tmp_path):
    row = {"q": "积分怎么兑换？", "a": "在积分商城兑换。", "sys": "你是银行客服。", "cid": 77}
    fields = {"question": "q", "answer": "a", "system": "sys", "conversation_id": "cid"}
    result = _read(tmp_path, "qa.jsonl", _line(row) + "\n", fields=fields)
    (record,) = result.records
    assert record["messages"] == [
        {"role": "system", "content": "你是银行客服。"},
        {"role": "user", "content": "积分怎么兑换？"},
        {"role": "assistant", "content": "在积分商城兑换。"},
    ]
    assert record["conversation_id"] == "src:77"  # record.py scopes raw ids by source


def test_question_with_empty_answer_is_an_empty_record(tmp_path):
    row = {"q": "积分怎么兑换？", "a": "   "}
    result = _read(tmp_path, "qa.jsonl", _line(row) + "\n", fields={"question": "q", "answer": "a"})
    (reject,) = result.rejects
    assert reject["reason"] == Reason.EMPTY_RECORD
    assert "'a' (fields.answer)" in reject["detail"]


def test_text_label_map_raw_id_and_meta_fields(tmp_path):
    rows = [
        {"uid": "u1", "utt": "我要办分期", "intent": "installment", "channel": "app"},
        {"uid": "u2", "utt": "what is my credit limit", "intent": "limit_query", "channel": "web"},
        {"uid": "u3", "utt": "hello", "channel": "web"},
    ]
    fields = {"text": "utt", "label": "intent", "id": "uid", "meta": ["channel"]}
    label_map = {"installment": "业务办理>分期>账单分期"}
    text = "".join(_line(r) + "\n" for r in rows)
    result = _read(tmp_path, "intents.jsonl", text, fields=fields, label_map=label_map)
    mapped, unmapped, unlabeled = result.records
    assert mapped["text"] == "我要办分期" and mapped["messages"] == []
    assert mapped["label"] == "业务办理>分期>账单分期"
    assert json.loads(mapped["meta"]) == {"raw_id": "u1", "channel": "app"}
    assert unmapped["label"] is None
    assert json.loads(unmapped["meta"])["raw_label"] == "limit_query"
    assert unlabeled["label"] is None and "raw_label" not in json.loads(unlabeled["meta"])


def test_missing_text_in_a_text_only_source_is_a_missing_field(tmp_path):
    result = _read(tmp_path, "intents.jsonl", '{"utterance": "hi"}\n', fields={"text": "utt"})
    assert [r["reason"] for r in result.rejects] == [Reason.MISSING_FIELD]


def test_ids_are_stable_across_reads_and_change_with_the_raw_line(tmp_path):
    text = f"{_line(CHAT_ZH)}\n{_line(CHAT_EN)}\n"
    first = _read(tmp_path, "chat.jsonl", text)
    again = _read(tmp_path, "chat.jsonl", text)
    assert [r["id"] for r in first.records] == [r["id"] for r in again.records]
    assert first.records[0]["id"] != first.records[1]["id"]
    changed = CHAT_EN | {
        "messages": CHAT_EN["messages"][:1] + [{"role": "assistant", "content": "Use the app."}]
    }
    edited = _read(tmp_path, "chat.jsonl", f"{_line(CHAT_ZH)}\n{_line(changed)}\n")
    assert edited.records[0]["id"] == first.records[0]["id"]
    assert edited.records[1]["id"] != first.records[1]["id"]


def test_scrapy_feed_reads_like_jsonl(tmp_path):
    items = [{"url": "https://bank.example/faq/1", "q": "如何挂失？", "a": "拨打客服热线。"}]
    fields = {"question": "q", "answer": "a", "meta": ["url"]}
    result = _read(tmp_path, "items.jl", _line(items[0]) + "\n", fmt="scrapy", fields=fields)
    (record,) = result.records
    assert json.loads(record["meta"]) == {"url": "https://bank.example/faq/1"}


# ---------------------------------------------------------------- elk
ELK_FIELDS = {
    "question": "_source.message.body",
    "answer": "_source.reply.body",
    "id": "_id",
    "meta": ["_index"],
}


def _hit(doc_id: str, body: str, reply: str) -> str:
    return _line(
        {
            "_index": "cs-logs-2024.05",
            "_id": doc_id,
            "_source": {"message": {"body": body}, "reply": {"body": reply}},
        }
    )


def test_elk_hits_resolve_dotted_paths_against_the_whole_hit(tmp_path):
    text = _hit("a1", "卡片丢了怎么办？", "请立即挂失。") + "\n"
    result = _read(tmp_path, "export.ndjson", text, fmt="elk", fields=ELK_FIELDS)
    (record,) = result.records
    assert record["messages"][0]["content"] == "卡片丢了怎么办？"
    assert json.loads(record["meta"]) == {"raw_id": "a1", "_index": "cs-logs-2024.05"}


def test_elk_missing_path_hints_at_source_prefix(tmp_path):
    fields = {"question": "message.body", "answer": "_source.reply.body"}
    text = _hit("a1", "q", "a") + "\n"
    result = _read(tmp_path, "export.ndjson", text, fmt="elk", fields=fields)
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MISSING_FIELD
    assert "did you mean '_source.message.body'" in reject["detail"]


def test_elk_bulk_action_and_document_lines_pair_into_one_hit(tmp_path):
    action = _line({"index": {"_index": "cs-logs", "_id": "b7"}})
    doc = _line({"message": {"body": "账单分期手续费多少？"}, "reply": {"body": "按期收取。"}})
    text = f"{action}\n{doc}\n{_hit('a1', 'q', 'a')}\n"
    result = _read(tmp_path, "bulk.ndjson", text, fmt="elk", fields=ELK_FIELDS)
    assert result.n_read == 2
    paired, plain_hit = result.records
    assert paired["locator"] == "data/raw/bulk.ndjson:1"
    assert paired["messages"][0]["content"] == "账单分期手续费多少？"
    assert json.loads(paired["meta"])["raw_id"] == "b7"
    assert plain_hit["locator"] == "data/raw/bulk.ndjson:3"


def test_elk_bulk_delete_and_dangling_index_actions_are_rejected(tmp_path):
    doc = _line({"message": {"body": "积分多久过期？"}, "reply": {"body": "三年。"}})
    text = "\n".join(
        [
            _line({"delete": {"_index": "cs-logs", "_id": "x"}}),
            _hit("a1", "q", "a"),
            _line({"index": {"_index": "cs-logs", "_id": "y"}}),
            _line({"create": {"_index": "cs-logs", "_id": "z"}}),
            doc,
            _line({"index": {"_index": "cs-logs", "_id": "w"}}),
        ]
    )
    result = _read(tmp_path, "bulk.ndjson", text, fmt="elk", fields=ELK_FIELDS)
    assert [json.loads(r["meta"])["raw_id"] for r in result.records] == ["a1", "z"]
    assert [r["locator"] for r in result.rejects] == [
        "data/raw/bulk.ndjson:1",
        "data/raw/bulk.ndjson:3",
        "data/raw/bulk.ndjson:6",
    ]
    assert {r["reason"] for r in result.rejects} == {Reason.MALFORMED_ROW}
    assert "'delete'" in result.rejects[0]["detail"]
    assert result.rejects[1]["detail"].startswith("data/raw/bulk.ndjson:3: bulk 'index' action")


# ---------------------------------------------------------------- paths and config
def test_missing_source_path_raises_naming_source_key_and_path(tmp_path):
    with pytest.raises(SourceError) as err:
        read_source("chatlogs", _cfg("data/raw/nope.jsonl"), tmp_path)
    message = str(err.value)
    assert "'chatlogs'" in message
    assert "source.chatlogs.path" in message and "data/raw/nope.jsonl" in message


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "data/../../outside.jsonl"])
def test_path_outside_root_is_a_config_error(tmp_path, path):
    root = tmp_path / "project"
    root.mkdir()
    with pytest.raises(ConfigError, match=r"source\.chatlogs\.path"):
        read_source("chatlogs", _cfg(path), root)


def test_directory_is_read_in_sorted_order_skipping_hidden_files(tmp_path):
    folder = tmp_path / "data" / "raw" / "logs"
    folder.mkdir(parents=True)
    (folder / "b.jsonl").write_text(_line(CHAT_EN) + "\n", encoding="utf-8")
    (folder / "a.jsonl").write_text(_line(CHAT_ZH) + "\n", encoding="utf-8")
    (folder / ".gitignore").write_text("/x\n", encoding="utf-8")
    result = read_source("src", _cfg("data/raw/logs", glob="*.jsonl"), tmp_path)
    assert [r["locator"] for r in result.records] == [
        "data/raw/logs/a.jsonl:1",
        "data/raw/logs/b.jsonl:1",
    ]
    assert [f["path"] for f in result.files] == ["data/raw/logs/a.jsonl", "data/raw/logs/b.jsonl"]


def test_directory_with_no_matching_files_raises(tmp_path):
    (tmp_path / "data" / "raw" / "logs").mkdir(parents=True)
    with pytest.raises(SourceError, match=r"source\.src\.glob"):
        read_source("src", _cfg("data/raw/logs", glob="*.jsonl"), tmp_path)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"format": "yaml"}, "source.src.format"),
        ({"kind": "scraped"}, "source.src.kind"),
        ({"roles": {"agent": "bot"}}, "source.src.roles.agent"),
        ({"fields": {}}, "source.src.fields"),
        ({"fields": {"question": "q"}}, "source.src.fields.answer"),
        ({"fields": {"messages": "m", "txet": "t"}}, "source.src.fields.txet"),
        ({"encoding": "klingon-8"}, "source.src.encoding"),
        ({"csv_delimiter": ";;"}, "source.src.csv_delimiter"),
    ],
)
def test_config_mistakes_name_the_key(tmp_path, change, key):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "chat.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_source("src", _cfg("data/raw/chat.jsonl") | change, tmp_path)
    assert key in str(err.value)


def test_params_section_may_be_an_omegaconf_config(tmp_path):
    from omegaconf import OmegaConf

    path = tmp_path / "data" / "raw" / "chat.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(_line(CHAT_ZH) + "\n", encoding="utf-8")
    result = read_source("src", OmegaConf.create(_cfg("data/raw/chat.jsonl")), tmp_path)
    assert result.n_read == len(result.records) == 1
