"""Dedup's normalisation table covers every removable code point of this Python's Unicode."""

from __future__ import annotations

import sys

from ftdata.ops.dedup import _removable, _removal_table


def test_the_removal_table_built_from_the_assigned_planes_equals_a_scan_of_all_code_points():
    full = {cp for cp in range(sys.maxunicode + 1) if _removable(cp)} | {ord("~")}
    assert set(_removal_table()) == full
