"""The display table: conversion from frames, sorting with missing values, formatting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cmlops.widgets.table import format_cell, table_from_frame, table_html


def _table():
    frame = pd.DataFrame(
        {
            "column": ["a", "b", "c", "d", "e"],
            "p_value": [0.5, np.nan, 1e-9, 0.01, None],
            "drifted": [False, None, True, True, False],
        }
    )
    return table_from_frame(frame)


def test_frame_values_become_plain_python_with_none_for_missing():
    t = _table()
    assert t.key_column == "column"
    assert t.column_values("p_value")[1] is None
    assert t.column_values("p_value")[4] is None
    assert all(type(v) in (float, type(None)) for v in t.column_values("p_value"))


def test_sort_ascending_and_descending_keep_missing_last():
    t = _table()
    assert t.sorted("p_value", True).keys == ["c", "d", "a", "b", "e"]
    assert t.sorted("p_value", False).keys == ["a", "d", "c", "b", "e"]


def test_sort_is_stable_and_handles_booleans_and_text():
    t = _table()
    assert t.sorted("drifted", False).keys == ["c", "d", "a", "e", "b"]
    assert t.sorted("column", False).keys == ["e", "d", "c", "b", "a"]


def test_format_cell():
    assert format_cell(None) == "—"
    assert format_cell(float("nan")) == "—"
    assert format_cell(np.float64(1.23456789)) == "1.235"
    assert format_cell(3.2e-12) == "3.20e-12"
    assert format_cell(np.int64(12345)) == "12,345"
    assert format_cell(True) == "yes"
    assert format_cell(math.inf) == "∞"


def test_table_html_caps_rows_and_says_so():
    frame = pd.DataFrame({"column": [f"c{i}" for i in range(30)], "x": range(30)})
    html_text = table_html(table_from_frame(frame), max_rows=10)
    assert html_text.count("<tr>") == 11  # header + 10 rows
    assert "Showing 10 of 30 rows" in html_text
