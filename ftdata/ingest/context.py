"""The file a reader is working on, and what it learns while reading it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ftdata.ingest.encoding import (
    DecodedText,
    bad_bytes,
    decode_lines,
    iter_file_lines,
    show_bad_bytes,
)
from ftdata.ingest.items import RawReject, RawRow
from ftdata.ingest.spec import SourceSpec
from ftdata.reasons import Reason


@dataclass
class FileContext:
    spec: SourceSpec
    path: Path
    rel: str  # relative to the project root, posix separators
    encoding: str | None = None  # set by text readers
    blank_lines: int = 0
    nonfinite_to_null: int = 0  # JSON NaN / Infinity / -Infinity constants read as null

    def json_constant(self, name: str) -> None:
        """``parse_constant`` of the JSON readers: NaN and +-Infinity are not JSON (RFC 8259)
        and no canonical field can hold them, so they read as null, counted here and in
        ``meta.nonfinite_to_null`` (a required field holding one is then "is null")."""
        self.nonfinite_to_null += 1
        return None

    def decode(self, *, html: bool = False) -> DecodedText:
        decoded = decode_lines(self.path.read_bytes(), self.spec.encoding, html=html)
        self.encoding = decoded.encoding
        return decoded

    def lines(self) -> Iterator[str]:
        """The lines ``decode()`` gives, decoded as they are read: for line readers, whose
        whole-file decode held ~3.6 times the file in memory."""
        self.encoding, lines = iter_file_lines(self.path, self.spec.encoding)
        return lines

    def _guess_note(self) -> str:
        if self.spec.encoding != "auto":
            return ""
        return f" (detected; set {self.spec.key('encoding')} if that is wrong)"

    def decode_reject(self, line_no: int, line: str, locator: str | None = None) -> RawReject:
        where = f"{self.rel}:{line_no}"
        return RawReject(
            locator=locator or where,
            where=where,
            raw=show_bad_bytes(line),
            reason=Reason.DECODE_ERROR,
            message=f"bytes {bad_bytes(line)!r} are not valid {self.encoding}{self._guess_note()}",
        )


Reader = Callable[[FileContext], Iterator[RawRow | RawReject]]
