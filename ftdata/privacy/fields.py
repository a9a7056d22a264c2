"""Redaction of every string a record carries, not only its text: meta (nested), ids, labels, annotations.

``redact_pii`` (ftdata/ops/pii.py) redacts message contents and ``text`` in the
clean chain. Everything else a record carries is redacted here, with the same
detector (``find_pii`` / ``redact``), at three points:

- ingest (``redact_new_records``): ``conversation_id``, ``label`` and every
  ``meta`` value are made private where they are born, so every stage after
  ingest (and the clean chain's per-record cache, which keeps identity
  columns as they come in) only ever sees the redacted values;
- the boundary (``FieldRedactor.frame`` in the export stage, ``write_review``
  for ``data/processed/review/*.jsonl``): every string field of what is
  written, whatever ``clean.ops`` holds, counted as residual PII in the metrics;
- rejects (``scrub_reject``, called by ``privacy.rejects.rejects_frame``): the rejected
  record, or the raw line an ingest reject keeps, and its detail.

Ids: a raw id that holds PII (``conversation_id`` = ``source:<raw id>``,
``meta.raw_id``) becomes its redacted text plus ``#`` and a 12-letter keyed
hash of the raw value (HMAC-SHA256 of ``source`` and the raw id, letters a-p
for hex digits so no detector ever sees a number in it): two records of one
phone-number session still share a ``conversation_id`` (split and dedup
group by it), two different numbers do not collapse into one group, and the
number is not in it. The key is ``$FTDATA_PII_KEY`` when set; without it the
hash is keyed by the source name only, and someone who guesses a number can
confirm the guess by hashing it (set the key for real data).

Placeholders and these pseudonyms contain nothing a detector matches, so a
second pass changes nothing and counts nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ftdata.io import write_jsonl
from ftdata.privacy.detect import PII_TYPES, check_types, find_pii, redact
from ftdata.record import canonical_json

KEY_ENV = "FTDATA_PII_KEY"
# Columns ftdata itself fills (hex ids, hashes, codes from conf/, numbers): never
# user text. ``locator`` (file:line) stays so a person can find the raw line.
STRUCTURAL = frozenset(
    {
        "id",
        "source",
        "source_kind",
        "license",
        "locator",
        "parents",
        "ops",
        "split",
        "lang",
        "dup_cluster",
        "duplicate_of",
        "label_origin",
        "pii_redacted",
        "pii_types",
        "compliance_flags",
        "reason",
        "stage",
        "spot_check",
        "hard",
        "smalltalk_removed",
        "_changed",
    }
)
# Keys (a meta key, or a review row's column) holding a raw id: pseudonymised, not just masked.
ID_KEYS = frozenset({"raw_id", "conversation_id"})
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def pseudonym_key(scope: str) -> bytes:
    secret = os.environ.get(KEY_ENV)
    return (secret if secret else f"ftdata:{scope}").encode("utf-8")


@dataclass
class FieldRedactor:
    """Redacts the fields of records (dicts) with one set of PII types; ``found`` collects what it saw."""

    types: tuple[str, ...] = PII_TYPES
    found: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.types = check_types(list(self.types))

    # ------------------------------------------------------------ values
    def text(self, value: str) -> tuple[str, list[str]]:
        new, kinds = redact(value, self.types)
        self.found.update(kinds)
        return new, kinds

    def pseudonym(self, value: str, scope: str) -> tuple[str, list[str]]:
        """``value`` redacted plus a keyed hash of it, or ``value`` itself when it holds no PII."""
        new, kinds = self.text(value)
        if not kinds:
            return value, []
        mac = hmac.new(pseudonym_key(scope), f"{scope}\x1f{value}".encode(), hashlib.sha256)
        return f"{new}#{mac.hexdigest()[:12].translate(_LETTERS)}", kinds

    def value(self, value: Any, scope: str, key: str | None = None) -> tuple[Any, list[str]]:
        """Any JSON-like value, walked: strings redacted, integers that are PII (a phone
        stored as a JSON number) turned into their redacted text, dict keys too."""
        if isinstance(value, str):
            return self.pseudonym(value, scope) if key in ID_KEYS else self.text(value)
        if isinstance(value, bool) or value is None:
            return value, []
        if isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()
        ):
            as_text = str(int(value))
            if not find_pii(as_text, self.types):
                return value, []
            return self.value(as_text, scope, key)
        if isinstance(value, dict):
            out, kinds = {}, set()
            for k, v in value.items():
                new_key, key_kinds = self.text(k) if isinstance(k, str) else (k, [])
                while new_key in out:  # two keys that redact alike: keep both
                    new_key = f"{new_key}#"
                out[new_key], found = self.value(v, scope, k if isinstance(k, str) else None)
                kinds.update(key_kinds, found)
            return (out, sorted(kinds)) if kinds else (value, [])
        if isinstance(value, list | tuple | np.ndarray):
            pairs = [self.value(v, scope) for v in value]
            kinds = {k for _, found in pairs for k in found}
            return ([v for v, _ in pairs], sorted(kinds)) if kinds else (value, [])
        return value, []

    def meta(self, meta: Any, scope: str) -> tuple[Any, list[str]]:
        """The ``meta`` column (canonical JSON of a dict): every value, nested, redacted."""
        if not isinstance(meta, str) or not meta:
            return self.value(meta, scope)
        try:
            parsed = json.loads(meta)
        except ValueError:
            return self.text(meta)
        new, kinds = self.value(parsed, scope)
        return (canonical_json(new), kinds) if kinds else (meta, [])

    def conversation_id(self, value: Any, source: Any) -> tuple[Any, list[str]]:
        """``source:<raw id>``: the raw part pseudonymised, the source prefix kept."""
        if not isinstance(value, str):
            return self.value(value, str(source))
        prefix = f"{source}:" if isinstance(source, str) else ""
        if prefix and value.startswith(prefix):
            raw, kinds = self.pseudonym(value[len(prefix) :], source)
            return (prefix + raw, kinds) if kinds else (value, [])
        return self.pseudonym(value, str(source))

    # ------------------------------------------------------------ records
    def record(self, rec: dict) -> tuple[dict, list[str]]:
        """``rec`` with every non-structural string redacted, and the sorted types found."""
        scope = str(rec.get("source"))
        out, kinds = dict(rec), set()
        for col, value in rec.items():
            if col in STRUCTURAL or col.startswith("score_"):
                continue
            if col == "conversation_id":
                new, found = self.conversation_id(value, rec.get("source"))
            elif col == "meta":
                new, found = self.meta(value, scope)
            else:
                new, found = self.value(value, scope, col)
            if found:
                out[col] = new
                kinds.update(found)
        return out, sorted(kinds)

    def frame(
        self, df: pd.DataFrame, lineage: dict | None = None
    ) -> tuple[pd.DataFrame, list[list[str]]]:
        """Every record of ``df`` through :meth:`record`; ``pii_redacted`` / ``pii_types``
        merged with what was found, and ``lineage`` (an ``ops`` entry) appended to the rows
        it changed. Columns where nothing was found are left as they are, so a frame
        without residual PII comes back with the same values."""
        found_per_row: list[list[str]] = []
        changed: dict[str, list] = {}
        rows = df.to_dict("records")
        for i, rec in enumerate(rows):
            new, kinds = self.record(rec)
            found_per_row.append(kinds)
            if not kinds:
                continue
            for col, value in new.items():
                if value is not rec[col]:
                    changed.setdefault(col, [r[col] for r in rows])[i] = value
            if lineage is not None and "ops" in rec:
                ops = changed.setdefault("ops", [r["ops"] for r in rows])
                ops[i] = [*_as_list(rec["ops"]), dict(lineage)]
        out = df.copy()
        for col, values in changed.items():
            out[col] = pd.Series(values, index=out.index, dtype=object)
        previous = out["pii_types"] if "pii_types" in out.columns else [None] * len(out)
        flags = out["pii_redacted"] if "pii_redacted" in out.columns else [None] * len(out)
        merged = [
            sorted(set(_as_list(before)) | set(kinds))
            for before, kinds in zip(previous, found_per_row, strict=True)
        ]
        if "pii_types" not in out.columns or any(found_per_row):
            out["pii_types"] = pd.Series(merged, index=out.index, dtype=object)
        if "pii_redacted" not in out.columns or any(found_per_row):
            out["pii_redacted"] = pd.Series(
                [_flag(f) or bool(m) for f, m in zip(flags, merged, strict=True)],
                index=out.index,
                dtype=object,
            )
        return out, found_per_row


def _flag(value: Any) -> bool:
    return bool(value) if isinstance(value, bool | np.bool_) else False


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple | np.ndarray) else []


# ---------------------------------------------------------------- where they are used
def redact_new_records(records: list[dict], types: Iterable[str]) -> int:
    """Ingest: redact ``conversation_id``, ``label`` and ``meta`` of new records in place
    (contents are the clean chain's ``redact_pii``); returns how many held PII there."""
    redactor = FieldRedactor(tuple(types))
    n = 0
    for i, rec in enumerate(records):
        fields = {k: rec[k] for k in ("source", "conversation_id", "label", "meta") if k in rec}
        new, kinds = redactor.record(fields)
        if kinds:
            records[i] = {**rec, **new, "pii_redacted": True, "pii_types": kinds}
            n += 1
    return n


def write_review(path: str | Path, rows: list[dict], types: Iterable[str]) -> int:
    """A review file (``data/processed/review/*.jsonl``) with every string field redacted;
    returns how many rows still held PII (0 when the clean chain did its job)."""
    redactor = FieldRedactor(tuple(types))
    private, residual = [], 0
    for row in rows:
        new, kinds = redactor.record(row)
        private.append(new)
        residual += bool(kinds)
    write_jsonl(path, private)
    return residual


_REJECTS = FieldRedactor()
# A record id (16 hex digits) in a detail ("near duplicate of 3021...") is ftdata's own
# reference, not user text; one that happens to be all digits and pass Luhn would
# otherwise come out as <BANK_CARD> and the reference would be lost.
_RECORD_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16}(?![0-9A-Za-z])")


def _detail(detail: str) -> str:
    parts, pos = [], 0
    for m in _RECORD_ID.finditer(detail):
        parts += [_REJECTS.text(detail[pos : m.start()])[0], m.group(0)]
        pos = m.end()
    return "".join([*parts, _REJECTS.text(detail[pos:])[0]])


def scrub_reject(record: dict | None, raw: str | None, detail: Any, keep_raw: bool) -> tuple:
    """(record, raw, detail) of one reject with no PII left: every type is redacted (a
    reject is never training data, so a look-alike masked here costs nothing). With
    ``keep_raw`` (``ingest.keep_raw_rejects``) the raw line stays as it was read."""
    if record is not None:
        record = _REJECTS.record(record)[0]
    if raw is not None and not keep_raw:
        raw = _REJECTS.text(raw)[0]
    return record, raw, _detail(detail) if isinstance(detail, str) else detail
