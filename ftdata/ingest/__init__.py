"""Ingest: read one raw source (any supported format) into canonical records and rejects.

``stream_source(name, cfg, root)`` is the entry point the ingest stage calls: it
yields the records in batches, so a source of a million records is never held
whole; ``read_source`` collects them, for small sources.
Every raw record read is accounted for: it becomes a record or a reject with a
reason code and a detail naming file, line (or row) and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ftdata.errors import SourceError
from ftdata.ingest.context import FileContext, Reader
from ftdata.ingest.files import FileLimits, FileNote, allowed_roots, check_file, no_records_note
from ftdata.ingest.items import IngestResult, RawReject, make_reject
from ftdata.ingest.jsondoc import read_json
from ftdata.ingest.lines import read_csv, read_elk, read_jsonl
from ftdata.ingest.mapping import RowMapper
from ftdata.ingest.pages import read_html, read_markdown
from ftdata.ingest.spec import (
    PAGE_FORMATS,
    SourceSpec,
    list_files,
    page_fields,
    parse_spec,
    relpath,
)
from ftdata.ingest.spec import source_root as _source_root
from ftdata.ingest.tabular import hf_layout, read_hf_file, read_parquet, read_xlsx

__all__ = ["FileLimits", "FileNote", "IngestResult", "READERS", "read_source", "stream_source"]

# Records per batch ``stream_source`` yields: ~10 KB of Python objects each, so ~50 MB
# held between the reader and the stage's writer. A constant, not ``executor.chunk_size``:
# the ingest stage does not depend on the executor params (dvc.yaml), and its output
# bytes do not depend on the batch size (ftdata/stream.py's fixed row groups).
BATCH_RECORDS = 5_000

READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "scrapy": read_jsonl,  # Scrapy's JSON-lines feed export is plain JSON lines
    "elk": read_elk,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
    "hf": read_hf_file,
    "xlsx": read_xlsx,
    "markdown": read_markdown,
    "html": read_html,
}
TEXT_FORMATS = ("jsonl", "scrapy", "elk", "json", "csv", "markdown", "html")


def _files(spec: SourceSpec, root: Path) -> tuple[Path, list[tuple[Path, dict]]]:
    if spec.format == "hf":
        root_abs, target = _source_root(spec, root)
        return root_abs, hf_layout(spec.name, target)
    root_abs, paths = list_files(spec, root)
    return root_abs, [(path, {}) for path in paths]


def read_source(name: str, cfg: dict, root: Path, limits: FileLimits | None = None) -> IngestResult:
    """Read source ``name`` (its ``source.<name>`` params as a plain dict) under ``root``,
    every record in ``result.records``: :func:`stream_source` collected whole, for callers
    whose sources are small (tests, tools); the ingest stage streams.
    """
    result, batches = stream_source(name, cfg, root, limits)
    for batch in batches:
        result.records.extend(batch)
    return result


def stream_source(
    name: str,
    cfg: dict,
    root: Path,
    limits: FileLimits | None = None,
) -> tuple[IngestResult, Iterator[list[dict]]]:
    """Source ``name`` as (result, batches of up to ``BATCH_RECORDS`` records in file order).

    The records are yielded, never kept, so the caller can write them as they come and
    memory does not grow with the source; ``result`` gets everything else (rejects,
    counts, notes, files, label and character counters) as the batches are read and is
    complete once they are exhausted.

    Raises ConfigError for a bad params section or a path outside ``root`` and
    SourceError for a missing path (both at once), an unreadable binary file or a
    source whose every file was refused (while iterating); everything wrong inside a
    record becomes a reject, and a file that gives no record (refused, zeroed, a page
    without Q/A) a note in ``result.notes``.
    """
    spec = parse_spec(name, cfg)
    fields = page_fields(spec.fields) if spec.format in PAGE_FORMATS else spec.fields
    mapper = RowMapper(spec, fields)
    root_abs, files = _files(spec, Path(root))
    result = IngestResult(unmapped_labels=mapper.unmapped_labels)  # one Counter, filled live
    limits = limits or FileLimits()
    reading = _Reading(spec, mapper, result, limits, root_abs, allowed_roots(root_abs))
    return result, _batches(reading, files)


@dataclass
class _Reading:
    """What reading one source's files shares: its spec, mapper, result and limits."""

    spec: SourceSpec
    mapper: RowMapper
    result: IngestResult
    limits: FileLimits
    root_abs: Path
    roots: tuple[Path, ...]  # where a symlink may point (allowed_roots)

    def read_file(self, path: Path, file_meta: dict) -> Iterator[dict]:
        """The records of one file; its rejects, note and ``files`` entry go to the result."""
        spec, result = self.spec, self.result
        ctx = FileContext(spec=spec, path=path, rel=relpath(path, self.root_abs))
        note = check_file(path, ctx.rel, spec.format, self.limits, self.roots)
        if note is not None:
            result.notes.append(note)
            return
        n_before = result.n_read
        size = path.stat().st_size
        if size > 0:  # an empty file holds no records, whatever its format
            yield from self._records(ctx, file_meta)
            if result.n_read == n_before:
                result.notes.append(no_records_note(ctx.rel, size, _why_empty(spec, ctx)))
        result.nonfinite_to_null += ctx.nonfinite_to_null
        result.files.append(
            {
                "path": ctx.rel,
                "encoding": ctx.encoding if spec.format in TEXT_FORMATS else None,
                "n_read": result.n_read - n_before,
                "blank_lines": ctx.blank_lines,
            }
        )

    def _records(self, ctx: FileContext, file_meta: dict) -> Iterator[dict]:
        result = self.result
        for item in READERS[self.spec.format](ctx):
            result.n_read += 1
            if isinstance(item, RawReject):
                result.rejects.append(make_reject(self.spec.name, item, item.reason, item.message))
                continue
            item.meta.update(file_meta)
            record, reject = self.mapper.map_row(item)
            if record is not None:
                result.n_records += 1
                yield record
            else:
                result.rejects.append(reject)


def _batches(reading: _Reading, files: list[tuple[Path, dict]]) -> Iterator[list[dict]]:
    """The records of every file in batches (a batch may span files), then the
    source-level checks: the result is complete when this is exhausted."""
    batch: list[dict] = []
    for path, file_meta in files:
        for record in reading.read_file(path, file_meta):
            batch.append(record)
            if len(batch) >= BATCH_RECORDS:
                yield batch
                batch = []
    if batch:
        yield batch
    result = reading.result
    if result.notes and all(note.refused for note in result.notes) and not result.files:
        raise SourceError(
            f"source {reading.spec.name!r}: no file could be read; {result.notes[0].detail}"
            + (f" (and {len(result.notes) - 1} more)" if len(result.notes) > 1 else "")
        )
    result.controls_removed = reading.mapper.controls_removed


def _why_empty(spec: SourceSpec, ctx: FileContext) -> str:
    if spec.format in PAGE_FORMATS:
        levels = "/".join(str(level) for level in spec.heading_levels)
        return (
            f"no heading of level {levels} ({spec.key('heading_levels')}), "
            "so no question/answer pair"
        )
    if spec.format in ("csv", "xlsx"):
        return "only a header row (and blank rows)"
    if spec.format == "json":
        return "the records array is empty"
    if spec.format in ("parquet", "hf"):
        return "no rows"
    return f"only blank lines ({ctx.blank_lines})"
