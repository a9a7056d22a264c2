"""Atomic writes and the parquet round trip of the canonical record."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.io import (
    RecordWriter,
    atomic_dir,
    atomic_path,
    read_records,
    read_rejects,
    records_to_table,
    remove_stale_temps,
    write_records,
)
from ftdata.privacy.rejects import rejects_frame, write_rejects
from tests.helpers import chat, frame


def test_records_round_trip_keeps_nested_columns_as_python_lists(tmp_path):
    df = frame(
        chat(
            ("user", "我的账单怎么查？"),
            ("assistant", "请登录手机银行查看。"),
            label="账户问题>账单>账单查询",
        )
    )
    df["score_chars"] = [12.0]
    write_records(tmp_path / "r.parquet", df)
    back = read_records(tmp_path / "r.parquet")
    assert back.loc[0, "messages"] == df.loc[0, "messages"]
    assert back.loc[0, "ops"] == [] and back.loc[0, "parents"] == []
    assert back.loc[0, "label"] == "账户问题>账单>账单查询"
    assert back.loc[0, "score_chars"] == 12.0


def test_same_records_give_byte_identical_parquet(tmp_path):
    df = frame(
        chat(("user", "hello bill"), ("assistant", "see the app")),
        chat(("user", "积分"), ("assistant", "兑换"), line=2),
    )
    write_records(tmp_path / "a.parquet", df)
    write_records(tmp_path / "b.parquet", df.copy())
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_failed_write_leaves_neither_output_nor_temp_file(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_output(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new but unfinished")
        raise RuntimeError("killed")
    assert target.read_text() == "old"


def test_failed_directory_build_leaves_no_directory(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "exports") as tmp:
        (tmp / "train.jsonl").write_text("{}")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_of_a_killed_run_are_removed(tmp_path):
    (tmp_path / ".out.parquet.abc123.tmp").write_text("partial")
    (tmp_path / "keep.txt").write_text("x")
    remove_stale_temps(tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_chunked_writer_keeps_one_schema_when_a_flag_is_null_in_the_first_chunk(tmp_path):
    first = frame(chat(("user", "a"), ("assistant", "b"), pii_types=None, pii_redacted=None))
    second = frame(
        chat(("user", "c"), ("assistant", "d"), line=2, pii_types=["phone"], pii_redacted=True)
    )
    with RecordWriter(tmp_path / "w.parquet") as writer:
        writer.write(first)
        writer.write(second)
    back = read_records(tmp_path / "w.parquet")
    assert list(back["pii_types"]) == [None, ["phone"]]


def test_rejects_hold_the_whole_record_and_the_reason(tmp_path):
    rejected = frame(chat(("user", "你好"), ("assistant", "您好")))
    rejected["reason"] = "no_substance"
    rejected["detail"] = "data/raw/unit.jsonl:1: only small talk"
    write_rejects(tmp_path / "rej.parquet", [rejects_frame("clean", rejected)])
    back = read_rejects(tmp_path / "rej.parquet")
    assert back.loc[0, "stage"] == "clean" and back.loc[0, "reason"] == "no_substance"
    assert "你好" in back.loc[0, "record"]
    assert back.loc[0, "locator"] == "data/raw/unit.jsonl:1"


def test_empty_rejects_file_still_has_the_columns(tmp_path):
    write_rejects(tmp_path / "rej.parquet", [])
    assert list(read_rejects(tmp_path / "rej.parquet").columns)[:3] == ["stage", "reason", "detail"]
    assert len(pd.read_parquet(tmp_path / "rej.parquet")) == 0


def test_outputs_get_ordinary_permissions_not_mkstemps_0600(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "page.html") as tmp:
            tmp.write_text("<html></html>")
        with atomic_dir(tmp_path / "exports") as tmp:
            (tmp / "a.jsonl").write_text("")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "page.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "exports").stat().st_mode) == 0o755


def test_writer_given_worker_built_tables_writes_the_same_bytes_as_given_frames(tmp_path):
    """Executors hand the writer arrow tables built on their workers; a later table's
    inferred types (all-null column, missing or extra column, a struct with other keys)
    must land in the first table's schema exactly as the frame path puts them."""
    first = frame(chat(("user", "a"), ("assistant", "b"), pii_types=None, pii_redacted=None))
    first["meta_extra"] = [{"channel": "app", "csat": 5}]
    first["score_chars"] = [1.0]
    second = frame(
        chat(("user", "c"), ("assistant", "d"), line=2, pii_types=["phone"], pii_redacted=True)
    )
    second["meta_extra"] = [{"channel": "web"}]
    second["not_in_first"] = ["dropped"]
    with RecordWriter(tmp_path / "frames.parquet") as writer:
        writer.write(first)
        writer.write(second)
    with RecordWriter(tmp_path / "tables.parquet") as writer:
        writer.write(records_to_table(first))
        writer.write(records_to_table(second))
    assert (tmp_path / "frames.parquet").read_bytes() == (tmp_path / "tables.parquet").read_bytes()
    back = read_records(tmp_path / "tables.parquet")
    assert list(back["pii_types"]) == [None, ["phone"]]
    assert back.loc[1, "meta_extra"] == {"channel": "web", "csat": None}
    assert "not_in_first" not in back.columns and back.loc[1, "score_chars"] is None
