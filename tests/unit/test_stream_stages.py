"""annotate, split, validate and export stream their records in chunks of ``executor.chunk_size``.

Memory stays bounded only if no stage reads the whole record frame; the
outputs must not notice. Each stage here runs twice on the same input, with a
chunk size of 3 (records and groups cross chunk boundaries; some chunks are
rejected whole) and 10000 (one chunk, what the stages did before streaming),
and every output file must be the same bytes, every record accounted for, in
input order.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from ftdata.io import read_records, write_records
from tests.helpers import chat, frame
from tests.miniproject import balanced, make_project, metrics, rejects, run_stage

BILL, FEE = "账户问题>账单>账单查询", "产品问题>年费>年费政策"
STAGES = ("annotate", "split", "validate", "export")


def _records():
    recs = [
        chat(
            ("user", "我的账单怎么查？"), ("assistant", "请登录手机银行查询。"), line=1, label=BILL
        ),
        chat(("user", "How do I check my bill?"), ("assistant", "Open the app."), line=2),
        chat(("user", "年费怎么收"), ("assistant", "首年免年费。"), line=3, label=FEE),
        chat(("user", "Annual fee?"), ("assistant", "Waived in year one."), line=4, label=FEE),
        # not trainable: validate rejects it
        chat(("user", "在吗"), line=5, label=BILL),
        chat(("user", "积分 points 怎么兑换"), ("assistant", "在积分商城兑换。"), line=6),
        chat(("user", "Lost my card"), ("assistant", "Call us to freeze it."), line=7),
        # a label outside the taxonomy: annotate rejects it
        chat(("user", "没有的标签"), ("assistant", "好的"), line=8, label="不存在>的>标签"),
        chat(("user", "还款日是哪天"), ("assistant", "每月 25 日。"), line=9, label=BILL),
        chat(("user", "Can I pay later?"), ("assistant", "Yes, by instalments."), line=10),
        # production feedback without an adjudicated label: export holds it
        chat(("user", "客服答错了"), ("assistant", "抱歉。"), line=11, source_kind="feedback"),
        chat(("user", "最后一条 last one"), ("assistant", "好的 ok"), line=12, label=FEE),
    ]
    for rec in recs:
        rec["license"] = "internal-use-only"
    # Groups across chunks: a near-duplicate of record 2, and an augmented record whose
    # parent is record 0. Alone, each would hash to train; their groups go to val.
    for i, conversation in ((0, "unit:conv-7"), (2, "unit:conv-1"), (6, "unit:conv-3")):
        recs[i]["conversation_id"] = conversation
    recs[9]["conversation_id"], recs[9]["dup_cluster"] = "unit:conv-2", recs[2]["id"]
    recs[6]["parents"] = [recs[0]["id"]]
    return recs


def _project(dest: Path, chunk_size: int) -> Path:
    recs = _records()
    ids = [r["id"] for r in recs]
    votes = [
        f"{ids[1]},li_na,{BILL},2.0",
        f"{ids[1]},wang,{BILL},2.0",  # consensus: a label for an unlabelled record
        f"{ids[5]},li_na,{BILL},2.0",
        f"{ids[5]},wang,{FEE},2.0",  # no consensus: annotate rejects the record
        f"{ids[9]},li_na,{FEE},2.0",
        f"{ids[9]},wang,{FEE},2.0",
    ]
    files = {"data/raw/ann.csv": "id,annotator,label,guideline_version\n" + "\n".join(votes) + "\n"}
    project = make_project(
        dest,
        {},
        files,
        executor={"chunk_size": chunk_size},
        validate={"max_reject_ratio": 0.5},
        annotate={
            "inputs": [{"path": "data/raw/ann.csv", "tool": "csv", "batch": "b1"}],
            "unresolved": "reject",
            "label_not_in_taxonomy": "reject",
        },
    )
    write_records(project / "data/interim/quality.parquet", frame(*recs))
    return project


def _run(project: Path, monkeypatch, stage: str) -> None:
    assert run_stage(project, monkeypatch, stage) == 0, stage
    interim = project / "data/interim"
    if stage == "annotate":  # augment and balance are not under test: pass records through
        shutil.copy(interim / "annotate.parquet", interim / "balance.parquet")


def _digests(project: Path) -> dict[str, str]:
    return {
        str(p.relative_to(project)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted((project / "data").rglob("*"))
        if p.is_file() and "raw" not in p.parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    projects = {}
    try:
        for size in (3, 10000):
            project = _project(tmp_path_factory.mktemp(f"chunk{size}"), size)
            for stage in STAGES:
                _run(project, monkeypatch, stage)
            projects[size] = project
    finally:
        monkeypatch.undo()
    return projects


def test_every_output_is_the_same_bytes_whatever_the_chunk_size(built):
    small, whole = _digests(built[3]), _digests(built[10000])
    assert "data/processed/records.parquet" in small and "data/interim/split.parquet" in small
    # validate goes through the row-stage runner, which writes a row group per chunk
    # (dvc.yaml makes it depend on ``executor``): same records, not the same bytes.
    rel = "data/interim/validate.parquet"
    del small[rel], whole[rel]
    assert pq.read_table(built[3] / rel).equals(pq.read_table(built[10000] / rel))
    assert small == whole


@pytest.mark.parametrize("stage", STAGES)
def test_chunked_stages_account_for_every_record_in_input_order(built, stage):
    project = built[3]
    source = {
        "annotate": "quality",
        "split": "balance",
        "validate": "split",
        "export": "validate",
    }[stage]
    before = list(read_records(project / f"data/interim/{source}.parquet")["id"])
    out = (
        project / "data/processed/records.parquet"
        if stage == "export"
        else project / f"data/interim/{stage}.parquet"
    )
    after = list(read_records(out)["id"])
    rejected = {r["id"] for r in rejects(project, stage)}
    assert after == [i for i in before if i not in rejected]
    m = metrics(project, stage)
    assert balanced(m) and m["in"] == len(before) and m["out"] == len(after)


def test_the_rejects_cross_chunks_and_carry_their_reasons(built):
    project = built[3]
    assert sorted(r["reason"] for r in rejects(project, "annotate")) == [
        "annotation_conflict",
        "label_not_in_taxonomy",
    ]
    assert [r["reason"] for r in rejects(project, "validate")] == ["not_trainable"]
    assert [r["reason"] for r in rejects(project, "export")] == ["awaiting_review"]
    annotated = read_records(project / "data/interim/annotate.parquet")
    labels = dict(zip(annotated["id"], annotated["label"], strict=True))
    ids = [r["id"] for r in _records()]
    assert labels[ids[1]] == BILL  # consensus of two votes


def test_groups_across_chunks_land_in_one_split(built):
    from ftdata.ops.split import split_for, unit_hash

    params = yaml.safe_load((built[3] / "params.yaml").read_text(encoding="utf-8"))["split"]

    def alone(key: str) -> str:
        return split_for(unit_hash(params["seed"], key), params["ratios"])

    assert alone("unit:conv-2") == alone("unit:conv-3") == "train"
    assert alone("unit:conv-1") == alone("unit:conv-7") == "val"
    split = read_records(built[3] / "data/interim/split.parquet").set_index("id")["split"]
    ids = [r["id"] for r in _records()]
    assert split[ids[2]] == split[ids[9]] == "val"  # near-duplicates, chunks 1 and 3
    assert split[ids[0]] == split[ids[6]] == "val"  # parent and augmented child, chunks 1 and 2
    report = metrics(built[3], "split")["splits"]
    assert report["total"] == len(split) and sum(report["splits"].values()) == len(split)


def test_row_group_writer_cuts_fixed_row_groups_whatever_the_chunks(tmp_path):
    from ftdata.stream import RowGroupWriter, iter_chunks

    source = tmp_path / "in.parquet"
    write_records(source, frame(*_records()))
    digests = set()
    for size in (1, 3, 5, 100):
        out = tmp_path / f"out{size}.parquet"
        with RowGroupWriter(out, row_group_rows=4) as writer:
            for chunk in iter_chunks(source, size):
                writer.write(chunk)
        assert pq.ParquetFile(out).metadata.num_row_groups == 3
        digests.add(hashlib.md5(out.read_bytes()).hexdigest())
    assert len(digests) == 1
    # up to one row group: the bytes ``write_records`` gives the whole frame
    with RowGroupWriter(tmp_path / "one.parquet") as writer:
        for chunk in iter_chunks(source, 2):
            writer.write(chunk)
    assert (tmp_path / "one.parquet").read_bytes() == source.read_bytes()


def test_row_group_writer_leaves_nothing_behind_when_the_stage_fails(tmp_path):
    from ftdata.stream import RowGroupWriter

    out = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError), RowGroupWriter(out, row_group_rows=2) as writer:
        writer.write(frame(*_records()))
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
