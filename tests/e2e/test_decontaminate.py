"""The example build decontaminates train against data/raw/benchmarks/bank_faq_eval.jsonl."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from ftdata.benchmarks import benchmark_index
from ftdata.ops.decontaminate import record_units
from ftdata.params import validated_section
from tests.conftest import copy_built, run

pytestmark = pytest.mark.e2e

BENCHMARK = "data/raw/benchmarks/bank_faq_eval.jsonl"


def test_the_example_rejects_contaminated_train_records_by_each_test(built_project):
    metrics = json.loads((built_project / "data/metrics/split.json").read_text("utf-8"))
    found = metrics["decontaminate"]
    faq = found["benchmarks"]["bank_faq_eval"]
    assert faq["texts"] == len((built_project / BENCHMARK).read_text("utf-8").splitlines())
    # The example's benchmark is built so that each of the three tests fires.
    assert all(faq["by_method"][m] > 0 for m in ("exact", "ngram", "minhash")), faq
    assert metrics["rejected"]["contaminated"] == found["contaminated"] == faq["contaminated"]

    rejects = pq.read_table(built_project / "data/interim/rejects/split.parquet").to_pandas()
    contaminated = rejects[rejects["reason"] == "contaminated"]
    assert len(contaminated) == faq["contaminated"]
    assert {json.loads(r)["split"] for r in contaminated["record"]} == {"train"}
    assert contaminated["detail"].str.contains(f"benchmark record bank_faq_eval:{BENCHMARK}:").all()

    card = (built_project / "data/processed/README.md").read_text("utf-8")
    assert f"{faq['contaminated']} records of train overlapped a benchmark" in card
    assert 'id="decontamination"' in (built_project / "data/processed/report/index.html").read_text(
        "utf-8"
    )


def test_no_exported_train_record_overlaps_the_benchmark(built_project):
    index = benchmark_index(built_project, validated_section(built_project, "decontaminate"))
    records = pq.read_table(
        built_project / "data/processed/records.parquet", columns=["messages", "text", "split"]
    ).to_pandas()
    train = records[records["split"] == "train"]
    units = [record_units(m, t) for m, t in zip(train["messages"], train["text"], strict=True)]
    assert len(train) > 1000 and not any(index.match_many(units))


def test_editing_a_benchmark_reruns_the_split_and_what_follows(built_project, tmp_path):
    project = copy_built(built_project, tmp_path / "project")
    assert "up to date" in run(["dvc", "status"], project).stdout
    with (project / BENCHMARK).open("a", encoding="utf-8") as f:
        f.write(json.dumps({"qid": "bq-100", "question": "新的评测问题", "answer": "答"}) + "\n")
    changed = json.loads(run(["dvc", "status", "--json"], project).stdout)
    assert "split" in changed and "balance" not in changed
