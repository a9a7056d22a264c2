"""Binary tabular sources: parquet files, local Hugging Face datasets, xlsx sheets.

These formats have no lines, so a record is located by row: ``<rel>#row=<n>``
(0-based, as arrow counts) for parquet / hf, ``<rel>#<sheet>!<n>`` (the row
number Excel shows) for xlsx. ``raw`` is the canonical JSON of the row, so an
unchanged row keeps its id.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pyarrow as pa
import pyarrow.parquet as pq

from ftdata.errors import ConfigError, SourceError
from ftdata.ingest.context import FileContext
from ftdata.ingest.items import RawReject, RawRow, plain
from ftdata.reasons import Reason
from ftdata.record import canonical_json

BATCH_ROWS = 4096


# ---------------------------------------------------------------- arrow rows
def class_label_names(schema: pa.Schema, info_dir: Path | None = None) -> dict[str, list[str]]:
    """Names of ``ClassLabel`` columns, which HF datasets store as integers.

    ``datasets`` writes its features into the arrow / parquet schema metadata
    (key ``huggingface``) and into ``dataset_info.json`` beside save_to_disk
    files; either one is enough.
    """
    features: dict = {}
    info_file = info_dir / "dataset_info.json" if info_dir else None
    if info_file is not None and info_file.is_file():
        try:
            features = json.loads(info_file.read_text(encoding="utf-8")).get("features") or {}
        except (ValueError, AttributeError):
            features = {}
    meta = schema.metadata or {}
    if b"huggingface" in meta:
        try:
            features = json.loads(meta[b"huggingface"])["info"]["features"] or features
        except (ValueError, KeyError, TypeError):
            pass
    if not isinstance(features, dict):
        return {}
    return {
        column: list(feature["names"])
        for column, feature in features.items()
        if isinstance(feature, dict)
        and feature.get("_type") == "ClassLabel"
        and isinstance(feature.get("names"), list)
    }


def _decode_labels(row: dict, names: dict[str, list[str]]) -> dict:
    if not names:
        return row
    decoded = dict(row)
    for column, labels in names.items():
        value = row.get(column)
        if isinstance(value, int) and not isinstance(value, bool):
            # -1 is datasets' "no label"
            decoded[column] = labels[value] if 0 <= value < len(labels) else None
    return decoded


def _arrow_rows(
    ctx: FileContext, batches: Iterator[pa.RecordBatch], names: dict[str, list[str]]
) -> Iterator[RawRow]:
    row_no = 0
    for batch in batches:
        for row in batch.to_pylist():
            locator = f"{ctx.rel}#row={row_no}"
            raw = canonical_json(plain(row))
            yield RawRow(locator, f"{ctx.rel}:row={row_no}", raw, _decode_labels(row, names))
            row_no += 1


def _unreadable(ctx: FileContext, what: str, err: Exception) -> SourceError:
    return SourceError(
        f"source {ctx.spec.name!r}: {ctx.rel} is not a readable {what} file ({err}); "
        f"fix or replace it (see {ctx.spec.key('path')})"
    )


def read_parquet(ctx: FileContext) -> Iterator[RawRow]:
    try:
        parquet = pq.ParquetFile(ctx.path)
    except (pa.ArrowException, OSError) as err:
        raise _unreadable(ctx, "parquet", err) from None
    names = class_label_names(parquet.schema_arrow)
    yield from _arrow_rows(ctx, parquet.iter_batches(batch_size=BATCH_ROWS), names)


def _read_ipc(ctx: FileContext) -> pa.Table:
    """An Arrow IPC file, memory-mapped: save_to_disk writes the stream format."""
    source = pa.memory_map(str(ctx.path))
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        source.seek(0)
    try:
        return pa.ipc.open_file(source).read_all()
    except pa.ArrowException as err:
        raise _unreadable(ctx, "Arrow IPC", err) from None


def read_hf_file(ctx: FileContext) -> Iterator[RawRow]:
    """One data file of a local Hugging Face dataset (parquet, or save_to_disk arrow)."""
    if ctx.path.suffix == ".parquet":
        yield from read_parquet(ctx)
        return
    table = _read_ipc(ctx)
    names = class_label_names(table.schema, ctx.path.parent)
    yield from _arrow_rows(ctx, iter(table.to_batches(max_chunksize=BATCH_ROWS)), names)


def _state_files(folder: Path) -> list[Path]:
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    return [folder / entry["filename"] for entry in state.get("_data_files", [])]


def hf_layout(name: str, target: Path) -> list[tuple[Path, dict]]:
    """The data files of a local HF dataset, in order, each with meta for its rows.

    - ``save_to_disk`` of a DatasetDict: ``dataset_dict.json`` lists the splits,
      each a sub-folder; rows get ``meta.hf_split``;
    - ``save_to_disk`` of a Dataset: ``state.json`` lists ``data-*.arrow``;
    - a hub snapshot / any folder: its ``*.parquet`` (else ``*.arrow``) files,
      recursively, in sorted order; a single file works too.
    """
    if target.is_file():
        return [(target, {})]
    try:
        if (target / "dataset_dict.json").is_file():
            splits = json.loads((target / "dataset_dict.json").read_text(encoding="utf-8"))
            return [
                (path, {"hf_split": split})
                for split in splits["splits"]
                for path in _state_files(target / split)
            ]
        if (target / "state.json").is_file():
            return [(path, {}) for path in _state_files(target)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SourceError(
            f"source {name!r}: {target} looks like a save_to_disk dataset but its "
            f"dataset_dict.json / state.json cannot be read ({err})"
        ) from None
    for pattern in ("*.parquet", "*.arrow"):
        files = sorted(p for p in target.rglob(pattern) if not p.name.startswith("."))
        if files:
            return [(path, {}) for path in files]
    raise SourceError(
        f"source {name!r}: no *.parquet or *.arrow data files under {target} "
        f"(source.{name}.path should point at a local Hugging Face dataset folder)"
    )


# ---------------------------------------------------------------- xlsx
def _cell_text(value: object) -> object:
    """Spreadsheet cells as text: a phone number or an intent id typed as a number is text."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(cells: tuple) -> list[str]:
    from openpyxl.utils import get_column_letter

    values = list(cells)
    while values and _is_empty(values[-1]):
        values.pop()
    names: list[str] = []
    for i, value in enumerate(values):
        name = str(_cell_text(value)).strip() if not _is_empty(value) else get_column_letter(i + 1)
        names.append(name if name not in names else f"{name}.{names.count(name)}")
    return names


def _open_sheet(ctx: FileContext):  # -> (workbook, worksheet)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(ctx.path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ParseError) as err:
        raise _unreadable(ctx, "xlsx", err) from None
    sheet = ctx.spec.sheet
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise ConfigError(
            f"{ctx.spec.key('sheet')}: {ctx.rel} has no sheet {sheet!r} "
            f"(sheets: {', '.join(workbook.sheetnames)})"
        )
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    return workbook, worksheet


def _broken_sheet(ctx: FileContext, sheet: str, row_no: int, err: Exception) -> RawReject:
    """The sheet's XML breaks off (bad markup, or a character XML forbids such as
    ``&#xD800;``): the rows before are kept, the rest is one reject, as a JSON file's
    unparseable tail is."""
    where = f"{ctx.rel}:{sheet}!{row_no}"
    message = (
        f"the sheet's XML is malformed from here on ({err}); the rest of the sheet was not read"
    )
    return RawReject(f"{ctx.rel}#{sheet}!{row_no}", where, message, Reason.MALFORMED_ROW, message)


def read_xlsx(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """First non-empty row is the header; fully empty rows are blank lines, not records."""
    workbook, worksheet = _open_sheet(ctx)
    try:
        worksheet.reset_dimensions()  # trust the cells, not the (often wrong) stored dimension
        header: list[str] | None = None
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        row_no = 0
        while True:
            try:
                row_no, cells = next(rows)
            except StopIteration:
                return
            except (ParseError, zipfile.BadZipFile) as err:
                yield _broken_sheet(ctx, worksheet.title, row_no + 1, err)
                return
            if all(_is_empty(v) for v in cells):
                ctx.blank_lines += 1
                continue
            if header is None:
                header = _header(cells)
                continue
            locator = f"{ctx.rel}#{worksheet.title}!{row_no}"
            where = f"{ctx.rel}:{worksheet.title}!{row_no}"
            values = list(cells) + [None] * max(0, len(header) - len(cells))
            raw = canonical_json(plain(dict(zip(header, values, strict=False))))
            extra = [v for v in values[len(header) :] if not _is_empty(v)]
            if extra:
                message = f"row has values right of the header's last column ({header[-1]!r})"
                yield RawReject(
                    locator, where, canonical_json(plain(values)), Reason.MALFORMED_ROW, message
                )
                continue
            row = {name: _cell_text(v) for name, v in zip(header, values, strict=False)}
            yield RawRow(locator, where, raw, row)
    finally:
        workbook.close()
