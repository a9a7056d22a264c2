"""Ingest of binary tabular sources: parquet, local Hugging Face datasets, xlsx."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ftdata.errors import ConfigError, SourceError
from ftdata.ingest import read_source
from ftdata.reasons import Reason


def _read(root: Path, path: str, fmt: str, **extra):
    cfg = {
        "path": path,
        "format": fmt,
        "kind": "public",
        "license": "cc-by-4.0",
        "owner": "data-team",
        "collected_at": "2024-05-01",
    }
    result = read_source("src", cfg | extra, root)
    assert result.n_read == len(result.records) + len(result.rejects)
    return result


INTENTS = {
    "text": ["我想提高信用卡额度", "How do I pay my bill?", "卡丢了", ""],
    "label": [1, 0, 2, 0],
}
NAMES = ["bill_payment", "limit_raise", "card_lost"]
FEATURES = {
    "text": {"dtype": "string", "_type": "Value"},
    "label": {"names": NAMES, "_type": "ClassLabel"},
}


def _intent_table() -> pa.Table:
    return pa.table(INTENTS).replace_schema_metadata(
        {"huggingface": json.dumps({"info": {"features": FEATURES}})}
    )


# ---------------------------------------------------------------- parquet
def test_parquet_rows_become_records_located_by_row(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    chats = [
        [
            {"role": "user", "content": "分期手续费多少？"},
            {"role": "assistant", "content": "费率0.6%每期。"},
        ],
        [{"role": "user", "content": "hi"}, {"role": "agent", "content": "hello"}],
    ]
    pq.write_table(pa.table({"messages": chats, "session": ["s1", "s2"]}), raw / "chats.parquet")
    result = _read(
        tmp_path, "data/raw/chats.parquet", "parquet",
        fields={"messages": "messages", "conversation_id": "session"},
    )  # fmt: skip
    (record,) = result.records
    assert record["messages"] == chats[0]
    assert record["locator"] == "data/raw/chats.parquet#row=0"
    assert record["conversation_id"] == "src:s1"
    (reject,) = result.rejects
    assert reject["reason"] == Reason.UNKNOWN_ROLE
    assert reject["detail"].startswith("data/raw/chats.parquet:row=1: ")
    assert result.files[0]["encoding"] is None


def test_parquet_directory_reads_only_parquet_files_in_sorted_order(tmp_path):
    folder = tmp_path / "data" / "raw" / "intents"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["第二个文件"]}), folder / "part-1.parquet")
    pq.write_table(pa.table({"text": ["第一个文件"]}), folder / "part-0.parquet")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")
    result = _read(tmp_path, "data/raw/intents", "parquet", fields={"text": "text"})
    assert [r["text"] for r in result.records] == ["第一个文件", "第二个文件"]


def test_parquet_ids_are_stable_and_follow_row_content(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a", "b"]}), raw / "t.parquet")
    first = _read(tmp_path, "data/raw/t.parquet", "parquet", fields={"text": "text"})
    again = _read(tmp_path, "data/raw/t.parquet", "parquet", fields={"text": "text"})
    pq.write_table(pa.table({"text": ["a", "B"]}), raw / "t.parquet")
    edited = _read(tmp_path, "data/raw/t.parquet", "parquet", fields={"text": "text"})
    ids = [[r["id"] for r in res.records] for res in (first, again, edited)]
    assert ids[0] == ids[1]
    assert ids[2][0] == ids[0][0] and ids[2][1] != ids[0][1]


def test_unreadable_parquet_file_raises_naming_it(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match=r"data/raw/bad\.parquet"):
        _read(tmp_path, "data/raw/bad.parquet", "parquet", fields={"text": "text"})


# ---------------------------------------------------------------- hf
def _save_to_disk(folder: Path, table: pa.Table) -> None:
    """What datasets' Dataset.save_to_disk writes: arrow *stream* shards + two json files."""
    folder.mkdir(parents=True)
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    (folder / "dataset_info.json").write_text(json.dumps({"features": FEATURES}), encoding="utf-8")
    state = {
        "_data_files": [{"filename": "data-00000-of-00001.arrow"}],
        "_fingerprint": "0123456789abcdef",
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")


HF_CFG = {"fields": {"text": "text", "label": "label"}}


def test_hf_save_to_disk_dataset_decodes_class_labels(tmp_path):
    _save_to_disk(tmp_path / "data" / "raw" / "banking", _intent_table())
    result = _read(tmp_path, "data/raw/banking", "hf", **HF_CFG)
    assert [(r["text"], r["label"]) for r in result.records] == [
        ("我想提高信用卡额度", "limit_raise"),
        ("How do I pay my bill?", "bill_payment"),
        ("卡丢了", "card_lost"),
    ]
    assert result.records[0]["locator"] == "data/raw/banking/data-00000-of-00001.arrow#row=0"
    assert [r["reason"] for r in result.rejects] == [Reason.EMPTY_RECORD]


def test_hf_class_labels_come_from_dataset_info_without_schema_metadata(tmp_path):
    _save_to_disk(tmp_path / "data" / "raw" / "banking", pa.table(INTENTS))
    result = _read(tmp_path, "data/raw/banking", "hf", **HF_CFG)
    assert result.records[0]["label"] == "limit_raise"


def test_hf_dataset_dict_reads_splits_in_listed_order(tmp_path):
    folder = tmp_path / "data" / "raw" / "banking"
    table = _intent_table()
    _save_to_disk(folder / "test", table.slice(2, 1))
    _save_to_disk(folder / "train", table.slice(0, 2))
    (folder / "dataset_dict.json").write_text(
        json.dumps({"splits": ["train", "test"]}), encoding="utf-8"
    )
    result = _read(tmp_path, "data/raw/banking", "hf", **HF_CFG)
    assert [r["text"] for r in result.records] == [
        "我想提高信用卡额度",
        "How do I pay my bill?",
        "卡丢了",
    ]
    assert [json.loads(r["meta"])["hf_split"] for r in result.records] == ["train", "train", "test"]


def test_hf_parquet_snapshot_folder(tmp_path):
    data = tmp_path / "data" / "raw" / "banking" / "data"
    data.mkdir(parents=True)
    pq.write_table(_intent_table().slice(0, 3), data / "train-00000-of-00001.parquet")
    result = _read(tmp_path, "data/raw/banking", "hf", **HF_CFG)
    assert [r["label"] for r in result.records] == ["limit_raise", "bill_payment", "card_lost"]
    assert (
        result.records[0]["locator"] == "data/raw/banking/data/train-00000-of-00001.parquet#row=0"
    )


def test_hf_label_map_applies_after_class_label_decoding(tmp_path):
    _save_to_disk(tmp_path / "data" / "raw" / "banking", _intent_table().slice(0, 2))
    label_map = {"limit_raise": "业务办理>额度调整>提额申请"}
    result = _read(tmp_path, "data/raw/banking", "hf", label_map=label_map, **HF_CFG)
    assert [r["label"] for r in result.records] == ["业务办理>额度调整>提额申请", None]
    assert json.loads(result.records[1]["meta"])["raw_label"] == "bill_payment"


def test_hf_folder_without_data_files_raises(tmp_path):
    (tmp_path / "data" / "raw" / "empty").mkdir(parents=True)
    with pytest.raises(SourceError, match="no \\*.parquet or \\*.arrow"):
        _read(tmp_path, "data/raw/empty", "hf", **HF_CFG)


# ---------------------------------------------------------------- xlsx
def _workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "说明"
    cover.append(["这一页不是数据"])
    sheet = workbook.create_sheet("FAQ")
    sheet.append(["问题", "答案", "编号"])
    sheet.append(["客服电话是多少？", 95588, 1])
    sheet.append([None, None, None])
    sheet.append(["What is the annual fee?", "Free for the first year.", 2.0])
    sheet.append(["多出一列", "答案", 3, "意外的值"])
    workbook.save(path)


XLSX_CFG = {"sheet": "FAQ", "fields": {"question": "问题", "answer": "答案", "id": "编号"}}


def test_xlsx_selected_sheet_rows_become_records_with_cells_as_text(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    _workbook(raw / "faq.xlsx")
    result = _read(tmp_path, "data/raw/faq.xlsx", "xlsx", **XLSX_CFG)
    first, second = result.records
    assert first["messages"][1]["content"] == "95588"
    assert first["locator"] == "data/raw/faq.xlsx#FAQ!2"
    assert json.loads(second["meta"])["raw_id"] == "2"
    assert second["locator"] == "data/raw/faq.xlsx#FAQ!4"
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MALFORMED_ROW
    assert reject["detail"].startswith("data/raw/faq.xlsx:FAQ!5: ")
    assert result.files[0]["blank_lines"] == 1


def test_xlsx_unknown_sheet_is_a_config_error_listing_sheets(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    _workbook(raw / "faq.xlsx")
    with pytest.raises(ConfigError, match=r"source\.src\.sheet.*说明, FAQ"):
        _read(tmp_path, "data/raw/faq.xlsx", "xlsx", **(XLSX_CFG | {"sheet": "Sheet9"}))
