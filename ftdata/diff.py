"""Record-level diff of two revisions: which samples were added, removed, changed or rejected, and why.

``dvc diff`` says that records.parquet changed; this module says which records
did. It compares the canonical exported records (by ``id``) and the rejects of
every stage, and groups the result by source, label and reject reason.

It is vectorised so that a million records diff in seconds: every column is
reduced to one 64-bit hash per row (nested lists and structs included, order
sensitive), records are matched with a pandas index, and Python objects are
built only for the few rows shown as examples.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ftdata.io import to_jsonable
from ftdata.record import content_of
from ftdata.revisions import Revision

KEY = "id"
UNLABELLED = "(unlabelled)"
# The order fields are listed in; any other column follows alphabetically.
FIELD_ORDER = (
    "messages", "text", "label", "split", "annotations", "source", "source_kind", "license",
    "locator", "conversation_id", "parents", "ops", "meta",
)  # fmt: skip

# ------------------------------------------------------------------ row hashes
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_NULL = np.uint64(0x6A09E667F3BCC909)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the output (wrapping uint64 maths)."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def _hash_strings(arr: pa.Array) -> np.ndarray:
    """One uint64 per string (nulls are masked by the caller).

    Low-cardinality columns (roles, labels, splits, sources) are dictionary-encoded
    in Arrow first, so only their few distinct values become Python strings;
    high-cardinality ones (message text) are hashed directly, which is cheaper
    than building a dictionary of a million distinct strings.
    """
    sample = arr.slice(0, 4096)
    if len(arr) > len(sample) and pc.count_distinct(sample).as_py() * 4 < len(sample):
        encoded = pc.dictionary_encode(arr)
        dictionary = encoded.dictionary.to_numpy(zero_copy_only=False)
        uniques = pd.util.hash_array(dictionary, categorize=False)
        if not len(uniques):
            return np.zeros(len(arr), dtype=np.uint64)
        return uniques[encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)]
    return pd.util.hash_array(arr.to_numpy(zero_copy_only=False), categorize=False)


def hash_rows(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """One uint64 per row; equal values give equal hashes, whatever their nesting.

    Lists hash their elements with their positions (order matters) and their
    length; structs hash their fields with the field's index; null and NaN
    share one marker (parquet writers disagree on which a missing score is).
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n = len(arr)
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr = arr.dictionary_decode()
        typ = arr.type
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        lengths = (
            pc.list_value_length(arr).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        )
        values = hash_rows(arr.flatten())
        out = np.zeros(n, dtype=np.uint64)
        if len(values):
            starts = np.cumsum(lengths) - lengths
            parents = np.repeat(np.arange(n), lengths)
            positions = (np.arange(len(values)) - starts[parents]).astype(np.uint64)
            elements = _mix(values ^ _mix(positions + _GOLDEN))
            nonempty = lengths > 0
            out[nonempty] = np.add.reduceat(elements, starts[nonempty])
        out = _mix(out ^ _mix(lengths.astype(np.uint64) * _GOLDEN))
    elif pa.types.is_struct(typ):
        out = np.full(n, _GOLDEN, dtype=np.uint64)
        for i, child in enumerate(arr.flatten()):
            out = _mix(
                out
                ^ (
                    hash_rows(child)
                    + np.uint64(((i + 1) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF)
                )
            )
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(typ):
        out = _hash_strings(arr)
    elif pa.types.is_null(typ):
        return np.full(n, _NULL, dtype=np.uint64)
    else:
        values = arr.to_numpy(zero_copy_only=False)
        if pa.types.is_floating(typ):
            values = np.where(np.isnan(values), 0.0, values)
        elif values.dtype == object:  # ints or bools with nulls
            values = np.array([0 if v is None else v for v in values], dtype=np.float64)
        out = pd.util.hash_array(np.asarray(values), categorize=False)
    nulls = arr.is_null(nan_is_null=True) if pa.types.is_floating(typ) else arr.is_null()
    mask = nulls.to_numpy(zero_copy_only=False)
    if mask.any():
        out[mask] = _NULL
    return out


# ------------------------------------------------------------------ result
@dataclass
class RecordDiff:
    """The result of :func:`diff_snapshots`; ``as_dict`` is the JSON the CLI prints."""

    base: str
    head: str
    counts: dict[str, int]
    fields: dict[str, int]
    by_source: dict[str, dict[str, int]]
    by_label: dict[str, dict[str, int]]
    by_reason: dict[str, dict[str, int]]
    split_moves: list[dict]
    label_changes: list[dict]
    examples: dict[str, dict[str, list[dict]]]
    limit: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return to_jsonable(asdict(self))


def _column(table: pa.Table, name: str, rows: np.ndarray | None = None) -> np.ndarray:
    """A column (or just ``rows`` of it, taken in Arrow first) as a numpy object array."""
    n = table.num_rows if rows is None else len(rows)
    if name not in table.column_names:
        return np.full(n, None, dtype=object)
    col = table.column(name)
    if rows is not None:
        col = col.take(pa.array(np.asarray(rows, dtype=np.int64)))
    return col.to_numpy(zero_copy_only=False).astype(object)


def _keys(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    col = table.column(name)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return col if pa.types.is_string(col.type) else col.cast(pa.string())


def _lookup(keys: pa.Array, value_set: pa.Array) -> np.ndarray:
    """Per key, its position in ``value_set`` or -1 (Arrow's C++ hash lookup: fast at 1M)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    if not len(value_set):
        return np.full(len(keys), -1, dtype=np.int64)
    found = pc.index_in(keys, value_set=value_set).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def _parent_fates(
    base_records: pa.Table,
    removed_rows: np.ndarray,
    fates: np.ndarray,
    head_rejected: pa.Array,
    head_reasons: np.ndarray,
    head_exported: pa.Array,
) -> np.ndarray:
    """Refine ``dropped`` for derived records: ``parent <stage:reason>``, ``parent dropped``
    or ``not regenerated``.

    An augmented or resampled record is not rejected when its parent is: it is
    simply never generated again, so its fate is its parent's. When every parent
    is still exported, the deriving stage picked other records this time
    (a budget or a resampling draw changed).
    """
    dropped = np.flatnonzero(fates == "dropped")
    if not len(dropped) or "parents" not in base_records.column_names:
        return fates
    parents = base_records.column("parents").take(pa.array(removed_rows[dropped]))
    parents = parents.combine_chunks() if isinstance(parents, pa.ChunkedArray) else parents
    flat = pc.list_flatten(parents).cast(pa.string())
    if not len(flat):
        return fates
    owners = pc.list_parent_indices(parents).to_numpy()
    rejected_at = _lookup(flat, head_rejected)
    gone = _lookup(flat, head_exported) < 0
    out = fates.copy()
    # Parents all still exported: the deriving stage (augment, balance) chose other records.
    out[dropped[np.unique(owners)]] = "not regenerated"
    # Then, by priority, a missing parent and a rejected one; walking backwards leaves
    # each record with its first such parent.
    for owner, missing in zip(owners[::-1], gone[::-1], strict=True):
        if missing:
            out[dropped[owner]] = "parent dropped"
    for owner, at in zip(owners[::-1], rejected_at[::-1], strict=True):
        if at >= 0:
            out[dropped[owner]] = f"parent {head_reasons[at]}"
    return out


def _pick(values: np.ndarray, positions: np.ndarray, default: str) -> np.ndarray:
    out = np.full(len(positions), default, dtype=object)
    hit = positions >= 0
    out[hit] = values[positions[hit]]
    return out


def _labels(values: np.ndarray) -> np.ndarray:
    out = values.astype(object).copy()
    out[pd.isna(out)] = UNLABELLED
    return out


def _unique_by(keys: pa.Array, what: str, notes: list[str]) -> np.ndarray:
    """Positions of the first row of each key; a note when a key repeats (it should not)."""
    first = _lookup(keys, keys)
    rows = np.flatnonzero(first == np.arange(len(keys)))
    if len(rows) != len(keys):
        notes.append(
            f"{what}: {len(keys) - len(rows)} rows repeat an id; the first of each is compared"
        )
    return rows


def _reject_keys(rejects: pa.Table) -> pa.Array:
    """Rejects are matched by record id; rows that never got one (unparseable) by ``@locator``."""
    ids, locs = _keys(rejects, "id"), _keys(rejects, "locator")
    fallback = pc.binary_join_element_wise("@", pc.fill_null(locs, ""), "")
    return pc.coalesce(ids, fallback)


def _stage_reasons(rejects: pa.Table) -> np.ndarray:
    """``stage:reason`` of every reject row."""
    joined = pc.binary_join_element_wise(_keys(rejects, "stage"), _keys(rejects, "reason"), ":")
    return joined.to_numpy(zero_copy_only=False).astype(object)


def _preview(messages: Any, text: Any, width: int = 80) -> str:
    content = content_of(list(messages or []), text if isinstance(text, str) else None)
    content = " / ".join(line.strip() for line in content.splitlines() if line.strip())
    return content if len(content) <= width else content[: width - 1] + "…"


def _brief(row: dict, width: int = 80) -> dict:
    return {
        "id": row.get("id"),
        "source": row.get("source"),
        "label": row.get("label"),
        "split": row.get("split"),
        "locator": row.get("locator"),
        "preview": _preview(row.get("messages"), row.get("text"), width),
    }


def _take(table: pa.Table, positions: np.ndarray) -> list[dict]:
    if not len(positions):
        return []
    return table.take(pa.array(np.asarray(positions, dtype=np.int64))).to_pylist()


def _sample(positions: np.ndarray, groups: np.ndarray, limit: int) -> dict[str, np.ndarray]:
    """Per group, the first ``limit`` positions (file order, so stable); all when limit is 0."""
    out: dict[str, np.ndarray] = {}
    if not len(positions):
        return out
    frame = pd.DataFrame({"pos": positions, "group": groups.astype(str)})
    for group, part in frame.groupby("group", sort=True):
        out[str(group)] = part["pos"].to_numpy()[:limit] if limit else part["pos"].to_numpy()
    return out


def _ordered_fields(names) -> list[str]:
    known = [f for f in FIELD_ORDER if f in names]
    return known + sorted(n for n in names if n not in FIELD_ORDER)


def _aligned(
    base_col: pa.ChunkedArray | None, head_col: pa.ChunkedArray | None, n_base: int, n_head: int
):
    """The two sides of one column, cast to a common type (a column may exist on one side only)."""
    if base_col is None:
        base_col = pa.nulls(n_base, head_col.type)
    if head_col is None:
        head_col = pa.nulls(n_head, base_col.type)
    if base_col.type != head_col.type:
        try:
            base_col = base_col.cast(head_col.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            head_col = (
                head_col.cast(pa.string()) if pa.types.is_primitive(head_col.type) else head_col
            )
    return base_col, head_col


# ------------------------------------------------------------------ the diff
def diff_snapshots(
    base_records: pa.Table,
    head_records: pa.Table,
    base_rejects: pa.Table | None = None,
    head_rejects: pa.Table | None = None,
    *,
    base: str = "base",
    head: str = "head",
    limit: int = 20,
) -> RecordDiff:
    """Compare two revisions' records (and rejects); pure function of the four tables.

    Args:
        base_records / head_records: canonical records with ``id`` (records.parquet).
        base_rejects / head_rejects: concatenated rejects (stage, reason, detail, id, ...).
        limit: examples kept per group (0 keeps every record: large output).
    Returns:
        A :class:`RecordDiff`: counts, per-field change counts, groupings and examples.
    """
    notes: list[str] = []
    empty = pa.table(
        {
            c: pa.array([], pa.string())
            for c in ("stage", "reason", "detail", "id", "source", "locator")
        }
    )
    # One chunk per column: parquet row groups make several, and Arrow's take on a
    # chunked list column concatenates it again on every call.
    base_records, head_records = base_records.combine_chunks(), head_records.combine_chunks()
    base_rejects = (empty if base_rejects is None else base_rejects).combine_chunks()
    head_rejects = (empty if head_rejects is None else head_rejects).combine_chunks()

    base_keys, head_keys = _keys(base_records, KEY), _keys(head_records, KEY)
    base_rows = _unique_by(base_keys, f"{base} records", notes)
    head_rows = _unique_by(head_keys, f"{head} records", notes)
    base_set = base_keys.take(pa.array(base_rows))
    head_set = head_keys.take(pa.array(head_rows))

    in_base = _lookup(head_set, base_set)  # per head record: its index in base_set, or -1
    added_rows = head_rows[in_base < 0]
    common_head = head_rows[in_base >= 0]
    common_base = base_rows[in_base[in_base >= 0]]
    removed_rows = base_rows[_lookup(base_set, head_set) < 0]

    # ---- per-field changes among records in both revisions
    fields = [
        c
        for c in _ordered_fields(set(base_records.column_names) | set(head_records.column_names))
        if c != KEY
    ]
    changed_by_field: dict[str, np.ndarray] = {}
    any_changed = np.zeros(len(common_head), dtype=bool)
    for name in fields:
        b, h = _aligned(
            base_records.column(name) if name in base_records.column_names else None,
            head_records.column(name) if name in head_records.column_names else None,
            base_records.num_rows,
            head_records.num_rows,
        )
        diff_mask = hash_rows(b)[common_base] != hash_rows(h)[common_head]
        if diff_mask.any():
            changed_by_field[name] = diff_mask
            any_changed |= diff_mask
    changed_head = common_head[any_changed]
    changed_base = common_base[any_changed]

    # ---- rejects: keyed by id, first row per key. A stage after export (evaluate)
    # may reject rows of records that stay exported: those are not rejected records.
    b_keys, h_keys = _reject_keys(base_rejects), _reject_keys(head_rejects)
    b_rej_rows = _unique_by(b_keys, f"{base} rejects", [])
    h_rej_rows = _unique_by(h_keys, f"{head} rejects", [])
    b_rej_rows = b_rej_rows[_lookup(b_keys.take(pa.array(b_rej_rows)), base_set) < 0]
    h_rej_rows = h_rej_rows[_lookup(h_keys.take(pa.array(h_rej_rows)), head_set) < 0]
    b_rej_set = b_keys.take(pa.array(b_rej_rows))
    h_rej_set = h_keys.take(pa.array(h_rej_rows))
    h_in_b = _lookup(h_rej_set, b_rej_set)
    newly_rejected = h_rej_rows[h_in_b < 0]
    no_longer_rejected = b_rej_rows[_lookup(b_rej_set, h_rej_set) < 0]
    both_h = h_rej_rows[h_in_b >= 0]
    both_b = b_rej_rows[h_in_b[h_in_b >= 0]]
    b_reasons, h_reasons = _stage_reasons(base_rejects), _stage_reasons(head_rejects)

    # Rejected in both, for a different reason (a new filter now catches it earlier).
    reasons_before, reasons_after = b_reasons[both_b], h_reasons[both_h]
    reason_moved = reasons_before != reasons_after
    reason_changed = int(reason_moved.sum())

    # Fates: why a record left the export, where an added record came from.
    removed_fate = _pick(
        h_reasons[h_rej_rows], _lookup(base_keys.take(pa.array(removed_rows)), h_rej_set), "dropped"
    )
    added_origin = _pick(
        b_reasons[b_rej_rows], _lookup(head_keys.take(pa.array(added_rows)), b_rej_set), "new"
    )
    was_exported = _lookup(h_keys.take(pa.array(newly_rejected)), base_set) >= 0
    removed_fate = _parent_fates(
        base_records, removed_rows, removed_fate, h_rej_set, h_reasons[h_rej_rows], head_set
    )

    # ---- groupings
    by_source: dict[str, Counter] = {}
    by_label: dict[str, Counter] = {}

    def tally(target: dict[str, Counter], keys, what: str) -> None:
        for key, n in Counter(keys).items():
            target.setdefault(str(key), Counter())[what] += n

    tally(by_source, _column(head_records, "source", added_rows), "added")
    tally(by_source, _column(base_records, "source", removed_rows), "removed")
    tally(by_source, _column(head_records, "source", changed_head), "changed")
    tally(by_source, _column(head_rejects, "source", newly_rejected), "newly_rejected")
    tally(by_label, _labels(_column(head_records, "label", added_rows)), "added")
    tally(by_label, _labels(_column(base_records, "label", removed_rows)), "removed")
    tally(by_label, _labels(_column(head_records, "label", changed_head)), "changed")

    by_reason: dict[str, Counter] = {}
    tally(by_reason, h_reasons[newly_rejected], "newly_rejected")
    derived = ("dropped", "not regenerated", "parent dropped")
    direct = np.array(
        [f not in derived and not f.startswith("parent ") for f in removed_fate], dtype=bool
    )
    tally(by_reason, removed_fate[direct], "removed_from_export")
    tally(
        by_reason,
        [f[7:] for f in removed_fate if f.startswith("parent ") and f != "parent dropped"],
        "derived_removed",
    )
    tally(by_reason, b_reasons[no_longer_rejected], "no_longer_rejected")
    tally(by_reason, reasons_after[reason_moved], "reason_changed_to")
    tally(by_reason, reasons_before[reason_moved], "reason_changed_from")

    # Only the rows whose field hash changed are looked at in Python.
    no_change = np.zeros(len(common_head), dtype=bool)
    split_changed = changed_by_field.get("split", no_change)
    label_changed = changed_by_field.get("label", no_change)
    moves = Counter(
        zip(
            map(str, _column(base_records, "split", common_base[split_changed])),
            map(str, _column(head_records, "split", common_head[split_changed])),
            strict=True,
        )
    )
    label_moves = Counter(
        zip(
            _labels(_column(base_records, "label", common_base[label_changed])),
            _labels(_column(head_records, "label", common_head[label_changed])),
            strict=True,
        )
    )

    counts = {
        "base_records": int(len(base_rows)),
        "head_records": int(len(head_rows)),
        "added": int(len(added_rows)),
        "removed": int(len(removed_rows)),
        "changed": int(len(changed_head)),
        "unchanged": int(len(common_head) - len(changed_head)),
        "newly_rejected": int(len(newly_rejected)),
        "newly_rejected_were_exported": int(was_exported.sum()),
        "no_longer_rejected": int(len(no_longer_rejected)),
        "reject_reason_changed": reason_changed,
        "split_moves": int(sum(moves.values())),
        "label_changes": int(sum(label_moves.values())),
    }
    fields_changed = {name: int(mask.sum()) for name, mask in changed_by_field.items()}

    examples = _examples(
        base_records, head_records, head_rejects, base_rejects,
        added_rows, added_origin, removed_rows, removed_fate, changed_base, changed_head,
        {k: v[any_changed] for k, v in changed_by_field.items()},
        newly_rejected, was_exported, no_longer_rejected, limit,
    )  # fmt: skip
    return RecordDiff(
        base=base,
        head=head,
        counts=counts,
        fields=fields_changed,
        by_source={k: dict(sorted(v.items())) for k, v in sorted(by_source.items())},
        by_label={k: dict(sorted(v.items())) for k, v in sorted(by_label.items())},
        by_reason={k: dict(sorted(v.items())) for k, v in sorted(by_reason.items())},
        split_moves=[{"from": a, "to": b, "count": n} for (a, b), n in sorted(moves.items())],
        label_changes=[
            {"from": a, "to": b, "count": n}
            for (a, b), n in sorted(label_moves.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        examples=examples,
        limit=limit,
        notes=notes,
    )


def _reject_example(row: dict) -> dict:
    record = {}
    if row.get("record"):
        try:
            record = json.loads(row["record"])
        except (TypeError, ValueError):
            record = {}
    return {
        "id": row.get("id"),
        "source": row.get("source"),
        "label": record.get("label"),
        "locator": row.get("locator"),
        "stage": row.get("stage"),
        "reason": row.get("reason"),
        "detail": row.get("detail"),
        "duplicate_of": row.get("duplicate_of"),
        "preview": _preview(record.get("messages"), record.get("text")),
    }


def _examples(
    base_records, head_records, head_rejects, base_rejects,
    added_rows, added_origin, removed_rows, removed_fate, changed_base, changed_head,
    changed_masks, newly_rejected, was_exported, no_longer_rejected, limit,
) -> dict[str, dict[str, list[dict]]]:  # fmt: skip
    """Up to ``limit`` records per group, as plain dicts (the only per-row Python work)."""
    out: dict[str, dict[str, list[dict]]] = {}

    added_src = _column(head_records, "source", added_rows)
    added_groups = np.array(
        [f"{s} ({o})" for s, o in zip(added_src, added_origin, strict=True)], dtype=object
    )
    out["added"] = {
        g: [
            {**_brief(r), "origin": o}
            for r, o in zip(
                _take(head_records, pos), _origins(pos, added_rows, added_origin), strict=True
            )
        ]
        for g, pos in _sample(added_rows, added_groups, limit).items()
    }

    removed_groups = np.array(
        [
            f"{s} ({f})"
            for s, f in zip(
                _column(base_records, "source", removed_rows), removed_fate, strict=True
            )
        ],
        dtype=object,
    )
    out["removed"] = {
        g: [
            {**_brief(r), "fate": f}
            for r, f in zip(
                _take(base_records, pos), _origins(pos, removed_rows, removed_fate), strict=True
            )
        ]
        for g, pos in _sample(removed_rows, removed_groups, limit).items()
    }

    changed: dict[str, list[dict]] = {}
    for name, mask in changed_masks.items():
        rows_h, rows_b = changed_head[mask], changed_base[mask]
        if limit:
            rows_h, rows_b = rows_h[:limit], rows_b[:limit]
        before = _take(base_records, rows_b)
        after = _take(head_records, rows_h)
        changed[name] = [
            {**_brief(a), "before": b.get(name), "after": a.get(name)}
            for b, a in zip(before, after, strict=True)
        ]
    out["changed"] = changed

    reasons = np.array(
        [
            f"{s}:{r}"
            for s, r in zip(
                _column(head_rejects, "stage", newly_rejected),
                _column(head_rejects, "reason", newly_rejected),
                strict=True,
            )
        ],
        dtype=object,
    )
    out["newly_rejected"] = {
        g: [
            {**_reject_example(r), "was_exported": bool(w)}
            for r, w in zip(
                _take(head_rejects, pos), _origins(pos, newly_rejected, was_exported), strict=True
            )
        ]
        for g, pos in _sample(newly_rejected, reasons, limit).items()
    }
    back = np.array(
        [
            f"{s}:{r}"
            for s, r in zip(
                _column(base_rejects, "stage", no_longer_rejected),
                _column(base_rejects, "reason", no_longer_rejected),
                strict=True,
            )
        ],
        dtype=object,
    )
    out["no_longer_rejected"] = {
        g: [_reject_example(r) for r in _take(base_rejects, pos)]
        for g, pos in _sample(no_longer_rejected, back, limit).items()
    }
    return out


def _origins(positions: np.ndarray, rows: np.ndarray, values: np.ndarray) -> list:
    """``values`` (aligned with ``rows``) at the given ``positions`` (a subset of ``rows``)."""
    lookup = pd.Series(values, index=rows)
    return list(lookup.loc[positions])


# ------------------------------------------------------------------ revisions
def diff_revisions(root: str | Path, base: str, head: str, limit: int = 20) -> RecordDiff:
    """Diff two revisions' records and rejects, read through DVC (cache or remote), not rebuilt."""
    a, b = Revision(root, base), Revision(root, head)
    return diff_snapshots(
        a.records(), b.records(), a.rejects(), b.rejects(), base=a.name, head=b.name, limit=limit
    )


# ------------------------------------------------------------------ markdown
def _cell(value: Any, width: int = 100) -> str:
    if isinstance(value, (list, dict)):
        text = json.dumps(to_jsonable(value), ensure_ascii=False)
    else:
        text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def summary_markdown(diff: RecordDiff, heading: str = "##", title: str | None = None) -> list[str]:
    """The counts and groupings (no examples): what a changelog or a review starts with."""
    c = diff.counts
    lines = [
        f"{heading} {title or f'Records: {diff.base} → {diff.head}'}",
        "",
        f"{c['base_records']} → {c['head_records']} exported records: **+{c['added']} added**, "
        f"**-{c['removed']} removed**, **{c['changed']} changed**, {c['unchanged']} unchanged; "
        f"{c['newly_rejected']} newly rejected ({c['newly_rejected_were_exported']} of them were exported in "
        f"{diff.base}), {c['no_longer_rejected']} no longer rejected, "
        f"{c['reject_reason_changed']} rejected for another reason than before; "
        f"{c['split_moves']} moved between splits, {c['label_changes']} changed label.",
        "",
    ]
    if diff.by_source:
        lines += [f"{heading}# By source", ""]
        cols = ["added", "removed", "changed", "newly_rejected"]
        lines += _table(
            ["source", *cols],
            [[s, *(v.get(k, 0) for k in cols)] for s, v in diff.by_source.items()],
        )
        lines.append("")
    if diff.by_reason:
        lines += [f"{heading}# By reject reason (stage:reason)", ""]
        cols = [
            "newly_rejected",
            "removed_from_export",
            "derived_removed",
            "no_longer_rejected",
            "reason_changed_to",
            "reason_changed_from",
        ]
        lines += _table(
            ["reason", *cols],
            [[r, *(v.get(k, 0) for k in cols)] for r, v in diff.by_reason.items()],
        )
        lines.append("")
    if diff.by_label:
        lines += [f"{heading}# By label", ""]
        cols = ["added", "removed", "changed"]
        lines += _table(
            ["label", *cols],
            [[lb, *(v.get(k, 0) for k in cols)] for lb, v in diff.by_label.items()],
        )
        lines.append("")
    if diff.fields:
        lines += [f"{heading}# Changed fields", ""]
        lines += _table(["field", "records"], [[f, n] for f, n in diff.fields.items()])
        lines.append("")
    if diff.split_moves:
        lines += [f"{heading}# Moves between splits", ""]
        lines += _table(
            ["from", "to", "records"], [[m["from"], m["to"], m["count"]] for m in diff.split_moves]
        )
        lines.append("")
    if diff.label_changes:
        lines += [f"{heading}# Label changes", ""]
        lines += _table(
            ["from", "to", "records"],
            [[m["from"], m["to"], m["count"]] for m in diff.label_changes],
        )
        lines.append("")
    for note in diff.notes:
        lines += [f"> note: {note}", ""]
    return lines


def examples_markdown(
    diff: RecordDiff, heading: str = "##", per_group: int | None = None
) -> list[str]:
    """A sample of records per group: added by source, removed by fate, changed by field, rejected by reason."""
    ex = diff.examples
    n = per_group if per_group is not None else diff.limit

    def cut(rows: list[dict]) -> list[dict]:
        return rows[:n] if n else rows

    lines: list[str] = []
    if ex.get("added"):
        lines += [f"{heading}# Added records (by source and origin)", ""]
        for group, rows in ex["added"].items():
            lines += [f"**{group}**", ""]
            lines += _table(
                ["id", "label", "split", "locator", "text"],
                [[r["id"], r["label"], r["split"], r["locator"], r["preview"]] for r in cut(rows)],
            )
            lines.append("")
    dropped = {
        g: [
            r
            for r in rows
            if r["fate"] in ("dropped", "not regenerated") or r["fate"].startswith("parent ")
        ]
        for g, rows in ex.get("removed", {}).items()
    }
    dropped = {g: rows for g, rows in dropped.items() if rows}
    if dropped:
        # Removed records that were rejected are listed under "Newly rejected", with their reasons.
        lines += [
            f"{heading}# Removed records that no stage rejected "
            "(derived from a removed parent, not regenerated, raw record changed or source removed)",
            "",
        ]
        for group, rows in dropped.items():
            lines += [f"**{group}**", ""]
            lines += _table(
                ["id", "label", "split", "locator", "text"],
                [[r["id"], r["label"], r["split"], r["locator"], r["preview"]] for r in cut(rows)],
            )
            lines.append("")
    if ex.get("newly_rejected"):
        lines += [f"{heading}# Newly rejected records (by stage:reason)", ""]
        for group, rows in ex["newly_rejected"].items():
            lines += [f"**{group}**", ""]
            lines += _table(
                ["id", "source", "locator", "detail", "was exported"],
                [
                    [
                        r["id"],
                        r["source"],
                        r["locator"],
                        r["detail"],
                        "yes" if r["was_exported"] else "no",
                    ]
                    for r in cut(rows)
                ],
            )
            lines.append("")
    if ex.get("changed"):
        lines += [f"{heading}# Changed records (by field, before → after)", ""]
        for name, rows in ex["changed"].items():
            lines += [f"**{name}**", ""]
            lines += _table(
                ["id", "source", "before", "after"],
                [[r["id"], r["source"], r["before"], r["after"]] for r in cut(rows)],
            )
            lines.append("")
    return lines


def to_markdown(diff: RecordDiff, examples: bool = True) -> str:
    lines = summary_markdown(diff)
    if examples:
        lines += examples_markdown(diff)
    return "\n".join(lines).rstrip() + "\n"
