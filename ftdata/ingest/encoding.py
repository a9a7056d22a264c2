"""Bytes -> lines of text: encoding detection, line-ending normalisation, bad-byte marking.

Raw sources come from bank call-centre logs (GBK / GB18030 exports from Windows
tools), crawled pages and public datasets (UTF-8, sometimes with a BOM, sometimes
UTF-16). A whole file is decoded at once (UTF-16 cannot be split on bytes), and a
few undecodable bytes must cost only the lines that hold them, not the file.

JSON lines are the exception (``iter_file_lines``): a 500 MB export decoded whole
held ~3.6 times its size at once (bytes, text, lines), so it is decoded in blocks
with an incremental decoder, giving the same lines as ``decode_lines``; its
encoding is detected in one streaming pass when it is UTF-8 or has a BOM (the
exports at that scale), and from the whole file otherwise.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    nuls = data.count(b"\x00")
    return _nuls_look_utf16(len(data), nuls, data[0::2].count(0) if nuls else 0)


def _nuls_look_utf16(size: int, nuls: int, even: int) -> bool:
    """``_looks_utf16`` from counts: ``size`` bytes, ``nuls`` NULs, ``even`` of them at
    even offsets (so a streamed file is judged by the same rule)."""
    if size < 4 or nuls * 3 < size:
        return False
    most = max(even, nuls - even)
    return most >= 0.9 * nuls and most * 2 >= size * 0.6


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


# ---------------------------------------------------------------- streamed files
BLOCK_BYTES = 1 << 20  # even, so a byte's parity within a block is its parity in the file


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            yield block


def _streamed_utf8(path: Path) -> bool:
    """``_decodes(data, "utf-8") and not _looks_utf16(data)`` over the file's blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = nuls = even = 0
    try:
        for block in _blocks(path):
            decoder.decode(block)
            size += len(block)
            if n := block.count(0):
                nuls += n
                even += block[0::2].count(0)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return not _nuls_look_utf16(size, nuls, even)


def file_encoding(path: Path, encoding: str = "auto") -> str:
    """``detect_encoding`` of the file's bytes (or ``encoding`` when set), reading the
    whole file into memory only when it has no BOM and is not UTF-8."""
    if encoding != "auto":
        return encoding
    with open(path, "rb") as fh:
        head = fh.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if _streamed_utf8(path):
        return "utf-8"
    return detect_encoding(path.read_bytes())


def _split_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's text in ``\\n``-separated parts (``text.split("\\n")`` of the text
    ``decode_lines`` normalises), decoded block by block; a line longer than a block
    is joined once, from its pieces."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=_ERROR_HANDLER)
    pieces: list[str] = []  # the part being read, normalised
    cr, first = "", True  # cr: a "\r" that ended a block ("\r\n" may straddle two)
    for block in itertools.chain(_blocks(path), [None]):  # None: the end
        text = cr + (decoder.decode(b"", final=True) if block is None else decoder.decode(block))
        cr = ""
        if block is not None and text.endswith("\r"):
            text, cr = text[:-1], "\r"
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        head, *parts = text.split("\n")
        pieces.append(head)
        if parts:
            yield "".join(pieces)
            yield from parts[:-1]
            pieces = [parts[-1]]
    yield "".join(pieces)


def iter_file_lines(path: Path, encoding: str = "auto") -> tuple[str, Iterator[str]]:
    """(encoding, lines) of a file: the lines ``decode_lines`` gives, without holding them."""
    encoding = file_encoding(path, encoding)
    return _normalise_name(encoding), _lines_of(path, encoding)


def _lines_of(path: Path, encoding: str) -> Iterator[str]:
    """``decode_lines``' rule at the end: a final newline makes no extra empty line, and a
    text that is one newline and nothing else has no line at all; so the last two parts
    are held back until the end is known."""
    held: list[str] = []
    yielded = False
    for part in _split_lines(path, encoding):
        held.append(part)
        if len(held) == 3:
            yield held.pop(0)
            yielded = True
    if not yielded and held == ["", ""]:
        return
    if held and held[-1] == "":
        held.pop()
    yield from held
