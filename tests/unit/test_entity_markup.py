"""Entity-encoded markup is markup: one behaviour on the JSON, HTML-page and markdown-page paths.

``&lt;script&gt;alert(1)&lt;/script&gt;`` (and its double-escaped form) in a
record ends exactly as ``<script>alert(1)</script>`` does: removed with its
content by ``strip_html`` in the configured ``clean.ops``; entity-encoded
inline tags (``&lt;b&gt;年费&lt;/b&gt;``) lose their tags and keep their text;
plain entities (``&amp;``, ``&#x4e2d;``) decode once. The build here is the
real stages, in process, on a project composed from this repository's conf/,
from ingest to the OpenAI / LLaMA-Factory exports.
"""

from __future__ import annotations

import html
import json

import pytest

from ftdata.io import read_records
from ftdata.ops.text import strip_html
from tests.miniproject import balanced, build, make_project, metrics, source_cfg

SCRIPT = {
    "raw": "<script>alert(1)</script>",
    "encoded": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "double": "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
}
BOLD = {
    "raw": "<b>{}</b>",
    "encoded": "&lt;b&gt;{}&lt;/b&gt;",
    "double": "&amp;lt;b&amp;gt;{}&amp;lt;/b&amp;gt;",
}
# Distinct questions and answers, so dedup keeps every one of them.
QA = [
    ("信用卡账单在哪里查看", "您可以登录手机银行APP，进入信用卡页面查看本期账单明细", "账单"),
    ("积分怎么兑换礼品", "积分可以在积分商城兑换礼品，兑换成功后七个工作日内寄出", "积分"),
    ("临时额度如何申请", "临时额度可在APP的额度管理中申请，有效期一般为九十天", "额度"),
    ("卡片丢失怎么挂失", "请立即拨打客服热线或在手机银行办理挂失，挂失后原卡停用", "挂失"),
    ("分期手续费怎么计算", "分期手续费按每期本金乘以费率计算，具体费率以页面展示为准", "分期"),
    ("年费可以减免吗", "当年刷卡满六次即可免次年年费，白金卡以卡片权益说明为准", "年费"),
    ("最低还款额是多少", "最低还款额为账单金额的百分之十，另加上期未还的最低还款额", "还款"),
    ("账单日能修改吗", "每张卡每年可以修改一次账单日，修改后下个账单周期生效", "账单日"),
    ("境外消费怎么还款", "境外消费可以用人民币购汇还款，购汇按当日汇率计算", "境外"),
]
PATHS = ("jsonl", "html", "markdown")
VARIANTS = ("raw", "encoded", "double")


def _answer(i: int, variant: str) -> str:
    """The answer as a source system would export it (markup in the given escaping)."""
    _q, answer, word = QA[i]
    bold = BOLD[variant].format(word)
    amp = {"raw": "&", "encoded": "&amp;", "double": "&amp;amp;"}[variant]
    return f"{SCRIPT[variant]}您好，{bold}：{answer}。AT{amp}T"


def _expected(i: int) -> str:
    _q, answer, word = QA[i]
    return f"您好，{word}：{answer}。AT&T"


def _cases() -> dict[tuple[str, str], int]:
    return {(p, v): n for n, (p, v) in enumerate((p, v) for p in PATHS for v in VARIANTS)}


def _files() -> dict[str, str]:
    cases = _cases()
    lines, page, md = [], ["<html><body><h1>FAQ</h1>"], ["# FAQ", ""]
    for (path, variant), i in cases.items():
        question, answer = QA[i][0], _answer(i, variant)
        if path == "jsonl":
            lines.append(json.dumps({"question": question, "answer": answer}, ensure_ascii=False))
        elif path == "html":
            # A page's source escapes its text once more: "raw" is a real <script> element,
            # "encoded" shows the text <script> (&lt;script&gt; in the source), and so on.
            if variant != "raw":
                answer = html.escape(_answer(i, VARIANTS[VARIANTS.index(variant) - 1]), quote=False)
            page.append(f"<h3>{question}</h3>\n<p>{answer}</p>")
        else:
            md += [f"### {question}", "", answer, ""]
    return {
        "data/raw/logs.jsonl": "\n".join(lines) + "\n",
        "data/raw/pages/faq.html": "\n".join([*page, "</body></html>"]) + "\n",
        "data/raw/manual/guide.md": "\n".join(md),
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_entity_encoded_markup_ends_as_the_raw_markup_does(variant):
    assert strip_html(_answer(0, variant)) == strip_html(_answer(0, "raw")) == _expected(0)


@pytest.mark.parametrize(
    "text",
    [
        "&lt;svg onload=alert(1)&gt;请问",
        "&lt;p&gt;&lt;a href=x&gt;点此&lt;/a&gt;&lt;/p&gt;",
        "I typed &lt;script&gt; in the box",
        "a &lt; b, 余额&lt;100元, &lt;PHONE&gt;",
        "&amp;amp;amp;lt;b&amp;amp;amp;gt;深&amp;amp;amp;lt;/b&amp;amp;amp;gt;",
    ],
)
def test_strip_html_gives_the_same_text_whether_markup_came_encoded_or_raw(text):
    assert strip_html(text) == strip_html(html.unescape(html.unescape(html.unescape(text))))
    assert strip_html(strip_html(text)) == strip_html(text)  # nothing left to decode or strip


def test_every_path_cleans_and_exports_encoded_markup_exactly_like_raw_markup(
    tmp_path, monkeypatch
):
    sources = {
        "logs": source_cfg("data/raw/logs.jsonl"),
        "pages": source_cfg("data/raw/pages", "html", glob="*.html", heading_levels=[3], fields={}),
        "manual": source_cfg(
            "data/raw/manual", "markdown", glob="*.md", heading_levels=[3], fields={}
        ),
    }
    project = make_project(tmp_path, sources, _files())
    statuses = build(project, monkeypatch, until="export")
    assert set(statuses.values()) == {0}, statuses
    assert [metrics(project, "ingest", s)["out"] for s in sources] == [len(VARIANTS)] * 3

    clean = read_records(project / "data/interim/clean.parquet")
    assert balanced(metrics(project, "clean")) and len(clean) == len(_cases())
    answers = {(rec["source"], rec["messages"][1]["content"]) for rec in clean.to_dict("records")}
    by_source = {"logs": "jsonl", "pages": "html", "manual": "markdown"}
    assert answers == {
        (source, _expected(i))
        for source, path in by_source.items()
        for (p, _v), i in _cases().items()
        if p == path
    }

    exported = ""
    for split_file in sorted((project / "data/processed").glob("*/*.json*")):
        exported += split_file.read_text(encoding="utf-8")
    for bad in ("<script", "script>", "alert(1)", "&lt;", "&amp;", "<b>"):
        assert bad not in exported, bad
    openai_rows = [
        json.loads(line)
        for f in sorted((project / "data/processed/openai").glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    # every cleaned record is exported (augment may add children beside them)
    assert {_expected(i) for i in _cases().values()} <= {
        r["messages"][-1]["content"] for r in openai_rows
    }
    factory = "".join(
        f.read_text(encoding="utf-8") for f in (project / "data/processed/llamafactory").glob("*")
    )
    assert all(_expected(i) in factory for i in _cases().values())
