"""jsonschema-rs is only a fast "valid" path: it never accepts what the Python validator rejects."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ftdata.record import new_record
from ftdata.schemas import _surely_valid, errors_of, validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))

_RECORD = {
    **new_record(
        source="bank_faq",
        source_kind="public",
        license="CC-BY-4.0",
        locator="faq.jsonl:1",
        raw="x",
        messages=[
            {"role": "user", "content": "年费能减免吗"},
            {"role": "assistant", "content": "可以"},
        ],
        label="card>fee",
    ),
    "split": "train",
    "lang": "zh",
    "pii_redacted": False,
    "pii_types": None,
    "ops": [{"stage": "clean", "op": "nfkc", "params_hash": "ab"}],
}

# Values that sit on the edges where two implementations could disagree: bools as ints,
# integral floats, NaN, huge ints, lone surrogates, "$" before a trailing newline, empties.
_ODD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        1.0,
        1.5,
        float("nan"),
        10**30,
        "",
        "a",
        "\ud800",
        "0123456789abcdef\n",
        "0123456789abcdef",
        "card>fee",
        "card>",
        ">fee",
        "train",
        "zh",
        "user",
        [],
        [1],
        ["a"],
        {},
        {"role": "user", "content": ""},
        {"role": "user", "content": "hi", "x": 1},
    ]
)


def _mutations(base: dict):
    keys = st.sampled_from(sorted(base) + ["extra"])
    return st.lists(st.tuples(keys, _ODD, st.booleans()), max_size=4)


def _apply(record: dict, edits) -> dict:
    out = copy.deepcopy(record)
    for key, value, nested in edits:
        if nested and isinstance(out.get(key), list) and out[key]:
            item = out[key][0]
            if isinstance(item, dict) and item:
                item[sorted(item)[0]] = value
            elif isinstance(item, dict):
                item["role"] = value
            else:
                out[key][0] = value
        elif value is None and key in out and nested:
            del out[key]
        else:
            out[key] = value
    return out


@settings(max_examples=600, deadline=None)
@given(_mutations(_RECORD))
def test_fast_path_never_accepts_a_record_the_python_validator_rejects(edits):
    record = _apply(_RECORD, edits)
    python_errors = list(validator("record.schema.json").iter_errors(record))
    if _surely_valid(record, "record.schema.json"):
        assert python_errors == []


def test_a_valid_record_takes_the_fast_path_and_an_invalid_one_gets_python_messages():
    assert _surely_valid(_RECORD, "record.schema.json")
    bad = {**_RECORD, "split": "dev"}
    assert not _surely_valid(bad, "record.schema.json")
    assert errors_of(bad, "record.schema.json") == [
        "$.split: 'dev' is not one of ['train', 'val', 'test']"
    ]


def test_every_shipped_schema_compiles_for_the_fast_path():
    for name in SCHEMAS:
        schema = json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))
        assert _surely_valid({}, name) in (True, False), name
        assert schema.get("$schema", "").endswith("2020-12/schema"), name
