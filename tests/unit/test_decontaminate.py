"""Decontamination (ftdata/ops/decontaminate.py, ftdata/benchmarks.py): no training record
may overlap a benchmark text, by exact text, a shared n-gram span, or MinHash Jaccard."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ftdata.benchmarks import benchmark_index, contamination_report, named_benchmarks
from ftdata.dataset_card import decontamination_lines
from ftdata.errors import ConfigError, SourceError
from ftdata.ops.decontaminate import BenchmarkIndex, BenchmarkText, MinHashTest, decontaminate
from ftdata.report_html import section_decontamination
from tests.helpers import chat, frame
from tests.unit.test_report_html import data as report_data

EN_QUESTION = "How do I raise the credit limit on my platinum card before a trip abroad next month?"
ZH_QUESTION = "请问白金卡的年费是多少，刷卡满六次是否可以免除下一年的年费？"
FEE_QUESTION = (
    "My platinum card was charged an annual fee this year even though I used it more than six "
    "times, so can you please tell me how to get the fee waived and refunded to my account?"
)
# Three edits, none 13 tokens from the next: no shared span, character-shingle Jaccard 0.73.
PARAPHRASE_OF = (
    "My platinum card was charged an annual fee this year, even if I used it more than six "
    "times, so could you please tell me how I get the fee waived and refunded to my account?"
)


def _index(*texts: str, benchmark: str = "eval", **tests) -> BenchmarkIndex:
    items = [
        BenchmarkText(benchmark=benchmark, ref=f"{benchmark}:eval.jsonl:{i + 1}", text=t)
        for i, t in enumerate(texts)
    ]
    return BenchmarkIndex(texts=items, **tests)


def _check(records: pd.DataFrame, index: BenchmarkIndex, splits=("train",)):
    return decontaminate(records, index=index, splits=list(splits))


def _train(*records: dict) -> pd.DataFrame:
    return frame(*records).assign(split="train")


def test_a_benchmark_question_pasted_as_a_user_turn_is_rejected_naming_the_record():
    batch = _train(
        chat(("user", EN_QUESTION.upper() + "  "), ("assistant", "Call us."), line=1),
        chat(("user", "Where is my statement?"), ("assistant", "In the app."), line=2),
    )
    result = _check(batch, _index("Unrelated benchmark text about points and miles", EN_QUESTION))
    assert len(result.kept) == 1 and len(result.rejected) == 1
    rejected = result.rejected.iloc[0]
    assert rejected["reason"] == "contaminated"
    assert rejected["detail"] == "exact: equals benchmark record eval:eval.jsonl:2"


@pytest.mark.parametrize(
    "record_text, benchmark_text",
    [
        # 13 Chinese characters in a row, inside a longer record with different wording around
        ("客户说：" + ZH_QUESTION[2:20] + "，麻烦尽快回复我", ZH_QUESTION),
        (
            "Hi, quick one: how do I raise the credit limit on my platinum card before a trip "
            "abroad? Thanks",
            EN_QUESTION,
        ),
    ],
    ids=["zh", "en"],
)
def test_a_shared_13_token_span_is_contamination_in_chinese_and_english(
    record_text, benchmark_text
):
    batch = _train(chat(("user", record_text), ("assistant", "好的 / OK")))
    result = _check(batch, _index(benchmark_text, minhash=None))
    assert result.rejected["detail"].tolist() == [
        "ngram: shares a 13-token span with benchmark record eval:eval.jsonl:1"
    ]


def test_twelve_shared_tokens_are_not_a_13_token_span():
    words = EN_QUESTION.split()
    batch = _train(chat(("user", " ".join(words[:12]) + " please"), ("assistant", "ok")))
    assert _check(batch, _index(EN_QUESTION, minhash=None)).rejected.empty


def test_a_paraphrase_is_caught_by_minhash_only_and_names_its_jaccard():
    batch = _train(chat(("user", PARAPHRASE_OF), ("assistant", "OK")))
    assert _check(batch, _index(FEE_QUESTION, minhash=None)).rejected.empty  # no exact, no span
    loose = _check(batch, _index(FEE_QUESTION, minhash=MinHashTest(threshold=0.7)))
    assert loose.rejected["detail"].tolist() == [
        "minhash: Jaccard 0.732 with benchmark record eval:eval.jsonl:1"
    ]
    strict = _check(batch, _index(FEE_QUESTION, minhash=MinHashTest(threshold=0.8)))
    assert strict.rejected.empty  # the same pair below a stricter threshold


def test_texts_below_min_tokens_match_nothing():
    batch = _train(chat(("user", "你好"), ("assistant", "您好，请问有什么可以帮您")))
    assert _check(batch, _index("你好")).rejected.empty
    assert len(_check(batch, _index("你好", min_tokens=1)).rejected) == 1


def test_only_the_named_splits_are_checked():
    record = chat(("user", EN_QUESTION), ("assistant", "ok"))
    batch = frame(record, {**record, "id": "other"}).assign(split=["val", "train"])
    result = _check(batch, _index(EN_QUESTION))
    assert result.kept["split"].tolist() == ["val"]
    assert result.rejected["split"].tolist() == ["train"]
    assert len(_check(batch, _index(EN_QUESTION), splits=["train", "val"]).rejected) == 2


def test_of_several_matching_benchmark_records_the_smallest_reference_is_named():
    index = BenchmarkIndex(
        texts=[
            BenchmarkText("zeta", "zeta:z.jsonl:9", EN_QUESTION),
            BenchmarkText("alpha", "alpha:a.jsonl:3", EN_QUESTION),
        ]
    )
    batch = _train(chat(("user", EN_QUESTION), ("assistant", "ok")))
    assert _check(batch, index).rejected["detail"].tolist() == [
        "exact: equals benchmark record alpha:a.jsonl:3"
    ]
    assert index.hits == {("alpha", "exact"): 1}


def test_the_verdicts_do_not_depend_on_the_chunking():
    texts = [EN_QUESTION, ZH_QUESTION, FEE_QUESTION]
    rows = [
        chat(("user", EN_QUESTION), ("assistant", "a"), line=1),
        chat(("user", PARAPHRASE_OF), ("assistant", "b"), line=2),
        chat(("user", "Where is my statement this month please?"), ("assistant", "c"), line=3),
        chat(("user", "客户说：" + ZH_QUESTION[:15]), ("assistant", "d"), line=4),
    ]
    test = MinHashTest(threshold=0.7)
    whole = _check(_train(*rows), _index(*texts, minhash=test)).rejected
    one_by_one = pd.concat(
        [_check(_train(row), _index(*texts, minhash=test)).rejected for row in rows]
    )
    assert whole["detail"].tolist() == one_by_one["detail"].tolist()
    assert len(whole) == 3


def _write_benchmark(root, name="eval.jsonl", lines=None):
    folder = root / "data/raw/benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    rows = lines or [
        json.dumps({"qid": "q1", "question": EN_QUESTION, "answer": "In the app."}),
        json.dumps({"qid": "q2", "question": ZH_QUESTION, "answer": "六次免年费。"}),
    ]
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return f"data/raw/benchmarks/{name}"


def _section(*benchmarks: dict) -> dict:
    return {"splits": ["train"], "ngram": 13, "min_tokens": 6, "benchmarks": list(benchmarks)}


def _benchmark(path: str, name: str = "faq") -> dict:
    return {
        "name": name,
        "path": path,
        "format": "jsonl",
        "license": "internal",
        "fields": {"id": "qid", "question": "question", "answer": "answer"},
    }


def test_a_benchmark_file_is_read_like_a_source_and_its_reference_names_file_line_and_id(
    tmp_path,
):
    section = _section(_benchmark(_write_benchmark(tmp_path)))
    index = benchmark_index(tmp_path, section)
    batch = _train(chat(("user", ZH_QUESTION), ("assistant", "x")))
    (detail,) = decontaminate(batch, index=index).rejected["detail"].tolist()
    assert detail == ("exact: equals benchmark record faq:data/raw/benchmarks/eval.jsonl:2 (id q2)")
    report = contamination_report(section, index)
    assert report["contaminated"] == 1
    assert report["benchmarks"]["faq"]["texts"] == 2
    assert report["benchmarks"]["faq"]["by_method"] == {"exact": 1, "ngram": 0, "minhash": 0}


@pytest.mark.parametrize(
    "path", ["data/raw/eval.jsonl", "/tmp/eval.jsonl", "data/raw/benchmarks/../eval.jsonl"]
)
def test_a_benchmark_outside_data_raw_benchmarks_is_a_config_error(tmp_path, path):
    with pytest.raises(ConfigError, match="must be under data/raw/benchmarks/"):
        benchmark_index(tmp_path, _section(_benchmark(path)))


def test_a_benchmark_name_used_twice_is_a_config_error(tmp_path):
    path = _write_benchmark(tmp_path)
    with pytest.raises(ConfigError, match="'faq' is used twice"):
        named_benchmarks(_section(_benchmark(path), _benchmark(path)))


def test_a_missing_benchmark_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="data/raw/benchmarks/none.jsonl does not exist"):
        benchmark_index(tmp_path, _section(_benchmark("data/raw/benchmarks/none.jsonl")))


def test_an_unreadable_benchmark_line_stops_the_build_naming_file_and_line(tmp_path):
    good = json.dumps({"qid": "q1", "question": EN_QUESTION, "answer": "ok"})
    path = _write_benchmark(tmp_path, lines=[good, '{"qid": "q2", "question": '])
    with pytest.raises(SourceError) as caught:
        benchmark_index(tmp_path, _section(_benchmark(path)))
    message = str(caught.value)
    assert "decontaminate.benchmarks.faq" in message and "eval.jsonl:2" in message
    assert "\n" not in message


def test_card_and_report_show_per_benchmark_counts_or_say_overlap_was_unchecked():
    found = {
        "splits": ["train"],
        "contaminated": 4,
        "benchmarks": {
            "faq": {
                "path": "data/raw/benchmarks/faq.jsonl",
                "license": "internal",
                "texts": 15,
                "contaminated": 4,
                "by_method": {"exact": 1, "ngram": 2, "minhash": 1},
            }
        },
    }
    card = "\n".join(decontamination_lines(found))
    assert "4 records of train overlapped a benchmark" in card
    assert "| faq | data/raw/benchmarks/faq.jsonl | internal | 15 | 4 | 1 | 2 | 1 |" in card
    html = section_decontamination(report_data(split={"decontaminate": found}))
    assert "<td>faq</td>" in html and "contaminated" in html
    unchecked = {"splits": ["train"], "contaminated": 0, "benchmarks": {}}
    assert "unchecked" in decontamination_lines(unchecked)[0]
    assert "no benchmark files named" in section_decontamination(report_data(split=None))
