"""Line-oriented text sources: JSON lines (jsonl, Scrapy feeds, ELK exports) and CSV.

A raw record is a line (or, for CSV, the lines of one row). Every non-blank
line ends up a record or a reject, so ``n_read`` can be checked against the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from ftdata.ingest.context import FileContext
from ftdata.ingest.encoding import has_bad_bytes, show_bad_bytes
from ftdata.ingest.items import RawReject, RawRow
from ftdata.reasons import Reason

# Elasticsearch _bulk bodies interleave an action line with the document line.
BULK_ACTIONS = ("index", "create", "update", "delete")


def _nul_meta(count: int) -> dict:
    return {"nul_bytes_removed": count} if count else {}


def _nonfinite_meta(ctx: FileContext, before: int, meta: dict) -> dict:
    count = ctx.nonfinite_to_null - before
    return {**meta, "nonfinite_to_null": count} if count else meta


def read_jsonl(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """One JSON value per line; also Scrapy's JSON-lines feed export.

    ``strict=False`` lets raw tabs and control characters inside strings
    through: chat logs hold them and they are content, not structure.
    """
    for line_no, line in enumerate(ctx.lines(), start=1):
        where = f"{ctx.rel}:{line_no}"
        if has_bad_bytes(line):
            yield ctx.decode_reject(line_no, line)
            continue
        nul_count = line.count("\x00")
        clean = line.replace("\x00", "") if nul_count else line
        if not clean.strip():
            ctx.blank_lines += 1
            continue
        before = ctx.nonfinite_to_null
        try:
            value = json.loads(clean, strict=False, parse_constant=ctx.json_constant)
        except json.JSONDecodeError as err:
            ctx.nonfinite_to_null = before  # a rejected line's constants were never read
            yield RawReject(where, where, line, Reason.MALFORMED_JSON, str(err))
            continue
        except RecursionError:
            ctx.nonfinite_to_null = before
            yield RawReject(where, where, line, Reason.MALFORMED_JSON, "JSON nested too deeply")
            continue
        yield RawRow(where, where, line, value, _nonfinite_meta(ctx, before, _nul_meta(nul_count)))


def _bulk_action(value: object) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        ((action, body),) = value.items()
        if action in BULK_ACTIONS and isinstance(body, dict):
            return action
    return None


def read_elk(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """Elasticsearch / Kibana NDJSON: each line a search hit ``{"_index", "_id", "_source"}``.

    Field paths resolve against the whole hit (``_source.message.body``). A
    ``_bulk`` body is read too: an ``index``/``create`` action line and the
    document line after it become one hit (``_source`` = the document), one raw
    record located at the action line. ``update``/``delete`` actions carry no
    whole document and are rejected as ``malformed_row`` (with an ``update``'s
    partial-document line).
    """
    items = read_jsonl(ctx)
    pending: RawRow | RawReject | None = None  # a line read ahead that was not a document
    while True:
        item = pending if pending is not None else next(items, None)
        pending = None
        if item is None:
            return
        action = _bulk_action(item.value) if isinstance(item, RawRow) else None
        if action is None:
            yield item
            continue
        doc = next(items, None) if action != "delete" else None
        if isinstance(doc, RawRow) and _bulk_action(doc.value) is not None:
            doc, pending = None, doc  # two actions in a row: the first has no document
        if (
            action in ("index", "create")
            and isinstance(doc, RawRow)
            and isinstance(doc.value, dict)
        ):
            hit = {**item.value[action], "_source": doc.value}
            meta = {**item.meta, **doc.meta}
            yield RawRow(item.locator, item.where, f"{item.raw}\n{doc.raw}", hit, meta)
            continue
        if action in ("index", "create"):
            message = f"bulk {action!r} action is not followed by a JSON document line"
            yield RawReject(item.locator, item.where, item.raw, Reason.MALFORMED_ROW, message)
            if doc is not None:
                yield doc  # the line after it is accounted for on its own
            continue
        raw = item.raw if doc is None else f"{item.raw}\n{doc.raw}"
        message = f"bulk {action!r} action carries no whole document to ingest"
        yield RawReject(item.locator, item.where, raw, Reason.MALFORMED_ROW, message)


# ---------------------------------------------------------------- CSV
def _dedupe_header(header: list[str]) -> list[str]:
    """Repeated column names get ``.1``, ``.2`` (as pandas does) instead of overwriting."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    return names


def _header_problem(span: list[str], error: str | None) -> tuple[Reason, str] | None:
    if any(has_bad_bytes(line) for line in span):
        return Reason.DECODE_ERROR, "the header row holds undecodable bytes"
    if error is not None:
        return Reason.MALFORMED_ROW, f"cannot parse the header row: {error}"
    return None


def read_csv(ctx: FileContext) -> Iterator[RawRow | RawReject]:
    """A header row, then one record per row; quoted fields may span lines.

    A row's locator is the line it starts on. A row whose field count differs
    from the header's, or that the csv module cannot parse (strict quoting), is a
    ``malformed_row``. Undecodable bytes reject the row that holds them.
    """
    lines = ctx.decode().lines
    nul_counts = [line.count("\x00") for line in lines]
    feed = (line.replace("\x00", "") + "\n" for line in lines)
    reader = csv.reader(feed, delimiter=ctx.spec.csv_delimiter, strict=True)
    header: list[str] | None = None
    end = 0
    while True:
        start = end + 1
        error = None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            row, error = None, str(err)
        end = max(reader.line_num, start)
        span = lines[start - 1 : end]
        raw = "\n".join(span)
        where = f"{ctx.rel}:{start}"
        if error is None and not raw.replace("\x00", "").strip():
            ctx.blank_lines += 1
            continue
        if header is None:
            problem = _header_problem(span, error)
            if problem is not None:
                # Without a header no row can be mapped: the file is one reject.
                whole = show_bad_bytes("\n".join(lines))
                yield RawReject(
                    where, where, whole, problem[0], f"{problem[1]}; the file was not read"
                )
                return
            header = _dedupe_header(row)
            continue
        if any(has_bad_bytes(line) for line in span):
            yield ctx.decode_reject(start, raw)
            continue
        if error is not None:
            yield RawReject(where, where, raw, Reason.MALFORMED_ROW, error)
        elif len(row) != len(header):
            message = f"row has {len(row)} fields, the header has {len(header)}"
            yield RawReject(where, where, raw, Reason.MALFORMED_ROW, message)
        else:
            meta = _nul_meta(sum(nul_counts[start - 1 : end]))
            yield RawRow(where, where, raw, dict(zip(header, row, strict=True)), meta)
