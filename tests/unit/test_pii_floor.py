"""Skipping a detector whose digit/'@' floor the view does not reach finds exactly the same PII."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.privacy.detect import (
    _DETECTORS,
    OPTIONAL_PII_TYPES,
    PII_TYPES,
    PRIORITY,
    _floor,
    _view_matches,
    find_pii,
)
from ftdata.privacy.normalise import normalised_view

ROOT = Path(__file__).resolve().parents[2]
ALL_TYPES = tuple(t for t in PRIORITY if t in PII_TYPES + OPTIONAL_PII_TYPES)


def both_ways(text: str) -> tuple[list, list]:
    view = normalised_view(text).text
    return (
        _view_matches(view, ALL_TYPES, use_floor=True),
        _view_matches(view, ALL_TYPES, use_floor=False),
    )


@pytest.mark.parametrize(
    ("kind", "floors"),
    [
        ("email", [(0, 1)]),
        ("id_card", [(17, 0), (15, 0)]),
        ("bank_card", [(13, 0)]),
        ("phone", [(11, 0)]),
        ("landline", [(10, 0)]),
        ("passport", [(7, 0)]),
        ("uscc", [(6, 0)]),
        ("plate", [(0, 0)]),
        ("account_id", [(0, 0)]),
    ],
)
def test_each_detector_floor_is_what_its_pattern_needs(kind, floors):
    assert [_floor(det.pattern) for det in _DETECTORS[kind]] == floors


@pytest.mark.parametrize(
    ("text", "kind", "digits"),
    [
        ("身份证 11010519491231002X", "id_card", 17),
        ("身份证 110105491231002", "id_card", 15),
        ("卡号 4222222222222", "bank_card", 13),
        ("手机 13800138000", "phone", 11),
        ("电话 010-6234567", "landline", 10),
        ("护照号 E1234567", "passport", 7),
    ],
)
def test_pii_with_exactly_the_floor_of_digits_is_still_found(text, kind, digits):
    """The floors are tight: each of these sits on one and one digit fewer would hide it."""
    assert sum(ch.isdigit() for ch in text) == digits
    assert [m.type for m in find_pii(text, ALL_TYPES)] == [kind]
    assert digits in {_floor(det.pattern)[0] for det in _DETECTORS[kind]}


def _corpus_texts() -> list[str]:
    lines = (ROOT / "tests" / "data" / "pii_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


CORPUS = _corpus_texts()


def test_the_pii_corpus_gives_the_same_matches_with_and_without_floors():
    assert len(CORPUS) > 100
    for text in CORPUS:
        fast, full = both_ways(text)
        assert fast == full, text


def test_corpus_texts_one_digit_short_give_the_same_matches():
    """Right at the floor: drop one digit of every PII-bearing text in turn."""
    rng = random.Random(14)
    for text in CORPUS:
        positions = [i for i, ch in enumerate(text) if ch.isdigit()]
        for i in rng.sample(positions, min(6, len(positions))):
            fast, full = both_ways(text[:i] + text[i + 1 :])
            assert fast == full


PIECES = [
    *"0123456789",
    *"０１２３４５６７８９",
    " ",
    "-",
    "—",
    ".",
    "(",
    ")",
    "+",
    "@",
    "＠",
    "x",
    "X",
    "转",
    ":",
    "：",
    "，",
    "\n",
    "86",
    "+86 ",
    "0086",
    "010-",
    "(021)",
    "138",
    "1380013",
    "8000",
    "6222",
    "11010519491231002X",
    "13800138000",
    "4222222222222",
    "110105491231002",
    "010-6234567",
    "E1234567",
    "6222021234567890123",
    "110105194912310",
    "E12345678",
    "91350100M000100Y43",
    "a",
    "b",
    "Tel",
    "ID",
    "vx",
    "QQ",
    "id",
    "order no. ",
    "订单号",
    "手机",
    "电话",
    "身份证",
    "卡号",
    "银行卡",
    "护照号",
    "信用代码",
    "微信",
    "邮箱",
    "zhang.san",
    "例子",
    ".com",
    ".中国",
    "京A",
    "粤B",
    "·",
    "D12345",
    "你好",
    "请",
    "card",
    "phone",
    "passport ",
]


@settings(max_examples=2500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_texts_of_digits_separators_and_context_words_match_the_same(text):
    fast, full = both_ways(text)
    assert fast == full


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CORPUS), st.lists(st.integers(0, 400), max_size=8))
def test_corpus_texts_with_characters_cut_out_match_the_same(text, cuts):
    for cut in cuts:
        if cut < len(text):
            text = text[:cut] + text[cut + 1 :]
    fast, full = both_ways(text)
    assert fast == full


def test_full_width_digits_reach_the_floor_after_normalising():
    found = find_pii("手机１３８００１３８０００，邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ")
    assert [m.type for m in found] == ["phone", "email"]
