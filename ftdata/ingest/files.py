"""Whole-file checks: what a reader must not open, and files that held no record.

A record-level problem is a reject; a *file*-level one is no record at all, so it
stays out of ``in = out + rejected`` and becomes a :class:`FileNote` instead:
counted per reason in the ingest metrics and warned about at the end of the
stage. The checks run on the file's metadata and a few KiB of it, before any
reader reads it whole (text readers decode a file at once).
"""

from __future__ import annotations

import configparser
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ftdata.reasons import Reason

# Formats whose reader decodes the whole file into memory.
WHOLE_FILE_FORMATS = ("jsonl", "scrapy", "elk", "json", "csv", "markdown", "html")
SNIFF_BYTES = 64 << 10
# Notes that mean the file was refused unread; a source left with nothing else fails.
REFUSALS = (Reason.SYMLINK_OUTSIDE_PROJECT, Reason.FILE_TOO_LARGE, Reason.ARCHIVE_TOO_LARGE)


@dataclass(frozen=True)
class FileLimits:
    """``ingest.max_file_bytes`` and the xlsx (zip) limits; defaults as conf/ingest."""

    max_file_bytes: int = 1 << 30
    max_decompressed_bytes: int = 256 << 20
    max_compression_ratio: float = 200.0

    @classmethod
    def from_settings(cls, settings: Mapping | None) -> FileLimits:
        settings = settings or {}
        return cls(**{k: settings[k] for k in cls.__dataclass_fields__ if k in settings})


@dataclass(frozen=True)
class FileNote:
    """A file that gave no record, and why (``detail`` starts with the file's path)."""

    path: str
    reason: Reason
    detail: str

    @property
    def refused(self) -> bool:
        return self.reason in REFUSALS


def allowed_roots(root_abs: Path) -> tuple[Path, ...]:
    """Where a symlink in a source folder may point: the project, and its DVC cache.

    ``dvc checkout`` with ``cache.type: symlink`` links raw files into the cache,
    which ``.dvc/config`` may place outside the project (a shared cache).
    """
    roots = [root_abs.resolve()]
    for name in ("config", "config.local"):
        config = configparser.ConfigParser()
        try:
            config.read(root_abs / ".dvc" / name, encoding="utf-8")
            cache_dir = config.get("cache", "dir", fallback=None)
        except (configparser.Error, UnicodeDecodeError):
            continue
        if cache_dir:
            roots.append((root_abs / ".dvc" / cache_dir.strip().strip("'\"")).resolve())
    return tuple(roots)


def _symlink_target_outside(path: Path, roots: tuple[Path, ...]) -> Path | None:
    target = path.resolve()
    if any(target.is_relative_to(r) for r in roots):
        return None
    return target


def _all_nul(path: Path, size: int) -> bool:
    """Only NUL bytes in the first and last 64 KiB: a zeroed or sparse file, not text.

    Sampling keeps a 1 GB sparse file from being read; a UTF-16 text has NULs too,
    but never only NULs.
    """
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        if size > 2 * SNIFF_BYTES:
            fh.seek(size - SNIFF_BYTES)
            tail = fh.read(SNIFF_BYTES)
        else:
            tail = fh.read()
    return not head.strip(b"\x00") and not tail.strip(b"\x00")


def _archive_problem(path: Path, limits: FileLimits) -> str | None:
    """Check an xlsx's zip directory before openpyxl unpacks anything.

    ``zipfile`` stops a member at the size its directory declares (a forged size
    fails the CRC check), so the declared sizes bound what openpyxl could unpack.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return None  # not a zip at all: the xlsx reader names the file as unreadable
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if unpacked > limits.max_decompressed_bytes:
        return (
            f"unpacks to {unpacked:,} bytes, more than ingest.max_decompressed_bytes "
            f"({limits.max_decompressed_bytes:,}); a zip bomb, or split the workbook"
        )
    ratio = unpacked / max(packed, 1)
    if ratio > limits.max_compression_ratio:
        return (
            f"unpacks {ratio:,.0f}x ({packed:,} -> {unpacked:,} bytes), more than "
            f"ingest.max_compression_ratio ({limits.max_compression_ratio:,.0f}x): a zip bomb"
        )
    return None


def check_file(
    path: Path, rel: str, fmt: str, limits: FileLimits, roots: tuple[Path, ...]
) -> FileNote | None:
    """Why ``path`` must not be read (a note), or None to read it."""
    outside = _symlink_target_outside(path, roots)  # the file, or a folder on its way
    if outside is not None:
        return FileNote(
            rel,
            Reason.SYMLINK_OUTSIDE_PROJECT,
            f"{rel}: a symlink to {outside}, outside the project; not read "
            "(copy the file under data/raw/ or `dvc import` it)",
        )
    size = path.stat().st_size
    if fmt in WHOLE_FILE_FORMATS and size > limits.max_file_bytes:
        return FileNote(
            rel,
            Reason.FILE_TOO_LARGE,
            f"{rel}: {size:,} bytes, more than ingest.max_file_bytes ({limits.max_file_bytes:,}); "
            "not read (split the export or raise the limit)",
        )
    if fmt == "xlsx":
        problem = _archive_problem(path, limits)
        if problem is not None:
            return FileNote(rel, Reason.ARCHIVE_TOO_LARGE, f"{rel}: {problem}; not read")
    if fmt in WHOLE_FILE_FORMATS and size and _all_nul(path, size):
        return FileNote(
            rel,
            Reason.BINARY_FILE,
            f"{rel}: {size:,} bytes of NUL only (first and last 64 KiB checked), "
            "a zeroed or sparse file, not text; not read",
        )
    return None


def no_records_note(rel: str, size: int, why: str) -> FileNote:
    return FileNote(rel, Reason.NO_RECORDS, f"{rel}: {size:,} bytes but no record: {why}")
