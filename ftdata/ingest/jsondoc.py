"""JSON documents: an array of records, or an object holding it at ``records_path``.

The array is walked element by element with the decoder's ``raw_decode`` so each
record knows the line it starts on (details point into the file), and a syntax
error costs only the records from the error on: the elements before it are
kept, the rest of the file is one ``malformed_json`` reject.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ftdata.ingest.context import FileContext
from ftdata.ingest.encoding import has_bad_bytes, show_bad_bytes
from ftdata.ingest.items import RawReject, RawRow
from ftdata.io import escape_surrogates
from ftdata.reasons import Reason
from ftdata.record import canonical_json

_WS = re.compile(r"[ \t\n\r]*")


class _Stop(Exception):
    """The walk cannot go on; ``reject`` accounts for the unread rest of the file."""

    def __init__(self, reject: RawReject):
        self.reject = reject


@dataclass
class _Doc:
    ctx: FileContext
    text: str
    line_starts: list[int]
    nul_per_line: list[int]
    array_end: int = 0
    decoder: json.JSONDecoder | None = None
    last_nonfinite: int = 0  # NaN / Infinity constants read as null by the last decode_at

    def __post_init__(self) -> None:
        self.decoder = json.JSONDecoder(strict=False, parse_constant=self.ctx.json_constant)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def ws(self, offset: int) -> int:
        return _WS.match(self.text, offset).end()

    def where(self, offset: int) -> str:
        return f"{self.ctx.rel}:{self.line_of(offset)}"

    def line_text(self, offset: int) -> str:
        line = self.line_of(offset)
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[self.line_starts[line - 1] : end]

    def rest(self, offset: int, locator: str, reason: Reason, message: str) -> _Stop:
        """A reject for everything from ``offset`` on (the walk cannot resynchronise)."""
        raw = show_bad_bytes(self.text[offset:])
        where = f"{self.ctx.rel}:{self.line_of(offset)}"
        return _Stop(RawReject(locator, where, raw, reason, message))

    def decode_at(self, offset: int, locator: str) -> tuple[object, int]:
        before = self.ctx.nonfinite_to_null
        try:
            value, end = self.decoder.raw_decode(self.text, offset)
            self.last_nonfinite = self.ctx.nonfinite_to_null - before
            return value, end
        except json.JSONDecodeError as err:
            if has_bad_bytes(self.line_text(err.pos)):
                message = f"undecodable bytes on line {err.lineno} stop the JSON parser ({err})"
                raise self.rest(offset, locator, Reason.DECODE_ERROR, message) from None
            raise self.rest(offset, locator, Reason.MALFORMED_JSON, str(err)) from None
        except RecursionError:
            raise self.rest(
                offset, locator, Reason.MALFORMED_JSON, "JSON nested too deeply"
            ) from None


def _pointer_token(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _find_member(doc: _Doc, offset: int, key: str, locator: str) -> int | None:
    """Offset of the value of ``key`` in the object starting at ``offset``, or None."""
    i = doc.ws(offset + 1)
    if doc.text.startswith("}", i):
        return None
    while True:
        if not doc.text.startswith('"', i):
            raise doc.rest(i, locator, Reason.MALFORMED_JSON, "Expecting property name")
        name, i = doc.decode_at(i, locator)
        i = doc.ws(i)
        if not doc.text.startswith(":", i):
            raise doc.rest(i, locator, Reason.MALFORMED_JSON, "Expecting ':' delimiter")
        i = doc.ws(i + 1)
        if name == key:
            return i
        _, i = doc.decode_at(i, locator)
        i = doc.ws(i)
        if doc.text.startswith(",", i):
            i = doc.ws(i + 1)
        elif doc.text.startswith("}", i):
            return None
        else:
            raise doc.rest(i, locator, Reason.MALFORMED_JSON, "Expecting ',' delimiter")


def _list_keys(value: object) -> str:
    if isinstance(value, dict):
        keys = [k for k, v in value.items() if isinstance(v, list)]
        if keys:
            return f" (lists found at: {', '.join(keys[:5])})"
    return ""


def _locate_list(doc: _Doc, spec_key: str, records_path: str | None) -> tuple[int, list[str]]:
    """Offset of the records array and the JSON pointer tokens leading to it."""
    file_locator = f"{doc.ctx.rel}#"
    i = doc.ws(0)
    tokens: list[str] = []
    for part in records_path.split(".") if records_path else []:
        locator = file_locator + "/" + "/".join(tokens)
        if doc.text.startswith("{", i):
            found = _find_member(doc, i, part, locator)
        elif doc.text.startswith("[", i) and part.isdigit():
            found = _nth_element(doc, i, int(part), locator)
        else:
            found = None
        if found is None:
            message = f"{spec_key} = {records_path!r}: {part!r} not found in this file"
            raise doc.rest(0, file_locator, Reason.MISSING_FIELD, message)
        tokens.append(_pointer_token(part))
        i = found
    if not doc.text.startswith("[", i):
        value, end = doc.decode_at(i, file_locator)
        hint = _list_keys(value)
        if doc.ws(end) < len(doc.text):
            hint += " (several JSON values follow each other: is it JSON lines, format jsonl?)"
        where = f"at {records_path!r}" if records_path else "at the top level"
        kind = type(value).__name__
        message = f"expected an array of records {where}, found {kind}; see {spec_key}{hint}"
        raise doc.rest(0, file_locator, Reason.WRONG_TYPE, message)
    return i, tokens


def _nth_element(doc: _Doc, offset: int, n: int, locator: str) -> int | None:
    for index, start, _end, _value in _elements(doc, offset, locator):
        if index == n:
            return start
    return None


def _elements(doc: _Doc, offset: int, locator: str) -> Iterator[tuple[int, int, int, object]]:
    """(index, start, end, value) of each element of the array starting at ``offset``.

    When the array is exhausted, ``doc.array_end`` is the offset after its ``]``.
    """
    i = doc.ws(offset + 1)
    if doc.text.startswith("]", i):
        doc.array_end = i + 1
        return
    index = 0
    while True:
        value, end = doc.decode_at(i, f"{locator}/{index}")
        yield index, i, end, value
        i = doc.ws(end)
        if doc.text.startswith(",", i):
            i = doc.ws(i + 1)
            index += 1
        elif doc.text.startswith("]", i):
            doc.array_end = i + 1
            return
        else:
            message = "Expecting ',' delimiter" if i < len(doc.text) else "Unterminated array"
            raise doc.rest(i, f"{locator}/{index + 1}", Reason.MALFORMED_JSON, message)


def read_json(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """One record per element of the records array; locator ``<rel>#/<json pointer>``."""
    lines = ctx.decode().lines
    nul_per_line = [line.count("\x00") for line in lines]
    text = "\n".join(line.replace("\x00", "") for line in lines)
    if not text.strip():
        return
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    doc = _Doc(ctx, text, starts, nul_per_line)
    spec_key = ctx.spec.key("records_path")
    try:
        list_at, tokens = _locate_list(doc, spec_key, ctx.spec.records_path)
        pointer = f"{ctx.rel}#/" + "".join(f"{t}/" for t in tokens)
        for index, start, end, value in _elements(doc, list_at, pointer.rstrip("/")):
            yield _element_row(doc, f"{pointer}{index}", start, end, value)
    except _Stop as stop:
        yield stop.reject
        return
    yield from _check_tail(doc, ctx.spec.records_path is None)


def _element_row(
    doc: _Doc, locator: str, start: int, end: int, value: object
) -> RawRow | RawReject:
    first, last = doc.line_of(start), doc.line_of(max(start, end - 1))
    where = f"{doc.ctx.rel}:{first}"
    source_text = doc.text[start:end]
    if has_bad_bytes(source_text):
        return doc.ctx.decode_reject(first, source_text, locator)
    nul_count = sum(doc.nul_per_line[first - 1 : last])
    meta = {"nul_bytes_removed": nul_count} if nul_count else {}
    if doc.last_nonfinite:
        meta["nonfinite_to_null"] = doc.last_nonfinite
    # canonical JSON keeps ids stable across re-formatting; a lone surrogate (a "\ud800"
    # escape) is kept escaped so the id can be hashed and the reject stored
    return RawRow(locator, where, escape_surrogates(canonical_json(value)), value, meta)


def _check_tail(doc: _Doc, top_level: bool) -> Iterator[RawReject]:
    """The file outside the records array must be well-formed too, or say so.

    Its content is no record, but a broken file should not pass unnoticed.
    """
    if top_level:
        tail = doc.ws(doc.array_end)
        if tail == len(doc.text):
            return
        pos, message = tail, "Extra data after the records array"
    else:
        try:
            json.loads(doc.text, strict=False)
            return
        except json.JSONDecodeError as err:
            pos, message = err.pos, f"the file is malformed outside the records array: {err}"
        except RecursionError:
            return
    where = f"{doc.ctx.rel}:{doc.line_of(pos)}"
    raw = show_bad_bytes(doc.text[pos:])
    yield RawReject(f"{doc.ctx.rel}#", where, raw, Reason.MALFORMED_JSON, message)
