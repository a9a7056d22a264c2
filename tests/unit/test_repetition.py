"""The bulk repetition score equals the per-turn definition on every input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.text.lang import SPACE_RE
from ftdata.text.repetition import (
    REPETITION_NGRAM,
    RUN_MIN_CHARS,
    RUN_RE,
    UNIT_RE,
    char_repetitions,
    mark_placeholders,
)


def _per_turn(turns: list[str]) -> float:
    """The rule as it was first written, one turn at a time (the oracle)."""
    covered_total = chars_total = 0
    for turn in turns:
        marked = mark_placeholders(turn)
        covered = bytearray(len(marked))
        units = list(UNIT_RE.finditer(marked))
        keys = [m.group().casefold() for m in units]
        grams = zip(*(keys[k:] for k in range(REPETITION_NGRAM)), strict=False)
        seen: set[tuple[str, ...]] = set()
        for i, gram in enumerate(grams):
            if gram in seen:
                start, end = units[i].start(), units[i + REPETITION_NGRAM - 1].end()
                covered[start:end] = b"\x01" * (end - start)
            seen.add(gram)
        for run in RUN_RE.finditer(marked):
            if len(run.group()) >= RUN_MIN_CHARS:
                start = run.start() + len(run.group(1))
                covered[start : run.end()] = b"\x01" * (run.end() - start)
        spaces = [m.start() for m in SPACE_RE.finditer(marked)]
        covered_total += covered.count(1) - sum(covered[i] for i in spaces)
        chars_total += len(marked) - len(spaces)
    return covered_total / chars_total if chars_total else 0.0


# Few symbols so n-grams and runs repeat; case pairs and folds that change length
# (ß / SS, the Kelvin sign, U+0345), Han, kana, a placeholder, several spaces.
_ALPHABET = st.sampled_from(
    [
        "a",
        "A",
        "b",
        "ß",
        "SS",
        "s",
        "\u212a",
        "k",
        "\u0345",
        "ι",
        "中",
        "文",
        "カ",
        "9",
        "_",
        "!",
        "！",
        "😀",
        " ",
        "\n",
        "\u3000",
        "\t",
        "<PHONE>",
        "<",
        "\ud800",
    ]
)
_TURN = st.lists(_ALPHABET, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_TURN, max_size=4), max_size=6))
def test_bulk_score_equals_the_per_turn_rule(records):
    assert char_repetitions(records).tolist() == [_per_turn(r) for r in records]


@pytest.mark.parametrize(
    "turns",
    [
        ["一二三四五一二三四五"],
        ["one two three four five one two three four five"],
        ["hahahahaha 000000 ！！！！！！"],
        ["Buy now Buy now BUY NOW buy now buy now"],
        ["abcde", "abcde"],  # the same n-gram in two turns is not a repeat
        ["strasse STRASSE straße a b c strasse STRASSE straße a b c"],
        [],
        [""],
        ["   \n  "],
    ],
)
def test_bulk_score_on_hand_cases(turns):
    assert char_repetitions([turns]).tolist() == [_per_turn(turns)]


def test_batches_cut_across_records_give_the_same_scores(monkeypatch):
    import ftdata.text.repetition as repetition

    records = [[f"第{i}期账单 账单 账单 账单 账单 账单", "ok ok ok ok ok ok"] for i in range(50)]
    whole = char_repetitions(records)
    monkeypatch.setattr(repetition, "_BATCH_CHARS", 30)
    assert char_repetitions(records).tolist() == whole.tolist()
    assert whole.tolist() == [_per_turn(r) for r in records]


def test_str_isspace_is_the_regex_whitespace_class_for_every_code_point():
    import re
    import sys

    space = re.compile(r"\s")
    assert all(chr(cp).isspace() == bool(space.match(chr(cp))) for cp in range(sys.maxunicode + 1))
