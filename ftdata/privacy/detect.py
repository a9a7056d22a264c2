"""PII redaction for Chinese and English text: mobiles, landlines, ID cards, bank cards, emails.

Numbers are only redacted when they are what they look like
(ftdata.privacy.validators: stdnum, phonenumbers): an 18-digit ID must carry a
valid check character, a province code and a calendar birth date; a bank card
must pass Luhn and sit in an issued card range. Matches sit on digit
boundaries, so part of a longer digit run (order numbers, transaction ids) is
never redacted, and a card- or phone-shaped number right after 订单号 /
order no. / tracking / ref is an order number.

Placeholders: ``<PHONE>`` for mobiles *and* landlines (a model gains nothing
from telling them apart, and one token keeps the data simple); ``pii_types``
still records ``landline`` separately. Bank hotlines (95588, 400-820-8820)
are public numbers and are kept.

Detection runs on a normalised view (ftdata.privacy.normalise) with spans
mapped back, so the result does not depend on where ``redact_pii`` sits in
``clean.ops``; still put it early: rejects of earlier ops are written with the
text they had then. Optional types (passport, uscc, plate, account_id) are
off unless listed in ``clean.redact_pii.types``. docs/pii.md lists what is
covered and what is not.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from stdnum import luhn
from stdnum.cn import ric

from ftdata.errors import ConfigError
from ftdata.privacy.normalise import normalised_view
from ftdata.privacy.validators import (
    id_shaped,  # noqa: F401  (re-exported: callers import it from here)
    is_valid_bank_card,
    is_valid_id_card,
    is_valid_landline,
    is_valid_mobile,
    is_valid_uscc,
)
from ftdata.text.regex_floor import min_count

PII_TYPES = ("phone", "landline", "id_card", "bank_card", "email")
# Off by default; enabled by listing them in ``clean.redact_pii.types``.
OPTIONAL_PII_TYPES = ("passport", "uscc", "plate", "account_id")
PLACEHOLDERS = {
    "phone": "<PHONE>",
    "landline": "<PHONE>",
    "id_card": "<ID_CARD>",
    "bank_card": "<BANK_CARD>",
    "email": "<EMAIL>",
    "passport": "<PASSPORT>",
    "uscc": "<USCC>",
    "plate": "<PLATE>",
    "account_id": "<ACCOUNT_ID>",
}
# When two matches overlap, the earlier type in this order wins: an email local
# part may be a phone number, an 18-digit ID may also pass Luhn, a labelled
# WeChat id may be a phone number.
PRIORITY = (
    "email",
    "id_card",
    "uscc",
    "bank_card",
    "phone",
    "landline",
    "passport",
    "account_id",
    "plate",
)


@dataclass(frozen=True)
class PiiMatch:
    type: str
    start: int
    end: int
    value: str


# ---------------------------------------------------------------- validators
# The checks live in ftdata.privacy.validators (stdnum, phonenumbers); these
# names stay here because callers and tests import them from this module.
def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a mainland ID."""
    return ric.calc_check_digit(first17 + "0")


def luhn_ok(digits: str) -> bool:
    return luhn.is_valid(digits)


# ---------------------------------------------------------------- patterns
# Patterns run on the normalised view (ftdata.privacy.normalise): ASCII digits,
# "-" for every dash, ASCII punctuation between numbers. A digit run must not
# continue into more digits or into a decimal part (13800138000.00 is an
# amount, v1.13800138000 a version). A comma is not a decimal mark here:
# "13800138000,13900139000" is a list (nfkc makes "，" a "," on Latin lines).
# A Latin letter glued on the left is allowed only when the letters are a
# label (Tel13901234567, ID110105..., vx138..., QQ138...), so transaction ids
# such as TX13800138000 stay.
_LEFT = r"(?<![0-9])(?<![0-9]\.)"
_RIGHT = r"(?![0-9])(?!\.[0-9])"
_SEP = r"[ .-]?"
GLUE_LABELS = frozenset(
    "tel tele telephone phone mobile mob mobilephone cell cellphone ph hp fax contact "
    "id idno idcard sfz card cardno vx wx wechat weixin qq".split()
)
# Words that make the number right after them an order/transaction number, not
# a card or phone; the window ends at the previous separator or number.
ORDER_CONTEXT = re.compile(
    r"订单|单号|流水|交易号|交易编号|交易码|参考号|运单|快递|物流|工单|批次|序列号|凭证号|发票|"
    r"order|tracking|ref\b|reference|txn|transaction|invoice|serial|waybill|receipt",
    re.IGNORECASE,
)
PII_CONTEXT = re.compile(
    r"卡号|银行卡|信用卡|储蓄卡|借记卡|手机|电话|联系|身份证|证件|card|phone|mobile|tel\b|call",
    re.IGNORECASE,
)
_CONTEXT_CUT = re.compile(r"[0-9,;!?\n，；。！？]")  # not ".": "order no. 123"
CONTEXT_CHARS = 16

_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<local>\w[\w.%+-]*)@"
    r"(?P<domain>(?:[^\W_](?:[\w-]*[^\W_])?\.)+"
    r"(?:[A-Za-z]{2,24}(?![A-Za-z0-9-])"
    r"|(?:中国|中國|公司|网络|網絡|在线|网址|商城|移动|香港|台湾|台灣|新加坡|рф|онлайн)))"
)
# 18 characters, optionally grouped 6-8-4 or 6-4-4-4; 15 digits, optionally 6-6-3.
_ID_CARD = re.compile(
    _LEFT + r"[1-8][0-9]{5}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)
_ID_CARD_15 = re.compile(_LEFT + r"[1-8][0-9]{5}[ -]?[0-9]{6}[ -]?[0-9]{3}" + _RIGHT)
# 13-19 digits plain, in groups of four (last group 1-4), Amex/Diners 4-6-5 / 4-6-4, or 6 + rest.
_CARD = re.compile(
    _LEFT + r"(?:[0-9]{13,19}|[0-9]{4}([ .-])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}(?:\1[0-9]{1,4})?"
    r"|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5}|[0-9]{6}[ -][0-9]{10,13})" + _RIGHT
)
# +86 / 0086 / 86 / (+86) prefixes, then 1[3-9] and 9 more digits as 11, 3-4-4 or 3-8.
_PHONE = re.compile(
    _LEFT
    + r"(?:(?:\(\+?86\)|\+86|0086|86)[ -]?)?(?P<num>1[3-9][0-9]"
    + _SEP
    + r"[0-9]{4}"
    + _SEP
    + r"[0-9]{4})"
    + _RIGHT
)
# Area code (010, 02x, 0xxx; in brackets; or after 86/+86/0086 without its 0),
# a 7-8 digit local number, an optional extension. Service numbers (95588,
# 400-...) never match; libphonenumber checks the area code.
_LANDLINE = re.compile(
    _LEFT + r"(?:\((?P<a1>0[1-9][0-9]{1,2})\)|(?P<a2>0[1-9][0-9]{1,2})"
    r"|(?:\(?(?:\+|00)?86\)?[ -]?)\(?0?(?P<a3>[1-9][0-9]{1,2})\)?)"
    r"[ -]?(?P<local>[1-9][0-9]{2,3}[ .-]?[0-9]{4})(?:(?:转|-|ext\.? ?|x)[0-9]{1,5})?" + _RIGHT
)
# Optional types.
_PASSPORT = re.compile(
    r"(?:护照|passport)(?:\s*(?:no\.?|number|num|#|号码|号))?(?:\s+(?:is|was))?[\s:#是为的]{0,4}"
    r"(?P<v>[EGDSPKHM](?:[0-9]{8}|[A-Z][0-9]{7}|[0-9]{7}))(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_USCC = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])"
)
_PLATE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Z][·・ -]?(?P<tail>[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]"
    r"|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳])(?![A-Za-z0-9])"
)
_ACCOUNT = re.compile(
    r"(?<![A-Za-z])(?:微信号|微信|vx|wx|wechat(?:\s*id)?|weixin|QQ号码|QQ号|QQ|支付宝账号|支付宝帐号"
    r"|支付宝账户|支付宝|alipay(?:\s*account)?)[\s:#是为]{0,4}"
    r"(?P<v>[A-Za-z][-_A-Za-z0-9]{5,19}|[1-9][0-9]{4,11})(?![-_A-Za-z0-9])",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EMAIL_STOPS = (
    "邮箱是",
    "邮箱为",
    "邮箱",
    "邮件",
    "地址",
    "是",
    "为",
    "為",
    "到",
    "至",
    "给",
    "发",
    "發",
)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit() or ch in "Xx")


def _email_start(m: re.Match[str]) -> int:
    """Where the local part really starts: a Han run before an ASCII address is context."""
    local = m.group("local")
    if not _CJK.search(local):
        return m.start()
    cut = max(i for i, ch in enumerate(local) if _CJK.match(ch)) + 1
    if cut < len(local):  # "邮箱zhang@..." / "发到jörg@...": the non-Han tail
        return m.start() + cut
    best = 0
    for stop in _EMAIL_STOPS:  # "邮箱是用户@例子.中国": the Han local part after the label
        at = local.rfind(stop)
        if at >= 0 and at + len(stop) < len(local):
            best = max(best, at + len(stop))
    return m.start() + best


def _context(view: str, start: int) -> str:
    window = view[max(0, start - CONTEXT_CHARS) : start]
    cuts = list(_CONTEXT_CUT.finditer(window))
    return window[cuts[-1].end() :] if cuts else window


def order_context(view: str, start: int) -> bool:
    """The clause before ``start`` names an order/transaction number (and no card/phone after it)."""
    window = _context(view, start)
    orders = [m.end() for m in ORDER_CONTEXT.finditer(window)]
    if not orders:
        return False
    pii = [m.end() for m in PII_CONTEXT.finditer(window)]
    return not pii or max(orders) > max(pii)


USCC_CONTEXT = re.compile(
    r"信用代码|社会信用|税号|纳税人识别号|营业执照|uscc|credit code|tax id", re.I
)


def _uscc_ok(m: re.Match[str], view: str) -> bool:
    """GB 32100 checksum; an all-digit code (1 in 31 random 18-digit runs pass) only when labelled."""
    code = m.group(0)
    if not is_valid_uscc(code):
        return False
    return not code.isdigit() or bool(USCC_CONTEXT.search(view[max(0, m.start() - 24) : m.start()]))


CARD_CONTEXT = re.compile(r"卡|card", re.IGNORECASE)


def _id15_ok(m: re.Match[str], view: str) -> bool:
    """A 15-digit ID, unless it is also an Amex number (34/37 are Anhui/Shandong) after 卡/card."""
    digits = _digits(m.group(0))
    if not is_valid_id_card(digits):
        return False
    return not (is_valid_bank_card(digits) and CARD_CONTEXT.search(_context(view, m.start())))


def _glue_ok(view: str, start: int) -> bool:
    """A match glued to Latin letters on its left is PII only after a label (Tel, ID, vx, QQ)."""
    if start == 0 or not (view[start - 1].isascii() and view[start - 1].isalpha()):
        return True
    run = start
    while run > 0 and view[run - 1].isascii() and view[run - 1].isalpha():
        run -= 1
    return view[run:start].lower() in GLUE_LABELS


def _right_ok(view: str, end: int) -> bool:
    return end >= len(view) or not (view[end].isascii() and view[end].isalpha())


def _group_bounded(text: str, start: int, end: int) -> bool:
    """A grouped number (138 0013 8000) must not continue through a separator into more digits."""
    if not any(ch in " -." for ch in text[start:end]):
        return True
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    glued_left = len(before) == 2 and before[1] in " -." and before[0].isdigit()
    glued_right = len(after) == 2 and after[0] in " -." and after[1].isdigit()
    return not (glued_left or glued_right)


@lru_cache(maxsize=1024)
def _area_real(area: str) -> bool:
    return any(is_valid_landline("0" + area + local) for local in ("62345678", "6234567"))


def _landline_ok(m: re.Match[str], view: str) -> bool:
    area = m.group("a1") or m.group("a2") or m.group("a3")
    digits = (area.lstrip("0") if m.group("a3") is None else area) + _digits(m.group("local"))
    if is_valid_landline("0" + digits):
        return True
    # libphonenumber knows today's lengths; 7-digit numbers of cities that moved
    # to 8 digits still appear in old records, so a real area code + 7-8 digits
    # is enough. The split is tried both ways (0106... is not 010 + 6...).
    return any(
        _area_real(digits[:k]) and len(digits) - k in (7, 8) and digits[k] != "0" for k in (2, 3)
    )


def _span(m: re.Match[str], group: str | int = 0) -> tuple[int, int]:
    return m.start(group), m.end(group)


@dataclass(frozen=True)
class _Detector:
    pattern: re.Pattern[str]
    valid: Callable[[re.Match[str], str], bool]
    group: str | int = 0
    glued_label_ok: bool = True  # may follow Latin letters when they are a label
    order_sensitive: bool = False  # not PII right after 订单号 / order no. / ref
    numeric: bool = True  # a digit run: must not continue through a separator


_DETECTORS: dict[str, tuple[_Detector, ...]] = {
    "email": (_Detector(_EMAIL, lambda m, v: True, glued_label_ok=False, numeric=False),),
    "id_card": (
        _Detector(_ID_CARD, lambda m, v: is_valid_id_card(_digits(m.group(0)))),
        _Detector(_ID_CARD_15, _id15_ok, order_sensitive=True),
    ),
    "bank_card": (
        _Detector(
            _CARD, lambda m, v: is_valid_bank_card(_digits(m.group(0))), order_sensitive=True
        ),
    ),
    "phone": (
        _Detector(
            _PHONE, lambda m, v: is_valid_mobile(_digits(m.group("num"))), order_sensitive=True
        ),
    ),
    "landline": (_Detector(_LANDLINE, _landline_ok),),
    "passport": (_Detector(_PASSPORT, lambda m, v: True, group="v", numeric=False),),
    "uscc": (_Detector(_USCC, _uscc_ok, order_sensitive=True),),
    "plate": (_Detector(_PLATE, lambda m, v: sum(ch.isdigit() for ch in m.group("tail")) >= 3),),
    "account_id": (_Detector(_ACCOUNT, lambda m, v: True, group="v", numeric=False),),
}


def check_types(types: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate a ``types`` param; a typo fails with a suggestion instead of redacting nothing."""
    known = PII_TYPES + OPTIONAL_PII_TYPES
    for name in types:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"clean.redact_pii.types: unknown PII type {name!r}{hint} (known: {', '.join(known)})"
            )
    return tuple(t for t in PRIORITY if t in types)


# ---------------------------------------------------------------- floors
# Most views hold far fewer digits than any number detector needs (an ID has
# 17, a card 13, a mobile 11): one count per view then skips those regexes.
# The floors are computed from each pattern's parse tree
# (ftdata.text.regex_floor), so editing a pattern moves its floor with it.
# The patterns spell digits [0-9], which is what the view holds (normalise
# folds full-width digits to ASCII); a pattern that used \d would get floor
# 0 for that part, as \d also matches other scripts' digits.
_ASCII_DIGITS = frozenset("0123456789")


@cache
def _floor(pattern: re.Pattern[str]) -> tuple[int, int]:
    """(ASCII digits, "@") that every match of ``pattern`` contains at least."""
    return min_count(pattern, _ASCII_DIGITS), min_count(pattern, frozenset("@"))


def _digit_count(view: str) -> int:
    return sum(map(view.count, "0123456789"))


def _view_matches(
    view: str, kinds: tuple[str, ...], *, use_floor: bool = True
) -> list[tuple[str, int, int]]:
    """Accepted (kind, start, end) in ``view``; ``use_floor=False`` runs every regex (tests)."""
    taken: list[tuple[str, int, int]] = []
    digits = -1  # counted when a detector first needs it
    for kind in kinds:
        for det in _DETECTORS[kind]:
            if use_floor:
                need_digits, need_at = _floor(det.pattern)
                if need_digits:
                    if digits < 0:
                        digits = _digit_count(view)
                    if digits < need_digits:
                        continue
                if need_at and view.count("@") < need_at:
                    continue
            for m in det.pattern.finditer(view):
                if not det.valid(m, view):
                    continue
                start, end = _span(m, det.group)
                if kind == "email":
                    start = _email_start(m)
                if det.numeric and not _group_bounded(view, start, end):
                    continue
                # Letters glued on the right ("13800138000ok") only after a label.
                if not _right_ok(view, end) and not (
                    det.numeric and PII_CONTEXT.search(_context(view, start))
                ):
                    continue
                if det.glued_label_ok and det.group == 0 and not _glue_ok(view, start):
                    continue
                if det.order_sensitive and order_context(view, start):
                    continue
                if any(start < e and s < end for _, s, e in taken):
                    continue
                taken.append((kind, start, end))
    return taken


def find_pii(text: str, types: list[str] | tuple[str, ...] = PII_TYPES) -> list[PiiMatch]:
    """Non-overlapping PII matches in ``text``, sorted by position.

    Detection runs on a normalised view (full-width folded, dashes unified,
    invisible characters dropped) and the spans are mapped back, so the same
    PII is found before or after ``nfkc`` / ``remove_control`` / ... .
    """
    kinds = check_types(types)
    view = normalised_view(text)
    found = []
    for kind, start, end in _view_matches(view.text, kinds):
        o_start, o_end = view.span(start, end)
        found.append(PiiMatch(kind, o_start, o_end, text[o_start:o_end]))
    return sorted(found, key=lambda t: t.start)


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
