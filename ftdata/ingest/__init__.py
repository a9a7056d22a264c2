"""Ingest: read one raw source (any supported format) into canonical records and rejects.

``read_source(name, cfg, root)`` is the one entry point the ingest stage calls.
Every raw record read is accounted for: it becomes a record or a reject with a
reason code and a detail naming file, line (or row) and field.
"""

from __future__ import annotations

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

__all__ = ["FileLimits", "FileNote", "IngestResult", "READERS", "read_source"]

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
    """Read source ``name`` (its ``source.<name>`` params as a plain dict) under ``root``.

    Raises ConfigError for a bad params section or a path outside ``root`` and
    SourceError for a missing path, an unreadable binary file or a source whose
    every file was refused; everything wrong inside a record becomes a reject, and
    a file that gives no record (refused, zeroed, a page without Q/A) a note in
    ``result.notes``.
    """
    spec = parse_spec(name, cfg)
    limits = limits or FileLimits()
    fields = page_fields(spec.fields) if spec.format in PAGE_FORMATS else spec.fields
    mapper = RowMapper(spec, fields)
    reader = READERS[spec.format]
    root_abs, files = _files(spec, Path(root))
    roots = allowed_roots(root_abs)
    result = IngestResult()
    for path, file_meta in files:
        ctx = FileContext(spec=spec, path=path, rel=relpath(path, root_abs))
        note = check_file(path, ctx.rel, spec.format, limits, roots)
        if note is not None:
            result.notes.append(note)
            continue
        n_before = result.n_read
        size = path.stat().st_size
        if size > 0:  # an empty file holds no records, whatever its format
            for item in reader(ctx):
                result.n_read += 1
                if isinstance(item, RawReject):
                    result.rejects.append(make_reject(name, item, item.reason, item.message))
                    continue
                item.meta.update(file_meta)
                record, reject = mapper.map_row(item)
                if record is not None:
                    result.records.append(record)
                else:
                    result.rejects.append(reject)
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
    if result.notes and all(note.refused for note in result.notes) and not result.files:
        raise SourceError(
            f"source {name!r}: no file could be read; {result.notes[0].detail}"
            + (f" (and {len(result.notes) - 1} more)" if len(result.notes) > 1 else "")
        )
    result.unmapped_labels = mapper.unmapped_labels
    result.controls_removed = mapper.controls_removed
    return result


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
