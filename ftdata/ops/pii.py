"""PII redaction for Chinese and English text: mobiles, landlines, ID cards, bank cards, emails.

Numbers are only redacted when they are what they look like: an 18-digit ID
must carry a valid ISO 7064 MOD 11-2 check digit, a real region prefix and a
calendar birth date; a bank card must pass Luhn and start like a card. Matches
sit on digit boundaries, so part of a longer digit run (order numbers,
transaction ids) is never redacted.

Placeholders: ``<PHONE>`` for mobiles *and* landlines (a model gains nothing
from telling them apart, and one token keeps the data simple); ``pii_types``
still records ``landline`` separately. Bank hotlines (95588, 400-820-8820)
are public numbers and are kept.

Run ``redact_pii`` after ``nfkc`` (so full-width digits and ＠ are folded)
and as early as possible in ``clean.ops``: rejects of earlier ops are written
with the text they had then.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ftdata.errors import ConfigError
from ftdata.reasons import Reason
from ftdata.registry import OpResult, register
from ftdata.runner import split_by

PII_TYPES = ("phone", "landline", "id_card", "bank_card", "email")
PLACEHOLDERS = {
    "phone": "<PHONE>",
    "landline": "<PHONE>",
    "id_card": "<ID_CARD>",
    "bank_card": "<BANK_CARD>",
    "email": "<EMAIL>",
}
# When two matches overlap, the earlier type in this order wins: an email local
# part may be a phone number, an 18-digit ID may also pass Luhn.
PRIORITY = ("email", "id_card", "bank_card", "phone", "landline")


@dataclass(frozen=True)
class PiiMatch:
    type: str
    start: int
    end: int
    value: str


# ---------------------------------------------------------------- validators
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Province-level codes (GB/T 2260) plus 71/81/82/83 used by residence permits.
_ID_REGIONS = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)
# A fixed range, not "today": builds must not depend on the wall clock.
MIN_BIRTH_YEAR, MAX_BIRTH_YEAR = 1900, 2039


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a mainland ID."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_shaped(number: str) -> bool:
    """18 characters with a known region and a real birth date, whatever the check digit."""
    if len(number) != 18 or not number[:17].isdigit() or number[:2] not in _ID_REGIONS:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return MIN_BIRTH_YEAR <= born.year <= MAX_BIRTH_YEAR


def is_valid_id_card(number: str) -> bool:
    """ID-shaped and the ISO 7064 MOD 11-2 check digit matches (X/x allowed)."""
    return id_shaped(number) and number[17].upper() == id_check_digit(number[:17])


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_valid_bank_card(digits: str) -> bool:
    """16-19 digits, a card-like prefix and a valid Luhn checksum.

    Prefixes: 3 (JCB), 4 (Visa), 5 (Mastercard), 6 (UnionPay 62, Discover),
    95 (old domestic debit cards such as 9558), 2221-2720 (Mastercard 2-series).
    The prefix rule keeps date-led order numbers (2023..., 2024...) and
    timestamps (1700...) out even when they happen to pass Luhn. An 18-digit
    number shaped like an ID card (region + birth date) is never a card: an ID
    with a wrong check digit must stay, not come back as <BANK_CARD>.
    """
    if not (16 <= len(digits) <= 19) or not digits.isdigit():
        return False
    card_like = digits[0] in "3456" or digits[:2] == "95" or 2221 <= int(digits[:4]) <= 2720
    return card_like and luhn_ok(digits) and not id_shaped(digits)


# ---------------------------------------------------------------- patterns
# Digit runs must not continue into more digits, letters (transaction ids like
# TX13800138000) or a decimal part (13800138000.00 is an amount).
_LEFT = r"(?<![0-9A-Za-z])(?<![0-9][.,])"
_RIGHT = r"(?![0-9A-Za-z])(?![.,][0-9])"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# 18 characters, optionally grouped 6-8-4.
_ID_CARD = re.compile(
    _LEFT + r"[1-8][0-9]{5}[ -]?(?:18|19|20)[0-9]{6}[ -]?[0-9]{3}[0-9Xx]" + _RIGHT
)
# 16-19 digits plain, in groups of four (last group 1-3), or 6 + 10-13.
_CARD = re.compile(
    _LEFT
    + r"(?:[0-9]{16,19}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?|[0-9]{6}[ -][0-9]{10,13})"
    + _RIGHT
)
# +86 / 0086 / 86 / (+86) prefixes, then 1[3-9] and 9 more digits as 11, 3-4-4 or 3-8.
_PHONE = re.compile(
    _LEFT
    + r"(?:(?:[(（]\+?86[)）]|\+86|0086|86)[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}"
    + _RIGHT
)
# Area code 010, 02x or 0[3-9]xx (optionally in brackets, or after +86 without
# its 0), then a 7-8 digit local number that does not start with 0 (real ones
# start with 2-8, but "010-12345678" is how people write examples), then an
# optional extension. Service numbers (95588, 400-..., 800-...) never match.
_LANDLINE = re.compile(
    _LEFT
    + rf"(?:[(（]0{_AREA}[)）]|0{_AREA}|\+86[ -]?{_AREA})"
    + r"[ -]?[1-9][0-9]{2,3}[ -]?[0-9]{4}(?:(?:转|-|ext\.? ?)[0-9]{1,5})?"
    + _RIGHT
)
_DETECTORS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "email": (_EMAIL, lambda v: True),
    "id_card": (_ID_CARD, lambda v: is_valid_id_card(_id_chars(v))),
    "bank_card": (_CARD, lambda v: is_valid_bank_card(_id_chars(v))),
    "phone": (_PHONE, lambda v: True),
    "landline": (_LANDLINE, lambda v: True),
}


def _id_chars(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit() or ch in "Xx")


def _group_bounded(text: str, start: int, end: int) -> bool:
    """A grouped number (138 0013 8000) must not continue through a separator into more digits."""
    if not any(ch in " -" for ch in text[start:end]):
        return True
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    glued_left = len(before) == 2 and before[1] in " -" and before[0].isdigit()
    glued_right = len(after) == 2 and after[0] in " -" and after[1].isdigit()
    return not (glued_left or glued_right)


def check_types(types: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate a ``types`` param; a typo fails with a suggestion instead of redacting nothing."""
    for name in types:
        if name not in PII_TYPES:
            close = difflib.get_close_matches(str(name), PII_TYPES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"clean.redact_pii.types: unknown PII type {name!r}{hint} (known: {', '.join(PII_TYPES)})"
            )
    return tuple(t for t in PRIORITY if t in types)


def find_pii(text: str, types: list[str] | tuple[str, ...] = PII_TYPES) -> list[PiiMatch]:
    """Non-overlapping PII matches in ``text``, sorted by position."""
    taken: list[PiiMatch] = []
    for kind in check_types(types):
        pattern, valid = _DETECTORS[kind]
        for m in pattern.finditer(text):
            if not valid(m.group(0)) or not _group_bounded(text, m.start(), m.end()):
                continue
            if any(m.start() < t.end and t.start < m.end() for t in taken):
                continue
            taken.append(PiiMatch(kind, m.start(), m.end(), m.group(0)))
    return sorted(taken, key=lambda t: t.start)


def redact(text: str, types: list[str] | tuple[str, ...] = PII_TYPES) -> tuple[str, list[str]]:
    """Replace PII with typed placeholders; returns the new text and the sorted types found."""
    matches = find_pii(text, types)
    if not matches:
        return text, []
    parts, pos = [], 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(PLACEHOLDERS[m.type])
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts), sorted({m.type for m in matches})


# ---------------------------------------------------------------- the op
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))


def _only_placeholders(text: str) -> bool:
    """True when ``text`` holds a placeholder and nothing else but punctuation/space."""
    rest, n = _PLACEHOLDER_RE.subn("", text)
    return n > 0 and not any(ch.isalnum() for ch in rest)


@register("redact_pii", "clean")
def redact_pii(batch: pd.DataFrame, types: list[str] | tuple[str, ...] = PII_TYPES) -> OpResult:
    """Redact PII in every message and ``text``; reject records that were nothing but PII.

    Sets ``pii_redacted`` (bool) and ``pii_types`` (sorted list, merged with
    any earlier value). A record whose every user turn (or, without user
    turns, its ``text``) is only placeholders and punctuation after redaction
    is rejected as ``pii_only``; its rejected copy is the redacted one, so the
    rejects file never holds the PII either.

    Only contents: ids, labels and meta are identity columns the clean chain's
    cache re-attaches from its input, so they are redacted at ingest, where they
    are born, and again at the export boundary (ftdata/ops/pii_fields.py); the
    ``pii_types`` found there arrive here and are merged. Rejects of ops that run
    before this one are redacted where every reject is built (io.rejects_frame).
    """
    kinds = check_types(types)
    out = batch.copy()
    new_messages, new_texts, flags, found_types, pii_only = [], [], [], [], []
    texts = batch["text"] if "text" in batch.columns else [None] * len(batch)
    previous = batch["pii_types"] if "pii_types" in batch.columns else [None] * len(batch)
    for msgs, text, before in zip(batch["messages"], texts, previous, strict=True):
        found: set[str] = set(before) if isinstance(before, list | tuple) else set()
        hit = False
        msgs_out = []
        for m in msgs if isinstance(msgs, list | tuple) else []:
            content = m.get("content")
            if isinstance(content, str) and content:
                content, kinds_found = redact(content, kinds)
                found.update(kinds_found)
                hit = hit or bool(kinds_found)
            msgs_out.append({**m, "content": content})
        if isinstance(text, str) and text:
            text, kinds_found = redact(text, kinds)
            found.update(kinds_found)
            hit = hit or bool(kinds_found)
        user_turns = [m["content"] or "" for m in msgs_out if m.get("role") == "user"]
        judged = user_turns or ([text] if isinstance(text, str) else [])
        pii_only.append(bool(judged) and all(_only_placeholders(t) for t in judged))
        new_messages.append(msgs_out)
        new_texts.append(text)
        flags.append(hit or bool(found))
        found_types.append(sorted(found))
    out["messages"] = pd.Series(new_messages, index=out.index, dtype=object)
    if "text" in out.columns:
        out["text"] = pd.Series(new_texts, index=out.index, dtype=object)
    out["pii_redacted"] = pd.Series(flags, index=out.index, dtype=object)
    out["pii_types"] = pd.Series(found_types, index=out.index, dtype=object)
    details = [
        "every user turn is only PII (" + ", ".join(t) + ")" if only else ""
        for only, t in zip(pii_only, found_types, strict=True)
    ]
    return split_by(out, pii_only, Reason.PII_ONLY, details)
