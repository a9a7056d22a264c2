"""Ingest: read one raw source (any supported format) into canonical records and rejects.

``read_source(name, cfg, root)`` is the one entry point the ingest stage calls.
Every raw record read is accounted for: it becomes a record or a reject with a
reason code and a detail naming file, line (or row) and field.
"""

from __future__ import annotations

from pathlib import Path

from ftdata.ingest.context import FileContext, Reader
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

__all__ = ["IngestResult", "READERS", "read_source"]

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


def read_source(name: str, cfg: dict, root: Path) -> IngestResult:
    """Read source ``name`` (its ``source.<name>`` params as a plain dict) under ``root``.

    Raises ConfigError for a bad params section or a path outside ``root`` and
    SourceError for a missing path or an unreadable binary file; everything
    wrong inside a record becomes a reject instead.
    """
    spec = parse_spec(name, cfg)
    fields = page_fields(spec.fields) if spec.format in PAGE_FORMATS else spec.fields
    mapper = RowMapper(spec, fields)
    reader = READERS[spec.format]
    root_abs, files = _files(spec, Path(root))
    result = IngestResult()
    for path, file_meta in files:
        ctx = FileContext(spec=spec, path=path, rel=relpath(path, root_abs))
        n_before = result.n_read
        if path.stat().st_size > 0:  # an empty file holds no records, whatever its format
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
        result.files.append(
            {
                "path": ctx.rel,
                "encoding": ctx.encoding if spec.format in TEXT_FORMATS else None,
                "n_read": result.n_read - n_before,
                "blank_lines": ctx.blank_lines,
            }
        )
    return result
