"""Hostile raw input (issue 12) and unmapped labels (issue 15): readers and the ingest stage.

Reader-level tests call ``read_source``; stage-level ones run ``stages.ingest``
through its ``stage_main`` entry point on a temp project (tests/miniproject.py),
so exit codes, one-line errors and the end-of-stage warnings are what a user sees.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.errors import ConfigError, SourceError
from ftdata.ingest import FileLimits, read_source
from ftdata.ingest.context import FileContext
from ftdata.ingest.spec import check_source
from ftdata.io import count_rows, read_rejects, write_records
from ftdata.privacy.rejects import rejects_frame, write_rejects
from ftdata.reasons import Reason
from tests.miniproject import balanced, make_project, metrics, rejects, run_stage, source_cfg

QA = [
    {"question": "信用卡账单怎么查询？", "answer": "登录手机银行即可查看本期账单。"},
    {"question": "How do I report a lost card?", "answer": "Freeze it in the mobile app."},
    {"question": "积分可以兑换什么？", "answer": "积分可以兑换航空里程和商品。"},
]
LEAF = "账户问题>账单>账单查询"


def jl(*objs) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


def _cfg(path: str, fmt: str = "jsonl", **extra) -> dict:
    return source_cfg(path, fmt, **extra)


def _read(root: Path, files: dict[str, bytes | str], path: str, fmt: str = "jsonl", **extra):
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    limits = extra.pop("limits", None)
    result = read_source("src", _cfg(path, fmt, **extra), root, limits)
    assert result.conserved
    return result


def _stage(tmp_path, monkeypatch, sources: dict, files: dict, **ingest):
    project = make_project(tmp_path, sources, files, ingest={"max_reject_ratio": 0.5, **ingest})
    statuses = {name: run_stage(project, monkeypatch, "ingest", name) for name in sources}
    return project, statuses


# ---------------------------------------------------------------- 1. lone surrogates
# The JSON text holds the six characters \ud800: valid JSON, but the decoded string
# cannot be encoded as UTF-8, and writing it to parquet crashed the whole stage.
META_QA = {"question": "question", "answer": "answer", "meta": ["m"]}
SURROGATE_LINE = '{"question": "账单\\ud800查询", "answer": "登录手机银行。"}\n'


@pytest.mark.parametrize("fmt", ["jsonl", "scrapy"])
def test_a_lone_surrogate_rejects_only_its_line_naming_file_line_and_field(tmp_path, fmt):
    data = jl(QA[0]) + SURROGATE_LINE + jl(QA[1])
    result = _read(tmp_path, {"data/raw/s.jsonl": data}, "data/raw/s.jsonl", fmt)
    assert len(result.records) == 2
    (reject,) = result.rejects
    assert reject["reason"] == Reason.INVALID_TEXT
    assert reject["detail"].startswith(
        "data/raw/s.jsonl:2: field 'question' (fields.question) holds a lone surrogate U+D800"
    )


def test_a_lone_surrogate_in_a_turn_or_a_meta_field_names_that_path(tmp_path):
    turns = (
        '{"messages": [{"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "x\\udfff"}]}\n'
        '{"messages": [{"role": "user", "content": "hi"}], "who": {"name": "\\udc80"}}\n'
        '{"messages": [{"role": "user", "content": "hi"}], "ignored": "\\ud800"}\n'
    )
    result = _read(
        tmp_path,
        {"data/raw/c.jsonl": turns},
        "data/raw/c.jsonl",
        fields={"messages": "messages", "meta": ["who"]},
    )
    details = [r["detail"] for r in result.rejects]
    assert details[0].startswith(
        "data/raw/c.jsonl:1: field 'messages[1].content' (fields.messages) holds a lone "
        "surrogate U+DFFF"
    )
    assert details[1].startswith("data/raw/c.jsonl:2: field 'who.name' (fields.meta)")
    # a surrogate in a field the source does not map never reaches a record: kept
    assert [r["locator"] for r in result.records] == ["data/raw/c.jsonl:3"]


def test_a_lone_surrogate_in_a_json_array_element_is_that_elements_reject(tmp_path):
    data = "[" + json.dumps(QA[0], ensure_ascii=False) + ",\n" + SURROGATE_LINE + "]"
    result = _read(tmp_path, {"data/raw/a.json": data}, "data/raw/a.json", "json")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.INVALID_TEXT and reject["locator"] == "data/raw/a.json#/1"
    assert "\\ud800" in reject["raw"]  # kept as its escape: the id can be hashed, the raw stored


def test_surrogate_bytes_in_a_csv_are_undecodable_bytes_of_their_row(tmp_path):
    data = b"question,answer\n" + b"q\xed\xa0\x80,a\n" + "好,好的\n".encode()
    result = _read(tmp_path, {"data/raw/s.csv": data}, "data/raw/s.csv", "csv")
    (reject,) = result.rejects
    assert reject["reason"] == Reason.DECODE_ERROR and reject["detail"].startswith(
        "data/raw/s.csv:2: "
    )


def test_a_surrogate_character_reference_in_xlsx_xml_rejects_the_rest_of_the_sheet(tmp_path):
    """XML forbids ``&#xD800;``: the parser stops there; it was a ParseError traceback."""
    data = _patch_sheet(_workbook_bytes(3), QA[1]["question"].encode(), b"Q&#xD800;Q")
    result = _read(tmp_path, {"data/raw/s.xlsx": data}, "data/raw/s.xlsx", "xlsx")
    assert len(result.records) == 1  # row 2, before the bad one
    (reject,) = result.rejects
    assert (
        reject["reason"] == Reason.MALFORMED_ROW and reject["locator"] == "data/raw/s.xlsx#Sheet!3"
    )
    assert reject["detail"].startswith(
        "data/raw/s.xlsx:Sheet!3: the sheet's XML is malformed from here on (reference to "
        "invalid character number"
    )


def test_malformed_workbook_xml_is_an_unreadable_file_naming_it(tmp_path):
    source = zipfile.ZipFile(io.BytesIO(_workbook_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as patched:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="Sheet"', b'name="S&#xD800;"')
            patched.writestr(info.filename, data)
    with pytest.raises(SourceError, match=r"data/raw/w\.xlsx is not a readable xlsx file"):
        _read(tmp_path, {"data/raw/w.xlsx": buffer.getvalue()}, "data/raw/w.xlsx", "xlsx")


def test_the_rejects_writer_stores_lone_surrogates_escaped(tmp_path):
    reject = {"id": "x", "source": "s", "locator": "s:1", "reason": "invalid_text"}
    reject |= {"detail": "s:1: \ud800", "raw": '{"q": "\udc80"}'}
    frame = pd.DataFrame([reject], dtype=object)  # pandas' default str dtype refuses them
    write_rejects(tmp_path / "r.parquet", [rejects_frame("ingest", frame)])
    (row,) = read_rejects(tmp_path / "r.parquet").to_dict("records")
    assert (row["detail"], row["record"]) == ("s:1: \\ud800", '{"q": "\\udc80"}')


def test_the_ingest_stage_rejects_a_surrogate_line_and_goes_on(tmp_path, monkeypatch):
    rel = "data/raw/s.jsonl"
    data = jl(QA[0], QA[1]) + SURROGATE_LINE + jl(QA[2])
    project, statuses = _stage(tmp_path, monkeypatch, {"src": source_cfg(rel)}, {rel: data})
    assert statuses == {"src": 0}
    m = metrics(project, "ingest", "src")
    assert balanced(m) and m["out"] == 3 and m["rejected"] == {"invalid_text": 1}
    (reject,) = rejects(project, "ingest", "src")
    assert reject["detail"].startswith(f"{rel}:3: field 'question'")
    assert "\\ud800" in reject["record"]


# Any string, lone surrogates included, as JSON with escapes (how they arrive).
WITH_SURROGATES = st.text(
    alphabet=st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr)), max_size=12
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(WITH_SURROGATES, WITH_SURROGATES, WITH_SURROGATES), max_size=4))
def test_any_json_string_ends_as_a_stored_record_or_a_stored_reject(rows):
    data = "".join(json.dumps({"question": q, "answer": a, "m": m}) + "\n" for q, a, m in rows)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        result = _read(root, {"data/raw/s.jsonl": data}, "data/raw/s.jsonl", fields=META_QA)
        assert len(result.records) + len(result.rejects) == len(rows)
        if result.records:
            write_records(root / "out.parquet", pd.DataFrame(result.records))
        write_rejects(root / "rej.parquet", [rejects_frame("ingest", pd.DataFrame(result.rejects))])
        assert count_rows(root / "rej.parquet") == len(result.rejects)


# ---------------------------------------------------------------- 2. symlinks
def _symlinked_folder(tmp_path: Path) -> Path:
    """A project whose source folder links to a secret outside it, and to a file inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text(jl({"question": "SECRET", "answer": "SECRET"}))
    (outside / "dir").mkdir()
    (outside / "dir" / "more.jsonl").write_text(jl({"question": "SECRET2", "answer": "x"}))
    project = tmp_path / "proj"
    logs = project / "data" / "raw" / "logs"
    logs.mkdir(parents=True)
    (logs / "a.jsonl").write_text(jl(QA[0]))
    (project / "data" / "shared.jsonl").write_text(jl(QA[1]))
    (logs / "evil.jsonl").symlink_to(outside / "secret.jsonl")
    (logs / "linked_dir").symlink_to(outside / "dir")
    (logs / "inside.jsonl").symlink_to(Path("..") / ".." / "shared.jsonl")
    return project


def test_symlinks_out_of_the_project_are_not_followed_and_are_noted(tmp_path):
    project = _symlinked_folder(tmp_path)
    result = read_source("src", _cfg("data/raw/logs", glob="**/*.jsonl"), project)
    questions = [r["messages"][0]["content"] for r in result.records]
    assert questions == [QA[0]["question"], QA[1]["question"]]  # a.jsonl, inside.jsonl
    assert not any("SECRET" in json.dumps(r, ensure_ascii=False) for r in result.rejects)
    (note,) = result.notes
    assert note.path == "data/raw/logs/evil.jsonl"
    assert note.reason == Reason.SYMLINK_OUTSIDE_PROJECT and note.refused
    assert note.detail == (
        f"data/raw/logs/evil.jsonl: a symlink to {tmp_path / 'outside' / 'secret.jsonl'}, "
        "outside the project; not read (copy the file under data/raw/ or `dvc import` it)"
    )


def test_a_file_under_a_symlinked_folder_out_of_the_project_is_refused_too(tmp_path):
    project = _symlinked_folder(tmp_path)
    with pytest.raises(SourceError, match="linked_dir/more.jsonl: a symlink to .*more.jsonl"):
        read_source("src", _cfg("data/raw/logs", glob="linked_dir/*.jsonl"), project)


def test_a_symlink_into_the_dvc_cache_outside_the_project_is_followed(tmp_path):
    cache = tmp_path / "shared-cache" / "files" / "md5" / "ab"
    cache.mkdir(parents=True)
    (cache / "cdef").write_text(jl(QA[2]))
    project = tmp_path / "proj"
    (project / ".dvc").mkdir(parents=True)
    (project / ".dvc" / "config").write_text("[cache]\n    dir = ../../shared-cache\n")
    (project / "data" / "raw").mkdir(parents=True)
    (project / "data" / "raw" / "faq.jsonl").symlink_to(cache / "cdef")
    result = read_source("src", _cfg("data/raw"), project)
    assert len(result.records) == 1 and result.notes == []


def test_the_ingest_stage_warns_about_refused_symlinks_and_counts_them(
    tmp_path, monkeypatch, caplog
):
    project = _symlinked_folder(tmp_path)
    params = make_project(
        tmp_path / "p2", {"src": source_cfg("data/raw/logs", glob="**/*.jsonl")}, {}
    )
    (project / "params.yaml").write_text((params / "params.yaml").read_text("utf-8"), "utf-8")
    for folder in ("schemas", "guidelines"):
        os.symlink(params / folder, project / folder)
    with caplog.at_level(logging.WARNING, logger="ftdata"):
        assert run_stage(project, monkeypatch, "ingest", "src") == 0
    m = metrics(project, "ingest", "src")
    assert m["files"] == {
        "read": 2,
        "refused": {"symlink_outside_project": 1},
        "without_records": {},
    }
    assert m["file_notes"]["data/raw/logs/evil.jsonl"] == "symlink_outside_project"
    assert (m["in"], m["out"]) == (2, 2)
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "source `src`: 1 file(s) gave no record: data/raw/logs/evil.jsonl: a symlink" in warning
    table = pq.read_table(project / "data/interim/rejects/ingest/src.parquet")
    assert "SECRET" not in json.dumps(table.to_pylist())


def test_a_folder_of_only_outside_symlinks_is_a_source_error(tmp_path):
    (tmp_path / "outside.jsonl").write_text(jl(QA[0]))
    folder = tmp_path / "proj" / "data" / "raw"
    folder.mkdir(parents=True)
    (folder / "x.jsonl").symlink_to(tmp_path / "outside.jsonl")
    with pytest.raises(SourceError, match="no file could be read; data/raw/x.jsonl: a symlink"):
        read_source("src", _cfg("data/raw"), tmp_path / "proj")


# ---------------------------------------------------------------- 3. globs
@pytest.mark.parametrize("glob", ["/etc/passwd", "../*", "sub/../../*.jsonl", "C:\\data\\*"])
def test_an_absolute_or_climbing_glob_is_a_config_error_with_exit_2(
    tmp_path, monkeypatch, capsys, glob
):
    project = make_project(
        tmp_path,
        {"src": source_cfg("data/raw/logs", glob=glob)},
        {"data/raw/logs/a.jsonl": jl(QA[0])},
    )
    assert run_stage(project, monkeypatch, "ingest", "src") == 2
    err = capsys.readouterr().err
    assert err.startswith("ftdata ingest: error: ") and "source.src.glob" in err
    assert "must be relative to the source folder" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_compose_refuses_an_absolute_glob_naming_the_conf_file(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    cfg = source_cfg("data/raw", glob="/etc/passwd")
    with pytest.raises(ConfigError, match=r"^conf/source/x\.yaml: source\.x\.glob: '/etc/passwd'"):
        check_source("x", cfg, "conf/source/x.yaml", tmp_path)


def test_a_relative_recursive_glob_still_works(tmp_path):
    files = {"data/raw/logs/2024/a.jsonl": jl(QA[0]), "data/raw/logs/b.jsonl": jl(QA[1])}
    result = _read(tmp_path, files, "data/raw/logs", glob="**/*.jsonl")
    assert len(result.records) == 2


# ---------------------------------------------------------------- 4. xlsx zip bombs
def _workbook_bytes(rows: int = 3) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["question", "answer"])
    for i in range(rows):
        sheet.append([QA[i % 3]["question"], QA[i % 3]["answer"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _patch_sheet(workbook: bytes, old: bytes, new: bytes) -> bytes:
    """``workbook`` with ``old`` replaced by ``new`` in its sheet XML (re-zipped)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in data
                data = data.replace(old, new, 1)
            patched.writestr(info.filename, data)
    return buffer.getvalue()


def _bomb(padding: int) -> bytes:
    """A valid workbook whose sheet XML carries ``padding`` bytes of comment: deflate packs
    repetitive XML ~1000:1, which is how a 410 KB file unpacks to 400 MB."""
    comment = b"<!--" + b" " * padding + b"-->"
    return _patch_sheet(_workbook_bytes(), b"<sheetData>", comment + b"<sheetData>")


def test_an_xlsx_zip_bomb_is_refused_from_its_zip_directory(tmp_path, monkeypatch):
    load_workbook = openpyxl.load_workbook

    def guarded(path, **kwargs):
        assert Path(path).name != "bomb.xlsx", "openpyxl opened the bomb"
        return load_workbook(path, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", guarded)
    data = _bomb(20 << 20)
    assert len(data) < 100_000  # 20 MB of XML in a few dozen KB
    files = {"data/raw/b/bomb.xlsx": data, "data/raw/b/good.xlsx": _workbook_bytes()}
    result = _read(tmp_path, files, "data/raw/b", "xlsx")
    assert len(result.records) == 3
    (note,) = result.notes
    assert note.reason == Reason.ARCHIVE_TOO_LARGE
    assert "more than ingest.max_compression_ratio (200x): a zip bomb" in note.detail


def test_an_xlsx_that_unpacks_past_max_decompressed_bytes_is_refused(tmp_path):
    files = {"data/raw/x/a.xlsx": _workbook_bytes(), "data/raw/x/big.xlsx": _workbook_bytes(400)}
    limits = FileLimits(max_decompressed_bytes=40_000)
    result = _read(tmp_path, files, "data/raw/x", "xlsx", limits=limits)
    assert len(result.records) == 3  # a.xlsx is read, big.xlsx is not
    (note,) = result.notes
    assert note.path == "data/raw/x/big.xlsx" and note.reason == Reason.ARCHIVE_TOO_LARGE
    assert "more than ingest.max_decompressed_bytes (40,000)" in note.detail


def test_the_ingest_stage_reads_on_past_a_bomb_and_fails_a_source_of_only_a_bomb(
    tmp_path, monkeypatch, capsys
):
    bomb = _bomb(2 << 20)
    sources = {
        "mixed": source_cfg("data/raw/mixed", "xlsx"),
        "only": source_cfg("data/raw/only.xlsx", "xlsx"),
    }
    files = {
        "data/raw/mixed/a.xlsx": _workbook_bytes(),
        "data/raw/mixed/bomb.xlsx": bomb,
        "data/raw/only.xlsx": bomb,
    }
    project, statuses = _stage(tmp_path, monkeypatch, sources, files)
    assert statuses == {"mixed": 0, "only": 3}
    m = metrics(project, "ingest", "mixed")
    assert m["files"]["refused"] == {"archive_too_large": 1} and m["out"] == 3 and balanced(m)
    err = capsys.readouterr().err
    assert "ftdata ingest: error: source 'only': no file could be read; data/raw/only.xlsx:" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- 5. files without records
def test_a_page_without_questions_is_noted_as_no_records(tmp_path):
    files = {
        "data/raw/md/faq.md": "## 怎么查账单？\n\n登录手机银行。\n",
        "data/raw/md/about.md": "# 关于我们\n\n我们是一家银行。\n",
    }
    result = _read(tmp_path, files, "data/raw/md", "markdown", fields={})
    assert len(result.records) == 1
    (note,) = result.notes
    assert (note.path, note.reason, note.refused) == ("data/raw/md/about.md", "no_records", False)
    assert "no heading of level 2/3 (source.src.heading_levels)" in note.detail


def test_an_html_page_without_questions_is_noted_as_no_records(tmp_path):
    page = "<html><body><p>Welcome.</p><script>x()</script></body></html>"
    result = _read(tmp_path, {"data/raw/p.html": page}, "data/raw/p.html", "html", fields={})
    assert [n.reason for n in result.notes] == [Reason.NO_RECORDS]


def test_an_all_nul_file_is_noted_as_binary_without_decoding_it(tmp_path, monkeypatch):
    def never(self, **kwargs):
        raise AssertionError(f"{self.rel} was decoded")

    monkeypatch.setattr(FileContext, "decode", never)
    result = _read(tmp_path, {"data/raw/z.jsonl": b"\x00" * 4096}, "data/raw/z.jsonl")
    (note,) = result.notes
    assert note.reason == Reason.BINARY_FILE and "4,096 bytes of NUL only" in note.detail


def test_a_1gb_sparse_file_is_noted_without_being_read_whole(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "raw" / "logs"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(jl(QA[0]))
    with open(folder / "sparse.jsonl", "wb") as fh:
        fh.truncate(1 << 30)  # a hole: no disk used
    read_whole = Path.read_bytes

    def guarded(self):
        assert self.name != "sparse.jsonl", "the sparse file was read whole"
        return read_whole(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    result = read_source("src", _cfg("data/raw/logs"), tmp_path)
    assert len(result.records) == 1
    (note,) = result.notes
    assert note.reason == Reason.BINARY_FILE and "1,073,741,824 bytes" in note.detail


def test_a_text_file_past_max_file_bytes_is_refused(tmp_path):
    files = {"data/raw/l/a.jsonl": jl(QA[0]), "data/raw/l/big.jsonl": jl(*QA * 20)}
    result = _read(tmp_path, files, "data/raw/l", limits=FileLimits(max_file_bytes=1000))
    (note,) = result.notes
    assert note.reason == Reason.FILE_TOO_LARGE and note.refused
    assert "more than ingest.max_file_bytes (1,000)" in note.detail
    assert len(result.records) == 1


def test_the_ingest_stage_counts_files_without_records_and_stays_balanced(
    tmp_path, monkeypatch, caplog
):
    files = {
        "data/raw/md/faq.md": "## 怎么查账单？\n\n登录手机银行。\n",
        "data/raw/md/about.md": "# 关于我们\n\n我们是一家银行。\n",
        "data/raw/md/zero.md": b"\x00" * 100,
    }
    sources = {"src": source_cfg("data/raw/md", "markdown", fields={})}
    with caplog.at_level(logging.WARNING, logger="ftdata"):
        project, statuses = _stage(tmp_path, monkeypatch, sources, files)
    assert statuses == {"src": 0}
    m = metrics(project, "ingest", "src")
    assert balanced(m) and (m["in"], m["out"]) == (1, 1)
    assert m["files"] == {
        "read": 2,
        "refused": {},
        "without_records": {"binary_file": 1, "no_records": 1},
    }
    assert m["file_notes"] == {
        "data/raw/md/about.md": "no_records",
        "data/raw/md/zero.md": "binary_file",
    }
    (warning,) = [r.getMessage() for r in caplog.records if "gave no record" in r.getMessage()]
    assert warning.startswith("source `src`: 2 file(s) gave no record: data/raw/md/about.md:")


# ---------------------------------------------------------------- 6. invisible characters, NaN
def test_bidi_and_zero_width_characters_leave_ids_meta_and_labels(tmp_path):
    line = {
        "id": "T\u202e01",
        "session": "s\u200b1",
        "question": "q\u202e?",
        "answer": "a",
        "agent": {"name": "王\u2066五\u2069"},
        "tag": "BILL\u200d",
    }
    result = _read(
        tmp_path,
        {"data/raw/s.jsonl": jl(line)},
        "data/raw/s.jsonl",
        fields={
            "id": "id",
            "conversation_id": "session",
            "question": "question",
            "answer": "answer",
            "label": "tag",
            "meta": ["agent"],
        },
        label_map={"BILL": LEAF},
    )
    (record,) = result.records
    meta = json.loads(record["meta"])
    assert record["conversation_id"] == "src:s1" and record["label"] == LEAF
    assert meta["raw_id"] == "T01" and meta["agent"] == {"name": "王五"}
    assert meta["control_chars_removed"] == 5 and result.controls_removed == 5
    assert record["messages"][0]["content"] == "q\u202e?"  # content: clean's remove_control


def test_line_breaks_in_meta_values_stay_line_breaks(tmp_path):
    line = {"question": "q", "answer": "a", "note": "one\r\ntwo\rthree\u0007"}
    fields = {"question": "question", "answer": "answer", "meta": ["note"]}
    result = _read(tmp_path, {"data/raw/s.jsonl": jl(line)}, "data/raw/s.jsonl", fields=fields)
    meta = json.loads(result.records[0]["meta"])
    assert meta["note"] == "one\ntwo\nthree" and meta["control_chars_removed"] == 1


@pytest.mark.parametrize("fmt", ["jsonl", "scrapy", "elk", "json"])
def test_json_nan_and_infinity_read_as_null_and_are_counted_in_every_json_reader(tmp_path, fmt):
    body = '{"question": "q", "answer": "a", "score": NaN, "n": [Infinity, -Infinity]}'
    broken = '{"question": NaN, "answer": "a"}'
    if fmt == "elk":
        body = '{"_id": "1", "_source": ' + body + "}"
        broken = '{"_id": "2", "_source": ' + broken + "}"
    data = f"[{body},\n{broken}]" if fmt == "json" else f"{body}\n{broken}\n"
    prefix = "_source." if fmt == "elk" else ""
    fields = {"question": f"{prefix}question", "answer": f"{prefix}answer"}
    fields["meta"] = [f"{prefix}score", f"{prefix}n"]
    rel = f"data/raw/s.{fmt}"
    result = _read(tmp_path, {rel: data}, rel, fmt, fields=fields)
    (record,) = result.records
    meta = json.loads(record["meta"])
    assert f"{prefix}score" not in meta and meta[f"{prefix}n"] == [None, None]
    assert meta["nonfinite_to_null"] == 3
    (reject,) = result.rejects
    assert reject["reason"] == Reason.MISSING_FIELD and "is null" in reject["detail"]
    assert result.nonfinite_to_null == 4


def test_the_ingest_stage_reports_nan_and_removed_characters_in_its_metrics(tmp_path, monkeypatch):
    rel = "data/raw/s.jsonl"
    data = '{"question": "q", "answer": "a", "s": NaN, "c": "x\u202ey"}\n'
    sources = {
        "src": source_cfg(
            rel,
            fields={
                "question": "question",
                "answer": "answer",
                "conversation_id": "c",
                "meta": ["s"],
            },
        )
    }
    project, statuses = _stage(tmp_path, monkeypatch, sources, {rel: data})
    assert statuses == {"src": 0}
    m = metrics(project, "ingest", "src")
    assert (m["nonfinite_to_null"], m["control_chars_removed"]) == (1, 1)


# ---------------------------------------------------------------- 7. unmapped labels
LABELLED = [
    {**QA[i % 3], "tag": tag} for i, tag in enumerate(["BILL", "NEW", "NEW", "OTHER", "BILL"])
]


def _label_source(rel: str, **extra) -> dict:
    fields = {"question": "question", "answer": "answer", "label": "tag"}
    return source_cfg(rel, fields=fields, label_map={"BILL": LEAF}, **extra)


def test_unmapped_labels_are_counted_in_the_metrics_and_warned_about(tmp_path, monkeypatch, caplog):
    rel = "data/raw/s.jsonl"
    with caplog.at_level(logging.WARNING, logger="ftdata"):
        project, statuses = _stage(
            tmp_path, monkeypatch, {"src": _label_source(rel)}, {rel: jl(*LABELLED)}
        )
    assert statuses == {"src": 0}
    m = metrics(project, "ingest", "src")
    assert m["unmapped_labels"] == {
        "records": 3,
        "distinct": 2,
        "action": "keep",
        "top": {"NEW": 2, "OTHER": 1},
    }
    assert m["out"] == 5
    (warning,) = [r.getMessage() for r in caplog.records if "label_map" in r.getMessage()]
    assert warning.startswith(
        "source `src`: 3 of 5 record(s) have a raw label that source.src.label_map does not "
        "map ('NEW' x2, 'OTHER' x1); they are kept unlabelled"
    )


def test_unmapped_label_reject_rejects_them_with_their_own_reason(tmp_path, monkeypatch):
    rel = "data/raw/s.jsonl"
    sources = {"src": _label_source(rel, unmapped_label="reject")}
    project, statuses = _stage(
        tmp_path, monkeypatch, sources, {rel: jl(*LABELLED)}, max_reject_ratio=0.9
    )
    assert statuses == {"src": 0}
    m = metrics(project, "ingest", "src")
    assert balanced(m) and m["out"] == 2 and m["rejected"] == {"unmapped_label": 3}
    assert m["unmapped_labels"]["action"] == "reject"
    details = sorted(r["detail"] for r in rejects(project, "ingest", "src"))
    assert details[0] == (
        "data/raw/s.jsonl:2: field 'tag' (fields.label) is 'NEW', which "
        "source.src.label_map does not map (source.src.unmapped_label: reject)"
    )


def test_an_unknown_unmapped_label_choice_is_a_config_error(tmp_path, monkeypatch, capsys):
    rel = "data/raw/s.jsonl"
    project = make_project(
        tmp_path, {"src": _label_source(rel, unmapped_label="drop")}, {rel: jl(*LABELLED)}
    )
    assert run_stage(project, monkeypatch, "ingest", "src") == 2
    err = capsys.readouterr().err
    assert "source.src.unmapped_label" in err and "keep, reject" in err
