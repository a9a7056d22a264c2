"""Crawled FAQ / manual pages (markdown, HTML) -> one question/answer pair per section.

A heading whose level is in ``heading_levels`` is a question; the text up to the
next heading of that level or higher is its answer. Deeper headings are part of
the answer. HTML also yields ``<dt>/<dd>`` pairs and ``<details><summary>``
blocks, and drops ``<script>/<style>/<nav>/<footer>`` (and ``<noscript>/<template>``)
entirely. Text outside any question (a page intro) is not a record. A question
with no answer text is an ``empty_record`` reject. Each pair becomes a row with
``question``, ``answer``, ``page_title`` and ``section`` (the enclosing headings,
``" > "``-joined), mapped like any Q/A source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ftdata.ingest.context import FileContext
from ftdata.ingest.encoding import has_bad_bytes, show_bad_bytes
from ftdata.ingest.items import RawReject, RawRow
from ftdata.reasons import Reason
from ftdata.record import canonical_json


@dataclass
class QA:
    """One question and its answer as found on a page, with where it starts."""

    line: int
    question: str = ""
    answer: str = ""
    section: str | None = None
    end_line: int = 0
    raw: str | None = None  # markdown keeps the section's source text
    question_parts: list[str] = field(default_factory=list)
    answer_parts: list[str] = field(default_factory=list)


def _tidy(text: str, *, blank_lines: bool = True) -> str:
    """Trim each line and the ends; keep at most one blank line in a row (or none).

    Markdown's blank lines separate paragraphs on purpose; HTML's come from
    block tags, so they are dropped.
    """
    lines = [line.strip() for line in text.split("\n")]
    if not blank_lines:
        lines = [line for line in lines if line]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _emit(ctx: FileContext, qas: list[QA], page_title: str, nul_per_line: list[int]):
    per_line: dict[int, int] = {}
    for qa in qas:
        per_line[qa.line] = per_line.get(qa.line, 0) + 1
    seen: dict[int, int] = {}
    for qa in qas:
        seen[qa.line] = seen.get(qa.line, 0) + 1
        where = f"{ctx.rel}:{qa.line}"
        # minified HTML can start several questions on one line: number them
        locator = where if per_line[qa.line] == 1 else f"{where}#{seen[qa.line]}"
        raw = qa.raw if qa.raw is not None else canonical_json([qa.question, qa.answer])
        if has_bad_bytes(raw):
            yield ctx.decode_reject(qa.line, raw, locator)
            continue
        if not qa.question:
            message = "a question (heading, <dt> or <summary>) has no text"
            yield RawReject(locator, where, raw, Reason.EMPTY_RECORD, message)
            continue
        if not qa.answer:
            message = f"question {qa.question!r} has no answer text before the next heading"
            yield RawReject(locator, where, raw, Reason.EMPTY_RECORD, message)
            continue
        nul_count = sum(nul_per_line[qa.line - 1 : max(qa.end_line, qa.line)])
        value = {
            "question": qa.question,
            "answer": qa.answer,
            "page_title": page_title,
            "section": qa.section,
        }
        meta = {"nul_bytes_removed": nul_count} if nul_count else {}
        yield RawRow(locator, where, raw, value, meta)


def _section(stack: list[tuple[int, str]]) -> str | None:
    titles = [title for level, title in stack if level > 1 and title]
    return " > ".join(titles) or None


# ---------------------------------------------------------------- markdown
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ANCHOR = re.compile(r"[ \t]*\{#[^}]*\}$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK_START = re.compile(r"^ {0,3}([-*+]|\d+[.)]|>|\|)( |$)|^ {4}")


def _heading_text(text: str) -> str:
    text = _ANCHOR.sub("", text.strip())
    match = re.fullmatch(r"(\*\*|__)(.+)\1", text)
    return (match.group(2) if match else text).strip()


def _front_matter(lines: list[str]) -> tuple[int, str | None]:
    """Lines a YAML front matter block takes, and its ``title:`` if any."""
    if not lines or lines[0].strip() != "---":
        return 0, None
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            title = None
            for line in lines[1:i]:
                match = re.match(r"title\s*:\s*(.+)", line)
                if match:
                    title = match.group(1).strip().strip("'\"")
            return i + 1, title
    return 0, None


def _markdown_headings(lines: list[str], first: int) -> Iterator[tuple[int, int, str, bool]]:
    """(line index, level, text, is_setext) of every heading outside code fences.

    A setext underline (``===`` / ``---``) makes a heading only of a plain
    paragraph line right above it; after a list item, a fence or a blank line
    ``---`` is a horizontal rule.
    """
    fence: str | None = None
    paragraph = False  # is the previous line plain paragraph text?
    for i in range(first, len(lines)):
        line = lines[i]
        match = _FENCE.match(line)
        if match or fence is not None:
            if match and fence is None:
                fence = match.group(1)
            elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            paragraph = False
            continue
        atx = _ATX.match(line)
        setext = _SETEXT.match(line)
        if atx:
            yield i, len(atx.group(1)), atx.group(2) or "", False
        elif setext and paragraph:
            yield i - 1, 1 if setext.group(1)[0] == "=" else 2, lines[i - 1], True
        paragraph = bool(line.strip()) and not atx and not setext and not _BLOCK_START.match(line)


def read_markdown(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """Q/A pairs of a markdown page; locator ``<rel>:<line of the heading>``."""
    source_lines = ctx.decode().lines
    nul_per_line = [line.count("\x00") for line in source_lines]
    lines = [line.replace("\x00", "") for line in source_lines]
    first, page_title = _front_matter(lines)
    levels = set(ctx.spec.heading_levels)
    deepest = max(levels)
    # setext underlines belong to their heading, not to any answer
    headings = [h for h in _markdown_headings(lines, first) if h[1] <= deepest]
    underline = {i + 1 for i, _level, _text, setext in headings if setext}
    stack: list[tuple[int, str]] = []
    qas: list[QA] = []
    for n, (i, level, text, _setext) in enumerate(headings):
        title = _heading_text(text)
        if level == 1 and page_title is None:
            page_title = title
        while stack and stack[-1][0] >= level:
            stack.pop()
        if level in levels:
            end = headings[n + 1][0] if n + 1 < len(headings) else len(lines)
            body = [lines[j] for j in range(i + 1, end) if j not in underline]
            raw = "\n".join(source_lines[i:end]).rstrip()
            qa = QA(line=i + 1, question=title, section=_section(stack), end_line=end, raw=raw)
            qa.answer = _tidy(_COMMENT.sub("", "\n".join(body)))
            qas.append(qa)
        stack.append((level, title))
    yield from _emit(ctx, qas, page_title or ctx.path.stem, nul_per_line)


# ---------------------------------------------------------------- html
_DROP = {"script", "style", "nav", "footer", "aside", "noscript", "template"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead",
    "tr", "ul",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


class _PageParser(HTMLParser):
    """Collects Q/A pairs while streaming through a page.

    Text goes to the innermost open "sink": a heading's text, a ``<dt>``/
    ``<summary>`` question, a ``<dd>``/``<details>`` answer; outside all of them,
    to the answer of the current heading question (if any). dt/dd end tags are
    optional in HTML, so a new dt/dd closes the previous one.
    """

    def __init__(self, levels: set[int]):
        super().__init__(convert_charrefs=True)
        self.levels = levels
        self.deepest = max(levels)
        self.qas: list[QA] = []
        self.title: str | None = None
        self._title_parts: list[str] | None = None
        self._drop: list[str] = []
        self._sinks: list[tuple[str, list[str], QA | None]] = []
        self._heading: tuple[int, int, list[str]] | None = None  # (level, line, parts)
        self._current: QA | None = None
        self._stack: list[tuple[int, str]] = []
        self._last_dt: list[QA | None] = [None]  # per open <dl>
        self._pre = 0

    # -------------------------------------------------------- routing
    def _write(self, text: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(text)
        elif self._sinks:
            self._sinks[-1][1].append(text)
        elif self._current is not None:
            self._current.answer_parts.append(text)

    def _pop_to(self, kinds: tuple[str, ...]) -> None:
        """Close sinks down to (and including) the innermost one of ``kinds``."""
        if not any(kind in kinds for kind, _parts, _qa in self._sinks):
            return
        while self._sinks:
            kind, _parts, qa = self._sinks.pop()
            if qa is not None:
                qa.end_line = self.getpos()[0]
            if kind in kinds:
                return

    def _close_current(self) -> None:
        if self._current is not None:
            self._current.end_line = self.getpos()[0]
            self._current = None

    def _new_qa(self) -> QA:
        qa = QA(line=self.getpos()[0], section=_section(self._stack))
        self.qas.append(qa)
        return qa

    # -------------------------------------------------------- tags
    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self._drop:
            if tag == self._drop[-1]:
                self._drop.append(tag)
            return
        if tag in _DROP:
            self._drop.append(tag)
            return
        if tag == "title" and self.title is None:
            self._title_parts = []
            return
        if tag == "pre":
            self._pre += 1
        level = _HEADINGS.get(tag)
        if level is not None and level <= self.deepest and not self._sinks:
            self._close_current()
            self._heading = (level, self.getpos()[0], [])
            self._sinks.append(("heading", self._heading[2], None))
            return
        if tag in ("dt", "dd"):
            self._pop_to(("dt", "dd"))
        if tag == "dl":
            self._last_dt.append(None)
        elif tag == "dt":
            qa = self._new_qa()
            self._last_dt[-1] = qa
            self._sinks.append(("dt", qa.question_parts, qa))
            return
        elif tag == "dd" and self._last_dt[-1] is not None:
            qa = self._last_dt[-1]
            if qa.answer_parts:
                qa.answer_parts.append("\n")  # a second <dd> is a new paragraph
            self._sinks.append(("dd", qa.answer_parts, qa))
            return
        elif tag == "details":
            qa = self._new_qa()
            self._sinks.append(("details", qa.answer_parts, qa))
            return
        elif tag == "summary" and self._sinks and self._sinks[-1][0] == "details":
            qa = self._sinks[-1][2]
            self._sinks.append(("summary", qa.question_parts, None))
            return
        if tag == "li":
            self._write("\n- ")
        elif tag in _BLOCK:
            self._write("\n")
        elif tag in ("td", "th"):
            self._write(" ")

    def handle_endtag(self, tag: str) -> None:
        if self._drop:
            if tag == self._drop[-1]:
                self._drop.pop()
            return
        if tag == "title" and self._title_parts is not None:
            self.title = _tidy(" ".join(self._title_parts)) or None
            self._title_parts = None
            return
        if tag == "pre" and self._pre:
            self._pre -= 1
        level = _HEADINGS.get(tag)
        if level is not None and self._heading is not None:
            self._end_heading()
            return
        if tag in ("dt", "dd", "summary", "details"):
            self._pop_to((tag,))
        elif tag == "dl":
            self._pop_to(("dt", "dd"))
            if len(self._last_dt) > 1:
                self._last_dt.pop()
        if tag in _BLOCK:
            self._write("\n")

    def _end_heading(self) -> None:
        level, line, parts = self._heading
        self._heading = None
        self._pop_to(("heading",))
        title = _tidy(" ".join(parts).replace("\n", " "))
        if level == 1 and self.title is None:
            self.title = title or None
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        if level in self.levels:
            qa = QA(line=line, question=title, section=_section(self._stack))
            self.qas.append(qa)
            self._current = qa
        self._stack.append((level, title))

    def handle_data(self, data: str) -> None:
        if self._drop:
            return
        self._write(data if self._pre else re.sub(r"\s+", " ", data))

    def finish(self) -> list[QA]:
        self.close()
        if self._heading is not None:
            self._end_heading()
        self._pop_to(tuple(kind for kind, _parts, _qa in self._sinks))
        self._close_current()
        for qa in self.qas:
            if qa.question_parts:
                qa.question = _tidy(" ".join(qa.question_parts).replace("\n", " "))
            qa.answer = _tidy("".join(qa.answer_parts), blank_lines=False)
        return self.qas


def read_html(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """Q/A pairs of an HTML page; locator ``<rel>:<line>`` of the question's start tag."""
    source_lines = ctx.decode(html=True).lines
    nul_per_line = [line.count("\x00") for line in source_lines]
    parser = _PageParser(set(ctx.spec.heading_levels))
    parser.feed("\n".join(line.replace("\x00", "") for line in source_lines))
    qas = parser.finish()
    title = parser.title or ctx.path.stem
    yield from _emit(
        ctx, qas, show_bad_bytes(title) if has_bad_bytes(title) else title, nul_per_line
    )
