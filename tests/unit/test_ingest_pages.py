"""Ingest of crawled FAQ pages (markdown, HTML) into question/answer records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftdata.errors import ConfigError
from ftdata.ingest import read_source
from ftdata.reasons import Reason


def _read(root: Path, files: dict[str, bytes | str], fmt: str, **extra):
    folder = root / "data" / "raw" / "faq"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    cfg = {
        "path": "data/raw/faq",
        "format": fmt,
        "kind": "crawl",
        "license": "bank-internal",
        "owner": "web-team",
        "collected_at": "2024-05-01",
    }
    result = read_source("faq", cfg | extra, root)
    assert result.n_read == len(result.records) + len(result.rejects)
    return result


def _pairs(result) -> list[tuple[str, str]]:
    return [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in result.records]


MARKDOWN = """---
title: 信用卡常见问题
---
# 帮助中心

页面简介，不属于任何问题。

## 账单

### 如何查询账单？

登录手机银行，点击“账单”。

#### 小贴士
每月账单日后可查。

### How do I pay my bill? {#pay}

Use **autopay** in the app.

```bash
# not a heading: a comment inside a code block
pay --now
```

## 积分
### 积分怎么兑换？
"""


def test_markdown_headings_become_questions_with_text_up_to_the_next_heading(tmp_path):
    result = _read(tmp_path, {"cards.md": MARKDOWN, "logo.png": b"\x89PNG"}, "markdown")
    assert _pairs(result) == [
        ("如何查询账单？", "登录手机银行，点击“账单”。\n\n#### 小贴士\n每月账单日后可查。"),
        (
            "How do I pay my bill?",
            "Use **autopay** in the app.\n\n```bash\n# not a heading: a comment inside a code block\npay --now\n```",
        ),
    ]
    assert [r["locator"] for r in result.records] == [
        "data/raw/faq/cards.md:10",
        "data/raw/faq/cards.md:17",
    ]
    meta = json.loads(result.records[0]["meta"])
    assert meta == {"page_title": "信用卡常见问题", "section": "账单"}
    assert result.records[0]["source_kind"] == "crawl"


def test_markdown_headings_without_answer_text_are_empty_records(tmp_path):
    result = _read(tmp_path, {"cards.md": MARKDOWN}, "markdown")
    # "## 账单" and "## 积分" are followed straight by a question; "### 积分怎么兑换？" by nothing
    reasons = [(r["locator"], r["reason"]) for r in result.rejects]
    assert reasons == [
        ("data/raw/faq/cards.md:8", Reason.EMPTY_RECORD),
        ("data/raw/faq/cards.md:26", Reason.EMPTY_RECORD),
        ("data/raw/faq/cards.md:27", Reason.EMPTY_RECORD),
    ]
    assert "'积分怎么兑换？' has no answer text" in result.rejects[2]["detail"]


def test_markdown_heading_levels_choose_which_headings_are_questions(tmp_path):
    result = _read(tmp_path, {"cards.md": MARKDOWN}, "markdown", heading_levels=[3])
    assert [q for q, _a in _pairs(result)] == ["如何查询账单？", "How do I pay my bill?"]
    assert [r["reason"] for r in result.rejects] == [Reason.EMPTY_RECORD]  # 积分怎么兑换？


def test_markdown_setext_headings_and_gbk_pages(tmp_path):
    page = "常见问题\n========\n\n挂失补卡\n--------\n\n请拨打客服电话挂失。\n\n- 列表项\n---\n".encode(
        "gbk"
    )
    result = _read(tmp_path, {"lost.md": page}, "markdown")
    assert _pairs(result) == [("挂失补卡", "请拨打客服电话挂失。\n\n- 列表项\n---")]
    assert json.loads(result.records[0]["meta"])["page_title"] == "常见问题"


def test_markdown_ids_are_stable_and_follow_the_section_text(tmp_path):
    page = "## 年费怎么收？\n\n首年免年费。\n\n## 额度怎么调？\n\n在App申请。\n"
    first = _read(tmp_path, {"fee.md": page}, "markdown")
    again = _read(tmp_path, {"fee.md": page}, "markdown")
    edited = _read(tmp_path, {"fee.md": page.replace("在App申请", "在网点申请")}, "markdown")
    ids = [[r["id"] for r in res.records] for res in (first, again, edited)]
    assert ids[0] == ids[1]
    assert ids[2][0] == ids[0][0] and ids[2][1] != ids[0][1]


HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>分期业务 FAQ</title>
<style>h2 { color: red; }</style><script>var q = "<h2>not a question</h2>";</script></head>
<body>
<nav><h2>导航里的标题</h2><a href="/">首页</a></nav>
<h1>分期业务</h1>
<h2>账单分期怎么办理？</h2>
<p>登录手机银行，选择&ldquo;账单分期&rdquo;。</p>
<ul><li>最低500元</li><li>最长24期</li></ul>
<h2>Can I repay early?</h2>
<p>Yes, with a fee.</p><script>track()</script><aside><h3>相关推荐</h3></aside>
<dl>
  <dt>分期手续费多少？</dt><dd>每期0.6%。</dd>
  <dt>没有答案的问题</dt>
</dl>
<details><summary>提前还款有违约金吗？</summary><p>收取剩余本金的3%。</p></details>
<h2>空问题</h2>
<footer><p>版权所有</p></footer>
</body></html>
"""


def test_html_headings_definition_lists_and_details_become_pairs(tmp_path):
    result = _read(tmp_path, {"installment.html": HTML}, "html")
    assert _pairs(result) == [
        ("账单分期怎么办理？", "登录手机银行，选择“账单分期”。\n- 最低500元\n- 最长24期"),
        ("Can I repay early?", "Yes, with a fee."),
        ("分期手续费多少？", "每期0.6%。"),
        ("提前还款有违约金吗？", "收取剩余本金的3%。"),
    ]
    assert [r["locator"] for r in result.records] == [
        "data/raw/faq/installment.html:7",
        "data/raw/faq/installment.html:10",
        "data/raw/faq/installment.html:13",
        "data/raw/faq/installment.html:16",
    ]
    meta = json.loads(result.records[0]["meta"])
    assert meta == {"page_title": "分期业务 FAQ"}  # h1 is the page, not a section
    assert json.loads(result.records[2]["meta"])["section"] == "Can I repay early?"


def test_html_drops_script_style_nav_footer_and_rejects_unanswered(tmp_path):
    result = _read(tmp_path, {"installment.html": HTML}, "html")
    everything = json.dumps([r["messages"] for r in result.records], ensure_ascii=False)
    for dropped in (
        "导航里的标题",
        "not a question",
        "track()",
        "版权所有",
        "color: red",
        "相关推荐",
    ):
        assert dropped not in everything
    assert [(r["locator"], r["reason"]) for r in result.rejects] == [
        ("data/raw/faq/installment.html:14", Reason.EMPTY_RECORD),
        ("data/raw/faq/installment.html:17", Reason.EMPTY_RECORD),
    ]


def test_html_gbk_page_declared_in_meta_charset(tmp_path):
    page = '<html><head><meta charset="gbk"></head><body><h2>年费</h2><p>首年免年费。</p></body></html>'
    result = _read(tmp_path, {"fee.html": page.encode("gbk")}, "html")
    assert _pairs(result) == [("年费", "首年免年费。")]


def test_minified_html_numbers_questions_sharing_a_line(tmp_path):
    page = "<h2>问一</h2><p>答一</p><h2>问二</h2><p>答二</p>"
    result = _read(tmp_path, {"min.html": page}, "html")
    assert [r["locator"] for r in result.records] == [
        "data/raw/faq/min.html:1#1",
        "data/raw/faq/min.html:1#2",
    ]
    assert len({r["id"] for r in result.records}) == 2


def test_page_fields_can_label_questions_by_their_section(tmp_path):
    label_map = {"账单": "账户问题>账单>账单查询"}
    fields = {"label": "section", "text": "question"}
    result = _read(tmp_path, {"cards.md": MARKDOWN}, "markdown", fields=fields, label_map=label_map)
    assert [(r["text"], r["label"]) for r in result.records] == [
        ("如何查询账单？", "账户问题>账单>账单查询"),
        ("How do I pay my bill?", "账户问题>账单>账单查询"),
    ]


@pytest.mark.parametrize(
    ("fields", "key"),
    [({"question": "h3"}, "fields.question"), ({"label": "category"}, "fields.label")],
)
def test_page_fields_may_only_name_page_keys(tmp_path, fields, key):
    with pytest.raises(ConfigError, match=key):
        _read(tmp_path, {"cards.md": MARKDOWN}, "markdown", fields=fields)
