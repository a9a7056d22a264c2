"""The shared op mechanism: lineage entries, accounting checks, op lookup."""

from __future__ import annotations

import pandas as pd
import pytest

from ftdata.catalog import get_op
from ftdata.errors import ConfigError
from ftdata.registry import OpResult, register
from ftdata.runner import OpCall, apply_op, op_calls, run_ops
from tests.helpers import chat, frame


@register("_test_upper", "clean")
def _upper(batch: pd.DataFrame) -> OpResult:
    from ftdata.registry import map_text

    return OpResult(kept=map_text(batch, str.upper))


@register("_test_loses_rows", "clean")
def _loses(batch: pd.DataFrame) -> OpResult:
    return OpResult(kept=batch.iloc[:0])


def test_lineage_entry_only_on_records_the_op_changed():
    batch = frame(
        chat(("user", "hello"), ("assistant", "bill")),
        chat(("user", "账单"), ("assistant", "查询"), line=2),
    )
    result = apply_op(batch, OpCall("_test_upper", {}), "clean")
    changed, unchanged = result.kept["ops"]
    assert [e["op"] for e in changed] == ["_test_upper"] and changed[0]["stage"] == "clean"
    assert unchanged == []  # Chinese has no case: the op changed nothing


def test_params_hash_changes_with_params():
    assert (
        OpCall("nfkc", {"keep_cjk_punct": True}).params_hash
        != OpCall("nfkc", {"keep_cjk_punct": False}).params_hash
    )


def test_an_op_that_loses_rows_is_caught():
    batch = frame(chat(("user", "a"), ("assistant", "b")))
    with pytest.raises(AssertionError, match="accounting"):
        apply_op(batch, OpCall("_test_loses_rows", {}), "clean")


def test_unknown_op_suggests_the_closest_name():
    with pytest.raises(ConfigError, match="did you mean '_test_upper'"):
        get_op("_test_uper")


def test_op_calls_find_params_by_the_one_rule_and_refuse_a_key_nothing_reads():
    @register("_test_flat", "quality")
    def _flat(batch: pd.DataFrame, min_chars: int = 1, window: int = 2) -> OpResult:
        return OpResult(kept=batch)

    section = {"ops": ["_test_flat"], "min_chars": 9, "_test_flat": {"window": 4}}
    assert op_calls(section, "quality")[0].params == {"min_chars": 9, "window": 4}
    assert op_calls({"ops": ["_test_flat"]}, "quality")[0].params == {"min_chars": 1, "window": 2}
    with pytest.raises(ConfigError, match=r"unknown key `quality.other`"):
        op_calls({"ops": ["_test_flat"], "other": 1}, "quality")


def test_run_ops_stops_early_on_an_empty_batch():
    kept, rejected = run_ops(
        frame(chat(("user", "a"), ("assistant", "b"))).iloc[:0],
        [OpCall("_test_upper", {})],
        "clean",
    )
    assert len(kept) == 0 and rejected == []
