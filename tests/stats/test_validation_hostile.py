"""Hostile frames: odd names, mixed objects, all-NaN, time zones, 10k categories, empty."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cmlops.stats.schema import Schema, SchemaError
from cmlops.stats.validation import infer_schema, validate

HOSTILE = "<img src=x onerror=alert(1)> \"quoted\" 'single' é 漢字 🧪"


def _row(result, column, check):
    return next(c for c in result.checks if c.column == column and c.check == check)


def test_hostile_column_names_survive_inference_json_and_validation():
    df = pd.DataFrame({HOSTILE: [1, 2, 3], "a,b": ["x", "y", "z"]})
    schema = Schema.from_json(infer_schema(df).to_json())
    assert schema.column_names == [HOSTILE, "a,b"]
    bad = df.assign(**{HOSTILE: [1, 2, 99]})
    r = validate(bad, schema)
    assert _row(r, HOSTILE, "max").failing_rows == 1
    assert json.loads(json.dumps(r.to_dict()))["checks"][0]["column"] == HOSTILE


def test_mixed_object_column_keeps_types_of_allowed_values():
    df = pd.DataFrame({"mixed": pd.Series([1, "a", 2.5, None, "a"], dtype=object)})
    schema = infer_schema(df)
    col = schema.column("mixed")
    assert col.family == "object" and col.nullable
    assert col.check("allowed_values").value == [1, 2.5, "a"]
    again = Schema.from_json(schema.to_json())
    assert validate(df, again).verdict == "pass"
    r = validate(df.assign(mixed=pd.Series([1, "b", 2.5, None, "1"], dtype=object)), again)
    assert _row(r, "mixed", "allowed_values").failing_rows == 2  # "b" and the string "1"


def test_unhashable_object_values_do_not_crash_inference():
    df = pd.DataFrame({"lists": pd.Series([[1], [2], [1]], dtype=object)})
    schema = infer_schema(df)
    assert schema.column("lists").check("allowed_values") is None
    assert validate(df, schema).verdict == "pass"


def test_all_nan_column_is_nullable_with_no_range():
    df = pd.DataFrame({"empty": [np.nan] * 4, "x": [1.0, 2.0, 3.0, 4.0]})
    col = infer_schema(df).column("empty")
    assert col.nullable and col.check("min") is None
    r = validate(df.assign(empty=[np.nan, 5.0, np.nan, np.nan]), infer_schema(df))
    assert r.verdict == "pass"  # nothing was declared about its values


def test_timezone_aware_datetimes_round_trip_and_detect_zone_change():
    ts = pd.to_datetime(["2024-01-01 08:00", "2024-03-01 09:30"]).tz_localize("Europe/Paris")
    df = pd.DataFrame({"t": ts, "u": ts + pd.Timedelta(hours=1)})
    schema = Schema.from_json(infer_schema(df, date_order=[("t", "u")]).to_json())
    assert schema.column("t").family == "datetime[Europe/Paris]"
    assert schema.column("t").check("min").value == "2024-01-01T08:00:00+01:00"
    assert validate(df, schema).verdict == "pass"
    late = df.assign(t=df["t"] + pd.Timedelta(days=400))
    r = validate(late, schema)
    assert _row(r, "t", "max").failing_rows == 2
    assert _row(r, "t, u", "date_order").failing_rows == 2
    utc = df.assign(t=df["t"].dt.tz_convert("UTC"))
    r = validate(utc, schema)
    assert _row(r, "t", "dtype").status == "fail"
    assert _row(r, "t, u", "date_order").status == "skipped"


def test_date_order_across_naive_and_aware_columns_reports_not_crashes():
    df = pd.DataFrame(
        {
            "a": pd.to_datetime(["2024-01-01"]),
            "b": pd.to_datetime(["2024-01-02"]).tz_localize("UTC"),
        }
    )
    r = validate(df, infer_schema(df, date_order=[("a", "b")]))
    order = _row(r, "a, b", "date_order")
    assert order.status == "fail" and order.message.startswith("check could not run")


def test_ten_thousand_categories_are_not_listed():
    values = [f"c{i}" for i in range(10_000)]
    df = pd.DataFrame({"code": pd.Categorical(values * 2), "free": values * 2})
    schema = infer_schema(df)
    assert schema.column("code").check("allowed_values") is None
    assert schema.column("free").check("allowed_values") is None
    assert len(schema.to_json()) < 5_000
    assert validate(df, schema).verdict == "pass"


def test_empty_frame_infers_and_validates_with_a_warning():
    df = pd.DataFrame({"x": pd.Series([], dtype=float), "s": pd.Series([], dtype=object)})
    schema = infer_schema(df)
    assert schema.column("x").nullable and schema.source["rows"] == 0
    r = validate(df, schema)
    assert r.verdict == "pass" and r.n_rows == 0
    assert r.warnings == ["the frame has no rows: value checks pass vacuously"]
    full = infer_schema(pd.DataFrame({"x": [1.0, 2.0]}))
    r = validate(pd.DataFrame({"x": pd.Series([], dtype=float)}), full)
    assert _row(r, "x", "min").failing_share is None
    json.dumps(r.to_dict(), allow_nan=False)


def test_duplicate_and_non_text_column_names_are_clear_errors():
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(SchemaError, match=r"duplicate column names \['a'\]"):
        infer_schema(dup)
    good = infer_schema(pd.DataFrame({"a": [1]}))
    with pytest.raises(SchemaError, match="duplicate column names"):
        validate(dup, good)
    with pytest.raises(SchemaError, match="non-text column names"):
        infer_schema(pd.DataFrame(np.zeros((2, 2))))
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        validate([1, 2], good)
    with pytest.raises(SchemaError, match="schema must be a Schema"):
        validate(pd.DataFrame({"a": [1]}), 42)


def test_repeated_index_labels_count_rows_by_position():
    df = pd.DataFrame({"x": [1, 2, 3, 4]}, index=[0, 0, 0, 0])
    schema = infer_schema(pd.DataFrame({"x": [1, 2]}))
    r = validate(df, schema)
    assert _row(r, "x", "max").failing_rows == 2
