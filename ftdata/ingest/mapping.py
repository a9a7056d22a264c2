"""Raw row -> canonical record, or a reject naming the field that stopped it.

One mapping serves every format: readers only parse (a JSON line, a CSV row,
a parquet row, a Q/A section) into a dict; which raw field becomes which
canonical field is configuration (``source.<name>.fields``), resolved here.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ftdata.ingest.encoding import first_surrogate
from ftdata.ingest.items import RawRow, make_reject, plain
from ftdata.ingest.spec import FieldSpec, SourceSpec
from ftdata.reasons import Reason
from ftdata.record import ROLES, content_of, new_record

MISSING = object()


class FieldProblem(Exception):
    """Why a raw row cannot become a record; caught once per row in :func:`map_row`."""

    def __init__(self, reason: Reason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def resolve(obj: Any, path: str) -> Any:
    """Value at a dotted path (``_source.message.body``, ``turns.0.text``), or MISSING.

    A key that itself contains dots (a CSV header ``user.name``) wins over the
    nested reading, so flat sources need no escaping.
    """
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    current = obj
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def strip_invisible(text: str) -> tuple[str, int]:
    """``text`` without control (Cc, but ``\\n`` ``\\t``) and format (Cf: zero-width, bidi
    U+202E ...) characters, and how many went.

    Message content gets the same treatment from the clean stage's ``remove_control``
    op (configurable); ids, meta values and labels are no training text and get no op
    chain, so ingest cleans them, always: a bidi override in a ``conversation_id``
    would otherwise reach the exports and the review files reversed on screen.
    """
    if text.isprintable():  # the fast path: no Cc / Cf (nor Zl, Zp, odd spaces) at all
        return text, 0
    lines = text.replace("\r\n", "\n").replace("\r", "\n")  # line breaks stay breaks
    kept = "".join(c for c in lines if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf"))
    return kept, len(lines) - len(kept)


def _surrogate_in(value: Any, path: str) -> tuple[str, str] | None:
    """(path, character) of the first lone surrogate in a raw value, keys included."""
    if isinstance(value, str):
        char = first_surrogate(value)
        return (path, char) if char else None
    if isinstance(value, dict):
        for key, item in value.items():
            char = first_surrogate(str(key))
            found = (f"{path}.{key}", char) if char else _surrogate_in(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _surrogate_in(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _record_strings(record: dict) -> Iterator[str]:
    for turn in record["messages"]:
        yield turn["content"]
    for key in ("text", "label", "conversation_id", "meta"):
        if record.get(key):
            yield record[key]


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _missing(path: str, key: str, value: Any, hint: str = "") -> FieldProblem:
    state = "is null" if value is None else "is missing"
    return FieldProblem(Reason.MISSING_FIELD, f"field {path!r} ({key}) {state}{hint}")


def _wrong_type(path: str, key: str, value: Any, expected: str) -> FieldProblem:
    return FieldProblem(
        Reason.WRONG_TYPE, f"field {path!r} ({key}) is {_type_name(value)}, expected {expected}"
    )


class RowMapper:
    """Maps the raw rows of one source with its field spec (one instance per source)."""

    def __init__(self, spec: SourceSpec, fields: FieldSpec):
        self.spec = spec
        self.fields = fields
        self.unmapped_labels: Counter = Counter()  # raw label -> records (kept or rejected)
        self.controls_removed = 0
        self._unmapped: str | None = None  # the raw label of the row being built, if unmapped
        self._removed = 0  # characters strip_invisible took from the row being built

    def _visible(self, value: Any) -> Any:
        """``value`` (a string, or a meta value's strings and keys) through strip_invisible."""
        if isinstance(value, str):
            text, removed = strip_invisible(value)
            self._removed += removed
            return text
        if isinstance(value, dict):
            return {self._visible(str(k)): self._visible(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._visible(v) for v in value]
        return value

    # ------------------------------------------------------------ field access
    def _hint(self, row: dict, path: str) -> str:
        if self.spec.format == "elk" and not path.startswith("_") and "_source" in row:
            return f" (ELK hits keep the document under _source: did you mean '_source.{path}'?)"
        return ""

    def _get(self, row: dict, key: str, *, required: bool) -> Any:
        path = getattr(self.fields, key)
        value = resolve(row, path)
        if value is MISSING or value is None:
            if required:
                raise _missing(path, f"fields.{key}", value, self._hint(row, path))
            return None
        return value

    def _get_str(self, row: dict, key: str, *, required: bool) -> str | None:
        value = self._get(row, key, required=required)
        if value is not None and not isinstance(value, str):
            raise _wrong_type(getattr(self.fields, key), f"fields.{key}", value, "a string")
        return value

    def _get_scalar(self, row: dict, key: str) -> str | None:
        """Optional ids and labels: strings or integers (intent ids), kept as strings."""
        value = self._get(row, key, required=False)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is None or isinstance(value, bool) or not isinstance(value, (str, int)):
            if value is not None:
                path = getattr(self.fields, key)
                raise _wrong_type(path, f"fields.{key}", value, "a string or an integer")
            return None
        return str(value)

    # ------------------------------------------------------------ turns
    def _role(self, raw_role: Any, path: str) -> str:
        if raw_role is MISSING or raw_role is None:
            raise _missing(path, "fields.role", raw_role)
        if isinstance(raw_role, bool) or not isinstance(raw_role, (str, int)):
            raise _wrong_type(path, "fields.role", raw_role, "a string")
        roles = self.spec.roles
        if roles:
            if str(raw_role) in roles:
                return roles[str(raw_role)]
            known = ", ".join(sorted(roles))
            raise FieldProblem(
                Reason.UNKNOWN_ROLE,
                f"field {path!r} has unknown role {raw_role!r} "
                f"(not in {self.spec.key('roles')}: {known})",
            )
        if raw_role in ROLES:
            return raw_role
        raise FieldProblem(
            Reason.UNKNOWN_ROLE,
            f"field {path!r} has unknown role {raw_role!r} "
            f"(expected {'/'.join(ROLES)}, or map it in {self.spec.key('roles')})",
        )

    def _turns(self, row: dict) -> list[dict]:
        mpath = self.fields.messages
        turns = self._get(row, "messages", required=True)
        if isinstance(turns, str):
            # CSV / xlsx cells (and some logs) carry the turns as a JSON string.
            try:
                turns = json.loads(turns)
            except ValueError:
                raise _wrong_type(mpath, "fields.messages", turns, "a list of turns") from None
        if not isinstance(turns, list):
            raise _wrong_type(mpath, "fields.messages", turns, "a list of turns")
        messages = []
        for i, turn in enumerate(turns):
            where = f"{mpath}[{i}]"
            if not isinstance(turn, dict):
                raise _wrong_type(where, "fields.messages", turn, "an object (a turn)")
            role_path = f"{where}.{self.fields.role}"
            role = self._role(resolve(turn, self.fields.role), role_path)
            content_path = f"{where}.{self.fields.content}"
            content = resolve(turn, self.fields.content)
            if content is MISSING or content is None:
                raise _missing(content_path, "fields.content", content)
            if not isinstance(content, str):
                raise _wrong_type(content_path, "fields.content", content, "a string")
            messages.append({"role": role, "content": content})
        return messages

    def _qa_turns(self, row: dict) -> list[dict]:
        """Question + answer (+ optional system prompt) as a chat; both must say something."""
        messages = []
        system = self._get_str(row, "system", required=False) if self.fields.system else None
        if system and system.strip():
            messages.append({"role": "system", "content": system})
        for key, role in (("question", "user"), ("answer", "assistant")):
            content = self._get_str(row, key, required=True)
            if not content.strip():
                path = getattr(self.fields, key)
                raise FieldProblem(Reason.EMPTY_RECORD, f"field {path!r} (fields.{key}) is empty")
            messages.append({"role": role, "content": content})
        return messages

    # ------------------------------------------------------------ the record
    def _label(self, row: dict, meta: dict) -> str | None:
        raw_label = self._get_scalar(row, "label") if self.fields.label else None
        if raw_label is not None:
            raw_label = self._visible(raw_label)
        if raw_label is None or not raw_label.strip():
            return None
        if not self.spec.label_map:
            return raw_label  # no map: the source already speaks taxonomy paths
        if raw_label in self.spec.label_map:
            return self.spec.label_map[raw_label]
        self._unmapped = raw_label
        if self.spec.unmapped_label == "reject":
            raise FieldProblem(
                Reason.UNMAPPED_LABEL,
                f"field {self.fields.label!r} (fields.label) is {raw_label!r}, which "
                f"{self.spec.key('label_map')} does not map "
                f"({self.spec.key('unmapped_label')}: reject)",
            )
        meta["raw_label"] = raw_label
        return None

    def _check_text(self, item: RawRow, record: dict) -> None:
        """A lone surrogate (JSON ``"\\ud800"``) cannot be encoded as UTF-8, so parquet
        cannot store the record: reject it naming the raw field that holds one."""
        found_in_record = next(filter(None, map(first_surrogate, _record_strings(record))), None)
        if found_in_record is None:
            return
        f = self.fields
        keys = ("id", "conversation_id", "messages", "question", "answer", "system", "text")
        paths = [(getattr(f, k), f"fields.{k}") for k in (*keys, "label") if getattr(f, k)]
        paths += [(path, "fields.meta") for path in f.meta]
        hits = (
            (found, key)
            for path, key in paths
            if (value := resolve(item.value, path)) is not MISSING
            and (found := _surrogate_in(value, path))
        )
        # not reachable from a configured path (a meta key): name the canonical field
        (where, char), key = next(hits, (("meta", found_in_record), "fields.meta"))
        raise FieldProblem(
            Reason.INVALID_TEXT,
            f"field {where!r} ({key}) holds a lone surrogate U+{ord(char):04X} (an unpaired "
            f"\\u{ord(char):04x} escape): not Unicode text, so it cannot be stored",
        )

    def _build(self, item: RawRow) -> dict:
        row = item.value
        if not isinstance(row, dict):
            raise FieldProblem(
                Reason.WRONG_TYPE, f"record is {_type_name(row)}, expected an object"
            )
        f = self.fields
        if f.messages:
            messages = self._turns(row)
        elif f.question:
            messages = self._qa_turns(row)
        else:
            messages = []
        # text is the content of a classification-only source, optional next to a chat
        text_required = not (f.messages or f.question)
        text = self._get_str(row, "text", required=text_required) if f.text else None
        if not content_of(messages, text).strip():
            raise FieldProblem(Reason.EMPTY_RECORD, "record has no non-whitespace content")
        meta: dict = {}
        label = self._label(row, meta)
        conversation_id = self._get_scalar(row, "conversation_id") if f.conversation_id else None
        conversation_id = self._visible(conversation_id)
        raw_id = self._visible(self._get_scalar(row, "id")) if f.id else None
        if raw_id is not None:
            meta["raw_id"] = raw_id
        for path in f.meta:
            value = resolve(row, path)
            if value is not MISSING and value is not None:
                meta[path] = self._visible(plain(value))
        meta.update(item.meta)
        if self._removed:
            meta["control_chars_removed"] = self._removed
        return new_record(
            source=self.spec.name,
            source_kind=self.spec.kind,
            license=self.spec.license,
            locator=item.locator,
            raw=item.raw,
            messages=messages,
            text=text,
            label=label,
            conversation_id=conversation_id,
            meta=meta,
        )

    def map_row(self, item: RawRow) -> tuple[dict | None, dict | None]:
        """(record, None) or (None, reject) for one raw row."""
        self._unmapped, self._removed = None, 0
        try:
            record = self._build(item)
            self._check_text(item, record)
        except FieldProblem as problem:
            if problem.reason == Reason.UNMAPPED_LABEL:
                self.unmapped_labels[self._unmapped] += 1
            return None, make_reject(self.spec.name, item, problem.reason, problem.message)
        if self._unmapped is not None:
            self.unmapped_labels[self._unmapped] += 1
        self.controls_removed += self._removed
        return record, None
