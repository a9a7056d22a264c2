"""Bytes -> lines of text: encoding detection, line-ending normalisation, bad-byte marking.

Raw sources come from bank call-centre logs (GBK / GB18030 exports from Windows
tools), crawled pages and public datasets (UTF-8, sometimes with a BOM, sometimes
UTF-16). A whole file is decoded at once (UTF-16 cannot be split on bytes), and a
few undecodable bytes must cost only the lines that hold them, not the file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from ftdata.io import LONE_SURROGATE

# Undecodable bytes are decoded to lone surrogates U+DC00+byte. No codec ever
# produces a lone surrogate from valid input, so their presence marks a bad
# line exactly (unlike U+FFFD, which can be genuine text). Python's own
# "surrogateescape" refuses bytes < 0x80, which UTF-16 needs.
_ERROR_HANDLER = "ftdata.mark_bad_bytes"
_BAD_CHAR = re.compile("[\udc00-\udcff]")


def _mark_bad_bytes(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(chr(0xDC00 + b) for b in bad), err.end


codecs.register_error(_ERROR_HANDLER, _mark_bad_bytes)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy codecs charset-normalizer cannot tell apart from GBK on short files;
# Chinese comes first here, so a tie goes to GB18030 (a superset of GBK/GB2312).
_CHINESE = {"gb2312", "gbk", "gb18030"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class DecodedText:
    """A decoded file split into lines (line i+1 of the file is ``lines[i]``)."""

    encoding: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def has_bad_bytes(text: str) -> bool:
    return _BAD_CHAR.search(text) is not None


def bad_bytes(text: str) -> bytes:
    """The undecodable bytes a line held, for the reject detail."""
    return bytes(ord(c) - 0xDC00 for c in _BAD_CHAR.findall(text))


def show_bad_bytes(text: str) -> str:
    r"""Printable raw text for rejects: each undecodable byte becomes ``\xNN``."""
    return _BAD_CHAR.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def first_surrogate(text: str) -> str | None:
    """A lone surrogate in ``text`` (see ``ftdata.io.escape_surrogates``), or None."""
    match = LONE_SURROGATE.search(text)
    return match.group() if match else None


def _normalise_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _mostly_utf8(data: bytes) -> bool:
    """True when most lines holding non-ASCII bytes are valid UTF-8.

    Text in any other encoding (GBK, Latin-1) almost never forms valid UTF-8
    multi-byte sequences, so a UTF-8 file with a few corrupt lines is recognised
    here instead of being mis-detected as some single-byte codepage as a whole.
    """
    non_ascii = [line for line in data.split(b"\n") if not line.isascii()]
    ok = sum(_decodes(line, "utf-8") for line in non_ascii)
    return ok > 0 and ok * 2 >= len(non_ascii)


def _looks_utf16(data: bytes) -> bool:
    """BOM-less UTF-16 of mostly-ASCII text is valid UTF-8 too: every other byte is NUL.

    A log with stray NUL padding is not: its NULs are few or not on one parity.
    """
    if len(data) < 4 or data.count(b"\x00") * 3 < len(data):
        return False
    even, odd = data[0::2].count(0), data[1::2].count(0)
    return max(even, odd) >= 0.9 * (even + odd) and max(even, odd) * 2 >= len(data) * 0.6


def _fewest_bad_lines(data: bytes, candidates: tuple[str, ...]) -> str:
    lines = data.split(b"\n")

    def bad(encoding: str) -> int:
        return sum(not _decodes(line, encoding) for line in lines)

    return min(candidates, key=bad)  # min keeps the first of equals: order is the preference


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def detect_encoding(data: bytes, *, html: bool = False) -> str:
    """Best guess of ``data``'s encoding, in this order.

    1. a byte-order mark; 2. valid (or mostly valid) UTF-8; 3. for HTML, a
    ``<meta charset>`` that decodes the file; 4. charset-normalizer, ties going
    to GB18030; 5. if no codec decodes everything (corrupt bytes): whichever of
    UTF-8 / GB18030 leaves the fewest undecodable lines.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if _decodes(data, "utf-8") and not _looks_utf16(data):
        return "utf-8"
    if _mostly_utf8(data):
        return "utf-8"
    if html:
        declared = _declared_charset(data)
        if declared and _decodes(data, declared):
            return "gb18030" if declared in _CHINESE else declared
    matches = list(from_bytes(data))
    if matches:
        best = matches[0]
        if any(m.encoding == "gb18030" and m.chaos <= best.chaos for m in matches):
            return "gb18030"
        name = _normalise_name(best.encoding)
        return "gb18030" if name in _CHINESE else name
    return _fewest_bad_lines(data, ("utf-8", "gb18030"))


def decode_lines(data: bytes, encoding: str = "auto", *, html: bool = False) -> DecodedText:
    """Decode a whole file and split it into lines.

    ``\\r\\n`` and lone ``\\r`` become ``\\n`` before splitting; a leading BOM
    character is dropped; a final newline does not make an extra empty line.
    Undecodable bytes stay in their line as marks (see :func:`has_bad_bytes`)
    so the reader can reject just that line.
    """
    if encoding == "auto":
        encoding = detect_encoding(data, html=html)
    text = data.decode(encoding, errors=_ERROR_HANDLER)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n") if text else []
    return DecodedText(encoding=_normalise_name(encoding), lines=lines)
