"""Validators behind the PII patterns: what makes a digit run a real ID, card or phone.

Checks come from maintained libraries where one exists: ``stdnum.cn.ric``
(check digit, birth date, and a region code that existed in the birth year),
``stdnum.luhn``, ``stdnum.cn.uscc`` (GB 32100 check character) and Google's
libphonenumber metadata via ``phonenumbers`` (offline, shipped in the wheel).
What is ours: card BIN/IIN ranges and the rule for 15-digit IDs.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric, uscc

# Data-only / IoT / satellite ranges that libphonenumber's CN metadata omits
# but that are issued to people (Faker's zh_CN provider writes 149, for one).
EXTRA_MOBILE_PREFIXES = frozenset("140 141 144 146 148 149 174".split())


# Province-level codes (GB/T 2260) plus 71/81/82/83 used by residence permits.
ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)
# A fixed range, not "today": builds must not depend on the wall clock.
MIN_BIRTH_YEAR, MAX_BIRTH_YEAR = 1900, 2039


@lru_cache(maxsize=65536)
def is_valid_id_card(number: str) -> bool:
    """A mainland resident ID: 18 characters (ISO 7064 check) or 15 digits (1984-1999 issue).

    18 characters: the check character (``stdnum.cn.ric.calc_check_digit``), a
    calendar birth date and a province code. ``stdnum.cn.ric.is_valid`` also
    demands that the county code existed in the *birth* year, but the code is
    where the ID was issued, often decades later (370202 dates from 1994 and
    is on IDs of people born in 1956), so that check is not used.
    15 digits have no check character: the birth date ``19YYMMDD`` must be
    real and the full six-digit region code must be one stdnum's GB/T 2260
    table knows, which keeps random 15-digit runs out.
    """
    number = number.upper()
    if len(number) == 15 and number.isdigit():
        if not _region_known(number[:6]):
            return False
        body = number[:6] + "19" + number[6:]
        number = body + ric.calc_check_digit(body + "0")
    return (
        len(number) == 18
        and number[:17].isdigit()
        and number[:2] in ID_PROVINCES
        and number[-1] == ric.calc_check_digit(number)
        and _birth_date_ok(number)
    )


@lru_cache(maxsize=4096)
def _region_known(code: str) -> bool:
    from stdnum import numdb

    return any(props for _part, props in numdb.get("cn/loc").info(code))


def _birth_date_ok(number: str) -> bool:
    try:
        born = ric.get_birth_date(number)
    except ValueError:
        return False
    return MIN_BIRTH_YEAR <= born.year <= MAX_BIRTH_YEAR


def id_shaped(number: str) -> bool:
    """18 characters with a province code and a real birth date, whatever the check digit."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and number[:2] in ID_PROVINCES
        and _birth_date_ok(number)
    )


# (first digits low, high, allowed lengths): the IIN ranges of cards issued
# to people. Anything starting with 3 outside Amex/Diners/JCB is not a card,
# which keeps Luhn-valid order numbers (1 in 10 random ones) out.
CARD_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),
    ("300", "305", frozenset({14, 16})),  # Diners Club
    ("36", "36", frozenset({14, 16})),
    ("38", "39", frozenset({14, 16})),
    ("3528", "3589", frozenset({16, 17, 18, 19})),  # JCB
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("51", "55", frozenset({16})),  # Mastercard
    ("50", "50", frozenset({16, 17, 18, 19})),  # Maestro
    ("56", "58", frozenset({16, 17, 18, 19})),
    ("6", "6", frozenset({16, 17, 18, 19})),  # UnionPay 62, Discover 6011/64/65, Maestro 63/67
    ("95", "95", frozenset({16, 17, 18, 19})),  # old domestic debit cards (9558 ...)
)


def card_in_range(digits: str) -> bool:
    for low, high, lengths in CARD_RANGES:
        head = digits[: len(low)]
        if low <= head <= high and len(digits) in lengths:
            return True
    return False


def is_valid_bank_card(digits: str) -> bool:
    """An issued card range and a valid Luhn checksum; never an ID-shaped 18-digit number."""
    if not digits.isdigit() or not card_in_range(digits):
        return False
    return luhn.is_valid(digits) and not id_shaped(digits)


@lru_cache(maxsize=65536)
def is_valid_mobile(digits: str) -> bool:
    """An 11-digit mainland mobile libphonenumber knows (or a data/IoT range it omits)."""
    if len(digits) != 11 or digits[0] != "1":
        return False
    if digits[:3] in EXTRA_MOBILE_PREFIXES:
        return True
    number = phonenumbers.parse(digits, "CN")
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


@lru_cache(maxsize=65536)
def is_valid_landline(national: str) -> bool:
    """A mainland fixed line (``0`` + area code + local number) libphonenumber knows."""
    if not national.startswith("0") or not national.isdigit():
        return False
    number = phonenumbers.parse(national, "CN")
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def is_valid_uscc(code: str) -> bool:
    """A unified social credit code with a valid GB 32100 check character."""
    return uscc.is_valid(code.upper())
