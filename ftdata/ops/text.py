"""Clean-stage text transforms (str -> str), applied to every message and ``text``.

Each op is registered with ``text_op`` so the registry maps it over a batch.
Order matters and the recommended ``clean.ops`` order is::

    strip_html, fix_mojibake, remove_control, nfkc, collapse_whitespace, [t2s],
    redact_pii, remove_smalltalk

- ``strip_html`` first: entities such as ``&#xE9;`` may hide mojibake, and tags
  must go before whitespace is tidied.
- ``fix_mojibake`` before ``remove_control``/``nfkc``/``collapse_whitespace``:
  UTF-8 read as Latin-1 contains C1 controls (``\\x93``) and U+00A0 that those
  ops would delete or fold, after which ftfy can no longer undo the damage.
- ``remove_emoji`` and ``t2s`` are optional and not in the default list.

Where HTML entities are handled: in ``strip_html`` (always, tags or not). ftfy's
``is_bad`` does not flag ``&amp;``, so ``fix_mojibake`` deliberately leaves
entities alone and stays a pure encoding repair. Entity-encoded markup is
markup: ``&lt;script&gt;alert(1)&lt;/script&gt;`` in a JSON field ends exactly
as ``<script>alert(1)</script>`` does (removed with its content), whether it
arrives in JSON, CSV, markdown or an HTML page (whose reader decodes one level
of entities itself), so no path hands a trainer a literal ``<script>``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache
from html.parser import HTMLParser

import ftfy
from ftfy.badness import is_bad

from ftdata.registry import text_op
from ftdata.text.mojibake import may_be_mojibake

# ---------------------------------------------------------------- shared classes
# Han ideographs (BMP, compatibility, supplementary planes) and kana: text that
# contains one of them follows CJK punctuation conventions.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_CHAR = re.compile(f"[{_CJK}]")

# Line and page separators all become "\n": dropping them would glue lines together.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")


def normalize_newlines(text: str) -> str:
    """``\\r\\n``, ``\\r`` and the other Unicode line/page separators -> ``\\n``."""
    return _LINE_BREAKS.sub("\n", text)


# ---------------------------------------------------------------- fix_mojibake
@text_op("fix_mojibake")
def fix_mojibake(text: str) -> str:
    """Repair UTF-8 decoded as Latin-1/cp1252 ('é“¶è¡Œ' -> '银行') with ftfy.

    ``ftfy.fix_text`` is only called where ``ftfy.badness.is_bad`` says the text
    looks like mojibake (RESOURCES.md: ~3x faster overall), and with every
    fixer that would *change clean text* switched off: ``uncurl_quotes`` would
    turn Chinese “” into "", ``fix_character_width`` would fold ，into ``,``,
    normalization belongs to ``nfkc`` and entities to ``strip_html``.
    UTF-8 read as GBK ('浣犲ソ') is not something ftfy can repair; it is left as is.
    ``may_be_mojibake`` first: one character-class scan settles almost every
    clean text, and it is False only where ``is_bad`` is (ftdata.text.mojibake).
    """
    if not may_be_mojibake(text) or not is_bad(text):
        return text
    return ftfy.fix_text(
        text,
        unescape_html=False,
        uncurl_quotes=False,
        fix_character_width=False,
        normalization=None,
    )


# ---------------------------------------------------------------- strip_html
# Only these names count as tags. Anything else that starts with "<" is text:
# "a < b", "余额<100元", PII placeholders like "<PHONE>" and chat markup like
# "<think>" must survive.
HTML_TAGS = frozenset(
    """a abbr address area article aside audio b base bdi bdo big blockquote body br button
    canvas caption center cite code col colgroup data dd del details dfn dialog div dl dt em
    embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i
    iframe img input ins kbd label legend li link main map mark meta nav noscript object ol
    optgroup option p param picture pre q s samp script section select small source span
    strike strong style sub summary sup table tbody td template textarea tfoot th thead
    time title tr track tt u ul var video wbr
    svg math applet frame frameset marquee""".split()
)
# Content of these is dropped entirely, not just the tags.
_DROP_CONTENT = frozenset({"script", "style", "noscript", "template", "head", "title"})
# Start or end of these is a line break in rendered text.
_BLOCK = frozenset(
    """address article aside blockquote body br dd div dl dt figcaption figure footer form
    h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody tfoot thead tr
    ul""".split()
)
_CELL = frozenset({"td", "th"})

_TAG_NAMES = "|".join(sorted(HTML_TAGS, key=len, reverse=True))
# A real tag opener: "<name" / "</name" followed by whitespace, "/" or ">"; or a
# comment / doctype / CDATA opener. Every other "<" is escaped before parsing.
_TAG_START = re.compile(rf"<(?:/?(?:{_TAG_NAMES})(?=[\s/>])|!--|!doctype|!\[CDATA\[)", re.I)
_NOT_TAG_LT = re.compile(rf"<(?!/?(?:{_TAG_NAMES})(?=[\s/>])|!--|!doctype|!\[CDATA\[)", re.I)
# Only semicolon-terminated entities are entities: html.unescape alone would
# turn "?a=1&para=2" into "?a=1¶=2" (HTML5 legacy names without ";").
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BARE_AMP = re.compile(r"&(?!(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)")
# "&amp;amp;amp;lt;" (escaped again at every hop) decodes in one step, not one round per hop.
_AMP_CHAIN = re.compile(r"&(?:amp;)+")
# Rounds of decode-then-strip before strip_html gives up on text escaped deeper than that.
_MAX_ROUNDS = 8


def unescape_entities(text: str, passes: int = 2) -> str:
    """Decode ``&amp;`` ``&nbsp;`` ``&#x4F60;``...; two passes undo double escaping (``&amp;lt;``)."""
    for _ in range(passes):
        if "&" not in text:
            break
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text


class _TextExtractor(HTMLParser):
    """Collects text, skipping dropped elements and turning blocks into line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        # An unclosed <script> would swallow the rest of the text ("I typed
        # <script> in the box"): its content is buffered and restored on close.
        self.skipped: list[str] = []

    def _break(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _DROP_CONTENT:
            if not self.skip_depth:
                self.skipped = [self.get_starttag_text() or ""]
            self.skip_depth += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._break()
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skip_depth = max(0, self.skip_depth - 1)
            if not self.skip_depth:
                self.skipped = []
        elif tag in _BLOCK and tag != "br":
            self._break()
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            self.skipped.append(data)
        else:
            self.parts.append(data)

    def close(self) -> None:
        super().close()
        # Python 3.11 keeps an unterminated <script> body in rawdata instead of
        # reporting it; take it back whatever the parser version does.
        leftover, self.rawdata = self.rawdata, ""
        if leftover:
            self.handle_data(unescape_entities(leftover, passes=1))
        if self.skip_depth:
            self.parts.extend(self.skipped)
            self.skip_depth = 0


def _strip_tags(text: str) -> str:
    """One round on text with a real tag: tags go, entities in the text decode once."""
    # Escape every "<" that does not open a known tag and every "&" that is not
    # an entity, so the parser sees them as text and gives them back verbatim.
    escaped = _NOT_TAG_LT.sub("&lt;", _BARE_AMP.sub("&amp;", text))
    parser = _TextExtractor()
    parser.feed(escaped)
    parser.close()
    return "".join(parser.parts).strip()


def _decode_once(text: str) -> str:
    return unescape_entities(_AMP_CHAIN.sub("&", text), passes=1)


@text_op("strip_html")
def strip_html(text: str) -> str:
    """Remove HTML tags, drop <script>/<style> contents, decode entities.

    <br>, <p>, <li>, <div>, <tr>, headings ... become line breaks, cells a space.
    Text without a real HTML tag is returned unchanged apart from its entities,
    so "a < b", "余额<100元" and "<PHONE>" are untouched. ``&nbsp;`` decodes to
    U+00A0, which ``nfkc`` / ``collapse_whitespace`` turn into a plain space.

    Decoding and stripping repeat until neither changes the text (at most
    ``_MAX_ROUNDS``): markup that entities hid (``&lt;b&gt;``, ``&amp;lt;b&amp;gt;``)
    is stripped like the raw tag, so the result does not depend on how many
    times a system escaped it, and a second ``strip_html`` changes nothing.
    """
    for _ in range(_MAX_ROUNDS):
        if _TAG_START.search(text):
            out = _strip_tags(text)
        elif "&" in text:
            out = _decode_once(text)
        else:
            break
        if out == text:
            break
        text = out
    return text


# ---------------------------------------------------------------- nfkc
# Full-width punctuation that Chinese text keeps: NFKC would fold it to ASCII
# ("，" -> ",", "……" -> "......"). "。、“”《》【】" are not touched by NFKC anyway.
CJK_PUNCT = "，！？：；（）～…"
# Circled numbers are list markers in Chinese text; NFKC turns "①" into a bare "1".
CIRCLED = "".join(chr(c) for c in range(0x2460, 0x2474))


@cache
def _protected_split(chars: str) -> re.Pattern[str]:
    return re.compile(f"([{re.escape(chars)}])")


@text_op("nfkc")
def nfkc(text: str, keep_cjk_punct: bool = True, keep_circled: bool = True) -> str:
    """Unicode NFKC, which also folds full-width letters, digits and U+3000 to ASCII.

    ``keep_cjk_punct`` (default True): on a line that contains a Han or kana
    character, full-width ，！？：；（）～… are kept, because they are the
    Chinese convention and SFT targets should keep it; on other lines
    ("Hello，world！") they are folded to ASCII. The decision is per line so a
    mixed line like "我用的是iPhone（128G），可以吗？" stays consistent.
    ``keep_circled`` keeps ①..⑳ list markers. Everything else NFKC does is
    kept (superscripts fold too: "m²" -> "m2").

    Text NFKC leaves alone is returned as is: every protected character is one
    NFKC changes, so such a text holds none, and no character's NFKC contains
    "\\n", so each of its lines is NFKC-invariant too; the per-line result is
    the text itself. ``unicodedata.is_normalized`` decides that in one C scan.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return _nfkc_lines(text, keep_cjk_punct, keep_circled)


def _nfkc_lines(text: str, keep_cjk_punct: bool, keep_circled: bool) -> str:
    lines = text.split("\n")
    out = []
    for line in lines:
        protected = ""
        if keep_cjk_punct and CJK_CHAR.search(line):
            protected += CJK_PUNCT
        if keep_circled:
            protected += CIRCLED
        if not protected:
            out.append(unicodedata.normalize("NFKC", line))
            continue
        # Odd pieces are protected characters; NFKC per piece equals NFKC of the
        # whole because none of them composes with a neighbour.
        pieces = _protected_split(protected).split(line)
        out.append(
            "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(pieces))
        )
    return "\n".join(out)


# ---------------------------------------------------------------- collapse_whitespace
_HSPACE_RUN = re.compile(r"[^\S\n]+")
_BLANK_RUN = re.compile(r"\n{3,}")


# Every whitespace character (``str.isspace``, which is also what ``\\s`` and
# ``str.strip`` use) other than " " and "\n": any of them means the text changes.
# One class scan finds them ~10x faster than 27 ``in`` tests on Chinese text.
ODD_SPACES = (
    "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_ODD_SPACE = re.compile(f"[{ODD_SPACES}]")


def _is_tidy(text: str, keep_indent: bool) -> bool:
    """True only when ``_collapse(text, keep_indent)`` would return ``text`` itself.

    Substring tests and one class scan (C loops), faster than splitting lines:
    the only whitespace is single spaces and newlines, no line ends in a space,
    no blank-line run of two or more, nothing to strip at either end and,
    without ``keep_indent``, no line starts with a space. With ``keep_indent``
    any double space sends the text the slow way (indentation is rare enough).
    """
    if not text:
        return True
    if text[-1] in " \n" or text[0] == "\n":
        return False
    if "  " in text or " \n" in text or "\n\n\n" in text:
        return False
    if not keep_indent and (text[0] == " " or "\n " in text):
        return False
    return _ODD_SPACE.search(text) is None


@text_op("collapse_whitespace")
def collapse_whitespace(text: str, keep_indent: bool = False) -> str:
    """Collapse runs of spaces/tabs (incl. U+00A0, U+3000) to one space, keep at most one blank line.

    Line breaks (``\\r\\n``, ``\\r`` too) become ``\\n``; single newlines are kept;
    trailing spaces of each line and both ends of the text are stripped.
    Leading indentation is removed unless ``keep_indent`` (turn it on for
    corpora whose answers carry code or nested markdown lists). Most texts are
    already tidy; ``_is_tidy`` tells so without touching their lines.
    """
    if _is_tidy(text, keep_indent):
        return text
    return _collapse(text, keep_indent)


def _collapse(text: str, keep_indent: bool) -> str:
    lines = normalize_newlines(text).split("\n")
    tidy = []
    for line in lines:
        if keep_indent:
            body = line.lstrip()
            indent = line[: len(line) - len(body)]
            tidy.append(indent + _HSPACE_RUN.sub(" ", body).rstrip() if body else "")
        else:
            tidy.append(_HSPACE_RUN.sub(" ", line).strip())
    joined = _BLANK_RUN.sub("\n\n", "\n".join(tidy))
    # Strip blank lines at both ends but keep the first line's indentation.
    return joined.strip("\n") if keep_indent else joined.strip()


# ---------------------------------------------------------------- remove_control
# C0/C1 controls except \t and \n (line/page separators are converted first),
# and every format character (Unicode 14 "Cf"): zero-width U+200B-U+200D,
# U+2060, U+FEFF, bidi controls U+200E/F, U+202A-U+202E, U+2066-U+2069, soft
# hyphen, tag characters ... plus the noncharacters U+FFFE/U+FFFF.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufffe\uffff"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


@text_op("remove_control")
def remove_control(text: str) -> str:
    """Drop control, zero-width and bidi characters; keep ``\\n`` and ``\\t``.

    Line breaks (``\\r\\n``, ``\\r``, U+2028 ...) become ``\\n`` instead of being
    dropped, so lines are never glued together. Side effect worth knowing:
    removing ZWJ splits emoji sequences such as 👨‍👩‍👧 into single emoji.
    """
    return _INVISIBLE.sub("", normalize_newlines(text))


# ---------------------------------------------------------------- remove_emoji
# Pictographs that are emoji whatever follows them: the supplementary symbol
# planes (emoticons, transport, flags, skin tones ...), misc symbols and
# dingbats (except the dingbat circled digits ❶..➓, which are list numbers),
# and the BMP emoji-presentation characters scattered elsewhere.
_PICTO = (
    "\U0001f000-\U0001faff"
    "\u2600-\u2775\u2794-\u27bf"
    "\u231a\u231b\u23e9-\u23f3\u23f8-\u23fa\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
)
# Characters that are text by default (©, ®, ™, arrows, ▶ ...) but emoji when a
# variation selector 16 follows: removed only in that form.
_TEXT_DEFAULT = "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u2328\u23cf\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2934\u2935\u2b05-\u2b07"
# Joiners and modifiers that only make sense inside an emoji sequence.
_EMOJI_TAIL = "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f"
_EMOJI = re.compile(
    f"(?:[{_PICTO}]|[{_TEXT_DEFAULT}]\ufe0f)(?:[{_EMOJI_TAIL}]|[{_PICTO}])*"
    # Stray variation selectors (incl. the supplementary ones) and keycap marks.
    f"|[\ufe00-\ufe0f\u20e3\U000e0100-\U000e01ef]"
)


@text_op("remove_emoji")
def remove_emoji(text: str) -> str:
    """Remove emoji, pictographs, skin tones, flags and variation selectors.

    Unlike the common ``[^\\w\\s\\u4e00-\\u9fa5]`` recipe this keeps every
    punctuation mark and symbol SFT text needs (，。？！、“”《》…%¥$@#& ...),
    ①/❶ list numbers, ©®™ and arrows in their text form. Keycaps keep their
    digit ("1️⃣" -> "1"). Spaces left around a removed emoji are for
    ``collapse_whitespace``.
    """
    if text.isascii():
        return text
    return _EMOJI.sub("", text)


# ---------------------------------------------------------------- t2s
# Taiwan writes 帳 for "account"; OpenCC's t2s gives 帐, but mainland usage is
# 账. Applied to the traditional input before OpenCC (which leaves 账 alone).
ACCOUNT_PHRASES = {
    "帳單": "账单",
    "帳戶": "账户",
    "帳號": "账号",
    "帳務": "账务",
    "帳目": "账目",
    "帳款": "账款",
    "帳期": "账期",
    "轉帳": "转账",
    "對帳": "对账",
    "結帳": "结账",
    "記帳": "记账",
    "入帳": "入账",
    "出帳": "出账",
    "銷帳": "销账",
    "賴帳": "赖账",
}


@cache
def _converter():
    """One OpenCC converter per process: building it loads the dictionaries."""
    from opencc import OpenCC

    return OpenCC("t2s")


@cache
def _phrase_pattern(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    if not keys:
        return None
    return re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))


@text_op("t2s")
def t2s(text: str, phrases: dict[str, str] | None = None) -> str:
    """Traditional -> simplified Chinese with OpenCC (``t2s``).

    ``phrases`` maps traditional phrases to the simplified form to use instead
    of OpenCC's; None means ``ACCOUNT_PHRASES`` (帳單 -> 账单, not 帐单), ``{}``
    means plain OpenCC. Text without a CJK character is returned as is.
    """
    if not CJK_CHAR.search(text):
        return text
    overrides = ACCOUNT_PHRASES if phrases is None else phrases
    pattern = _phrase_pattern(tuple(sorted(k for k in overrides if k)))
    if pattern is not None:
        text = pattern.sub(lambda m: overrides[m.group(0)], text)
    return _converter().convert(text)
