"""One record's path from raw line to export line, and the first release that shipped it.

Everything is read from the revision asked about (through DVC, never
rebuilt): the record's own lineage columns (``locator``, ``ops``, ``parents``,
``annotations``), its position in the export, and the ``data_v*`` tags.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ftdata.errors import FtdataError
from ftdata.export import to_openai
from ftdata.io import to_jsonable
from ftdata.revisions import RECORDS, Revision, RevisionError, release_tags
from ftdata.stage import PROCESSED


class RecordNotFound(FtdataError):
    exit_code = 1


@dataclass
class Lineage:
    id: str
    rev: str
    status: str  # exported | rejected
    source: str | None
    source_kind: str | None
    license: str | None
    locator: str | None
    raw: dict
    label: str | None
    split: str | None
    ops: list[dict]
    parents: list[dict]
    annotations: list[dict]
    export: dict | None
    rejected: dict | None
    first_release: str | None
    releases: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return to_jsonable(asdict(self))


def split_locator(locator: str | None) -> tuple[str | None, int | None, str | None]:
    """``data/raw/x.jsonl:118#augment/synonym/0`` -> (``data/raw/x.jsonl``, 118, ``augment/synonym/0``).

    Derived records (augmentation, resampling) append ``#stage/op/n`` to their
    parent's locator; a non-numeric line part stays in the path.
    """
    if not locator:
        return None, None, None
    base, _, derivation = locator.partition("#")
    path, sep, line = base.rpartition(":")
    if sep and line.isdigit():
        return path, int(line), derivation or None
    return base, None, derivation or None


def raw_line(rev: Revision, locator: str | None, source_cfg: dict | None) -> dict:
    """The raw file and line a locator names, with the line's text when the file is readable."""
    from ftdata.ingest.encoding import decode_lines

    path, line, derivation = split_locator(locator)
    out: dict[str, Any] = {"path": path, "line": line, "derivation": derivation, "text": None}
    if path is None or line is None or not rev.exists(path):
        return out
    try:
        data = rev.read_bytes(path)
    except RevisionError:
        return out
    cfg = source_cfg or {}
    decoded = decode_lines(
        data, cfg.get("encoding", "auto") or "auto", html=cfg.get("format") == "html"
    )
    if 1 <= line <= len(decoded.lines):
        out["text"] = decoded.lines[line - 1]
    return out


def _params(rev: Revision) -> dict:
    text = rev.read_text("params.yaml", default=None)
    return (yaml.safe_load(text) if text else None) or {}


def _rejected_record(reject: dict, record_id: str) -> dict:
    """The canonical record a reject keeps, or ``{}`` when it keeps a raw line instead.

    Stages that read raw files (ingest, evaluate) store the line as read, which may be
    malformed JSON or JSON of the raw file's own shape; the raw line is shown from the
    locator anyway, so only a canonical record (its ``id`` and a ``source``) is used.
    """
    try:
        parsed = json.loads(reject.get("record") or "{}")
    except ValueError:
        return {}
    canonical = isinstance(parsed, dict) and parsed.get("id") == record_id and "source" in parsed
    return parsed if canonical else {}


def _find_reject(rev: Revision, record_id: str) -> dict | None:
    rejects = rev.rejects()
    hits = np.flatnonzero(rejects.column("id").to_numpy(zero_copy_only=False) == record_id)
    return rejects.slice(int(hits[0]), 1).to_pylist()[0] if len(hits) else None


def _export_position(
    rev: Revision, record_id: str, split: str, messages: list, params: dict
) -> dict | None:
    """Where the record is in data/processed/openai/<split>.jsonl (exports keep records.parquet order)."""
    ids_splits = rev.records(columns=["id", "split"])
    ids = ids_splits.column("id").to_numpy(zero_copy_only=False)
    row = int(np.flatnonzero(ids == record_id)[0])
    same_split = pc.equal(ids_splits.column("split").slice(0, row), split)
    line = int(pc.sum(same_split).as_py() or 0) + 1
    path = (PROCESSED / "openai" / f"{split}.jsonl").as_posix()
    out = {"path": path, "line": line, "row_in_records": row, "verified": False}
    if rev.exists(path):
        lines = rev.read_bytes(path).decode("utf-8").splitlines()
        if line <= len(lines):
            system = (params.get("export") or {}).get("system_prompt")
            out["verified"] = json.loads(lines[line - 1]) == to_openai(messages, system)
    name = (params.get("export") or {}).get("dataset_name")
    if name:
        out["llamafactory_index"] = line - 1
        out["llamafactory_files"] = [
            (PROCESSED / "llamafactory" / f"{name}_{fmt}_{split}.json").as_posix()
            for fmt in ("alpaca", "sharegpt")
            if fmt in (params.get("export") or {}).get("formats", [])
        ]
    return out


def _parent_info(rev: Revision, parent_ids: list[str]) -> list[dict]:
    if not parent_ids:
        return []
    records = rev.records(columns=["id", "source", "locator"])
    rejects = rev.rejects()
    found = {
        r["id"]: {**r, "status": "exported"}
        for r in records.filter(
            pc.is_in(records.column("id"), value_set=_arr(parent_ids))
        ).to_pylist()
    }
    for r in rejects.filter(pc.is_in(rejects.column("id"), value_set=_arr(parent_ids))).to_pylist():
        found.setdefault(
            r["id"],
            {
                "id": r["id"],
                "source": r["source"],
                "locator": r["locator"],
                "status": f"rejected ({r['stage']}:{r['reason']})",
            },
        )
    return [
        found.get(
            pid, {"id": pid, "source": None, "locator": None, "status": "not in this revision"}
        )
        for pid in parent_ids
    ]


def _arr(values: list[str]) -> pa.Array:
    return pa.array(values, pa.string())


def releases_with(root: Path, record_id: str) -> list[str]:
    """The ``data_v*`` tags (in version order) whose records contain ``record_id``."""
    found = []
    for tag in release_tags(root):
        rev = Revision(root, tag)
        if not rev.exists(RECORDS):
            continue
        ids = rev.records(columns=["id"]).column("id")
        if pc.any(pc.equal(ids, record_id)).as_py():
            found.append(tag)
    return found


def lineage(root: str | Path, record_id: str, rev: str | None = None) -> Lineage:
    """Trace ``record_id`` in revision ``rev`` (default: the workspace)."""
    root = Path(root).resolve()
    revision = Revision(root, rev)
    params = _params(revision)
    table = revision.records()
    hits = np.flatnonzero(table.column("id").to_numpy(zero_copy_only=False) == record_id)
    rejected = None
    if len(hits):
        record = table.slice(int(hits[0]), 1).to_pylist()[0]
        status = "exported"
    else:
        reject = _find_reject(revision, record_id)
        if reject is None:
            raise RecordNotFound(
                f"record {record_id!r}: not in {RECORDS} nor in the rejects of {revision.name} "
                "(ids are 16 hex characters; `ftdata diff` lists ids that changed)"
            )
        record = _rejected_record(reject, record_id)
        record.setdefault("id", record_id)
        record.setdefault("source", reject.get("source"))
        record.setdefault("locator", reject.get("locator"))
        rejected = {k: reject.get(k) for k in ("stage", "reason", "detail", "duplicate_of")}
        status = "rejected"
    source = record.get("source")
    source_cfg = (params.get("source") or {}).get(source) if source else None
    if isinstance(source_cfg, dict):  # a raw-line reject carries no kind or licence of its own
        record.setdefault("source_kind", source_cfg.get("kind"))
        record.setdefault("license", source_cfg.get("license"))
    split = record.get("split")
    export = None
    if status == "exported" and split:
        export = _export_position(
            revision, record_id, split, list(record.get("messages") or []), params
        )
    releases = releases_with(root, record_id)
    return Lineage(
        id=record_id,
        rev=revision.name,
        status=status,
        source=source,
        source_kind=record.get("source_kind"),
        license=record.get("license"),
        locator=record.get("locator"),
        raw=raw_line(revision, record.get("locator"), source_cfg),
        label=record.get("label"),
        split=split,
        ops=[_op_entry(o) for o in record.get("ops") or []],
        parents=_parent_info(revision, list(record.get("parents") or [])),
        annotations=[dict(a) for a in record.get("annotations") or []],
        export=export,
        rejected=rejected,
        first_release=releases[0] if releases else None,
        releases=releases,
    )


def _op_entry(entry: dict) -> dict:
    """A record's ``ops`` entry, plus whether that op can change content at all.

    The record keeps every op that touched it, scorers and flaggers included
    (DESIGN.md's ``ops`` contract); the registry knows which ops only add fields,
    so the lineage can tell "changed it" from "scored it". An op the registry
    does not know (a plugin not installed, a retired name) counts as a change.
    """
    from ftdata.catalog import all_ops

    op = all_ops().get(str(entry.get("op")))
    return {**dict(entry), "changes_content": op.changes_content if op else True}


def to_markdown(item: Lineage) -> str:
    lines = [f"## Lineage of {item.id} ({item.rev})", ""]
    split = f"split `{item.split}`" if item.split else "no split (not exported)"
    label = f"label `{item.label}`" if item.label else "no label"
    lines.append(f"- status: **{item.status}**; {label}; {split}")
    facts = [item.source_kind, f"licence {item.license}" if item.license else None]
    facts_text = ", ".join(f for f in facts if f)
    lines.append(f"- source: `{item.source}`" + (f" ({facts_text})" if facts_text else ""))
    raw = item.raw
    lines.append(f"- raw: `{raw['path']}` line {raw['line']}")
    if raw.get("derivation"):
        lines[-1] += f", derived by `{raw['derivation'].replace('#', '` then `')}`"
    if raw.get("text") is not None:
        text = raw["text"] if len(raw["text"]) <= 200 else raw["text"][:199] + "…"
        lines.append(f"  > {text}")
    changed = [(i, o) for i, o in enumerate(item.ops, 1) if o.get("changes_content", True)]
    annotated = [(i, o) for i, o in enumerate(item.ops, 1) if not o.get("changes_content", True)]
    if changed:
        lines += [
            "- ops that changed it:",
            "",
            "  | # | stage | op | params_hash |",
            "  |---|---|---|---|",
        ]
        lines += [
            f"  | {i} | {o.get('stage')} | {o.get('op')} | `{o.get('params_hash')}` |"
            for i, o in changed
        ]
        lines.append("")
    else:
        lines.append("- ops that changed it: none (content as ingested)")
    if annotated:
        lines.append(
            "- ops that scored or flagged it (fields added, content unchanged): "
            + ", ".join(
                f"#{i} {o.get('stage')}/{o.get('op')} (`{o.get('params_hash')}`)"
                for i, o in annotated
            )
        )
    if item.parents:
        lines.append(
            "- parents: "
            + "; ".join(
                f"{p['id']} ({p['source']}, {p['locator']}, {p['status']})" for p in item.parents
            )
        )
    else:
        lines.append("- parents: none (read from a raw source)")
    if item.annotations:
        lines.append(
            "- annotations: "
            + "; ".join(
                f"{a.get('annotator')} → `{a.get('label')}` (guideline {a.get('guideline_version')})"
                for a in item.annotations
            )
        )
    else:
        lines.append("- annotations: none")
    if item.export:
        e = item.export
        check = (
            "verified" if e["verified"] else "NOT verified: the export line differs from the record"
        )
        lines.append(f"- export: `{e['path']}` line {e['line']} ({check})")
        for path in e.get("llamafactory_files", []):
            lines.append(f"  and `{path}` item {e['llamafactory_index']}")
    if item.rejected:
        r = item.rejected
        lines.append(f"- rejected at `{r['stage']}`: {r['reason']} — {r['detail']}")
    if item.first_release:
        others = [t for t in item.releases if t != item.first_release]
        lines.append(
            f"- first release: **{item.first_release}**"
            + (f" (also in {', '.join(others)})" if others else "")
        )
    else:
        lines.append("- first release: none yet (not in any data_v* release)")
    return "\n".join(lines).rstrip() + "\n"
