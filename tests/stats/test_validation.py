"""infer_schema / validate: inference, JSON round trip, every check kind, severities."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cmlops.errors import InvalidInputError
from cmlops.stats.schema import SCHEMA_VERSION, Schema, SchemaError, dtype_family
from cmlops.stats.validation import ValidationResult, infer_schema, validate
from cmlops.stats.validation_result import FRAME_COLUMNS


@pytest.fixture
def visits() -> pd.DataFrame:
    n = 40
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D")
    return pd.DataFrame(
        {
            "subject": [f"S{i:04d}" for i in range(n)],
            "site": np.where(np.arange(n) % 2 == 0, "Basel", "Boston"),
            "age": rng.integers(18, 80, n),
            "weight": rng.normal(75, 10, n).round(1),
            "arm": pd.Categorical(np.where(np.arange(n) % 3 == 0, "placebo", "active")),
            "start": start,
            "end": start + pd.to_timedelta(rng.integers(1, 30, n), unit="D"),
            "smoker": np.arange(n) % 5 == 0,
        }
    )


def _row(result: ValidationResult, column: str, check: str):
    hits = [c for c in result.checks if c.column == column and c.check == check]
    assert len(hits) == 1, (column, check, hits)
    return hits[0]


def test_infer_schema_infers_types_nullability_ranges_sets_and_keys(visits):
    s = infer_schema(visits)
    assert [c.name for c in s.columns] == list(visits.columns)
    assert s.column("age").family == "integer" and s.column("weight").family == "float"
    assert s.column("start").family == "datetime" and s.column("arm").family == "category"
    assert s.column("age").check("min").value == int(visits["age"].min())
    assert s.column("age").check("max").severity == "warn"
    assert s.column("site").check("allowed_values").value == ["Basel", "Boston"]
    assert s.column("arm").check("allowed_values").value == ["active", "placebo"]
    assert s.column("subject").check("unique") is not None  # a candidate key
    assert s.column("weight").check("unique") is None  # floats are unique by chance
    assert s.column("site").check("unique") is None
    assert not s.column("age").nullable
    assert s.column("start").check("min").value == visits["start"].min().isoformat()


def test_clean_frame_passes_its_inferred_schema(visits):
    schema = infer_schema(visits, regex={"subject": r"S\d{4}"}, date_order=[("start", "end")],
                          keys=[["site", "subject"]])  # fmt: skip
    r = validate(visits, schema)
    assert r.verdict == "pass" and r.passed and r._cmlops_result_kind == "validation"
    assert all(c.status == "pass" for c in r.checks)
    assert {"regex", "date_order", "unique_key"} <= {c.check for c in r.checks}
    assert r.engine.startswith("pandera ")


def test_schema_json_round_trip_is_stable_and_versioned(visits, tmp_path):
    schema = infer_schema(visits, date_order=[("start", "end")], name="visits v1")
    text = schema.to_json()
    data = json.loads(text)
    assert data["format"] == "cmlops.schema" and data["version"] == SCHEMA_VERSION
    again = Schema.from_json(text)
    assert again.to_json() == text
    assert Schema.from_dict(schema.to_dict()).to_dict() == schema.to_dict()
    path = schema.save(tmp_path / "visits.schema.json")
    assert Schema.load(path).to_json() == text
    assert validate(visits, path).verdict == "pass"  # a path works as the schema
    assert validate(visits, text).verdict == "pass"  # so does JSON text
    assert [p.name for p in tmp_path.iterdir()] == ["visits.schema.json"]  # no temp left
    with pytest.raises(SchemaError, match="version 99 is not supported"):
        Schema.from_dict({**data, "version": 99})
    with pytest.raises(SchemaError, match="not a cmlops schema"):
        Schema.from_dict({"columns": []})
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json("{nope")
    with pytest.raises(SchemaError, match="cannot read schema file"):
        Schema.load(tmp_path / "absent.json")


@pytest.mark.req("REQ-STA-006")
def test_corrupted_frame_fails_each_check_with_counts_and_examples(visits):
    schema = infer_schema(visits, regex={"subject": r"S\d{4}"}, date_order=[("start", "end")])
    schema.set_severity("age", "max", "fail")
    bad = visits.copy()
    bad.index = [f"r{i}" for i in range(len(bad))]  # examples report the frame's own labels
    bad.loc["r3", "age"] = 130
    bad.loc["r4", "age"] = 140
    bad.loc["r5", "site"] = "Paris"
    bad.loc["r6", "subject"] = "S0007"  # duplicates S0007 in row r7
    bad.loc["r8", "subject"] = "X-1"
    bad.loc["r9", "weight"] = np.nan
    bad.loc["r10", "end"] = bad.loc["r10", "start"] - pd.Timedelta(days=2)
    r = validate(bad, schema, max_examples=1)
    age = _row(r, "age", "max")
    assert (age.status, age.failing_rows, age.severity) == ("fail", 2, "fail")
    assert age.examples == [{"row": "r3", "value": 130}]
    assert age.failing_share == pytest.approx(2 / 40)
    site = _row(r, "site", "allowed_values")
    assert (site.status, site.failing_rows) == ("warn", 1)
    assert site.examples[0]["value"] == "Paris"
    uniq = _row(r, "subject", "unique")
    assert uniq.failing_rows == 2 and uniq.status == "fail"
    assert _row(r, "subject", "regex").examples == [{"row": "r8", "value": "X-1"}]
    assert _row(r, "weight", "not_null").failing_rows == 1
    order = _row(r, "start, end", "date_order")
    assert order.failing_rows == 1 and order.examples[0]["row"] == "r10"
    assert set(order.examples[0]["value"]) == {"start", "end"}
    assert r.verdict == "fail" and not r.passed
    assert len(r.failures()) == 6


def test_warn_only_failures_give_a_warn_verdict(visits):
    schema = infer_schema(visits)
    older = visits.assign(age=visits["age"] + 50)  # beyond the inferred max: a warning
    r = validate(older, schema)
    assert r.verdict == "warn" and r.passed
    assert _row(r, "age", "max").status == "warn"


def test_schema_level_problems_missing_extra_and_dtype(visits):
    schema = infer_schema(visits, date_order=[("start", "end")])
    changed = visits.drop(columns=["site"]).assign(extra=1, age=visits["age"].astype(float))
    changed["end"] = changed["end"].astype(str)
    r = validate(changed, schema)
    assert _row(r, "site", "column_present").status == "fail"
    assert _row(r, "site", "allowed_values").status == "skipped"
    assert _row(r, "extra", "column_known").status == "warn"
    # int -> float is a change of family (e.g. missing values crept in)
    assert _row(r, "age", "dtype").status == "fail"
    assert "expected integer" in _row(r, "age", "dtype").message
    assert _row(r, "age", "min").status == "skipped" and _row(r, "age", "min").passed is None
    assert _row(r, "start, end", "date_order").status == "skipped"
    strict = Schema.from_dict({**schema.to_dict(), "extra_columns": "fail"})
    assert _row(validate(changed, strict), "extra", "column_known").status == "fail"
    lax = Schema.from_dict({**schema.to_dict(), "missing_columns": "ignore"})
    assert not [c for c in validate(changed, lax).checks if c.check == "column_present"]


def test_to_frame_and_to_dict_are_clean(visits):
    bad = visits.assign(weight=np.where(np.arange(40) == 0, np.inf, visits["weight"]))
    r = validate(bad, infer_schema(visits))
    frame = r.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert frame["failing_rows"].dtype == "int64"
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["kind"] == "validation" and d["verdict"] == "warn"
    assert "Infinity" not in text and "NaN" not in text
    assert _row(r, "weight", "max").examples == [{"row": 0, "value": None}]  # inf -> null


def test_schema_editing_errors_are_one_line(visits):
    schema = infer_schema(visits)
    with pytest.raises(SchemaError, match="no column 'nope'"):
        schema.add_regex("nope", "x")
    with pytest.raises(SchemaError, match="does not compile"):
        schema.add_regex("subject", "(")
    with pytest.raises(SchemaError, match="severity must be"):
        schema.set_severity("age", "min", "error")
    with pytest.raises(SchemaError, match="max_examples must be"):
        validate(visits, schema, max_examples=-1)
    with pytest.raises(SchemaError, match="unknown check kind"):
        infer_schema(visits, severity={"range": "fail"})
    assert issubclass(SchemaError, InvalidInputError)


def test_severity_overrides_and_dtype_families():
    df = pd.DataFrame({"x": [1, 2, 3]})
    assert infer_schema(df, severity={"min": "fail"}).column("x").check("min").severity == "fail"
    assert dtype_family(pd.Series([1], dtype="Int64").dtype) == "integer"
    assert dtype_family(pd.Series(["a"]).dtype) in ("string", "object")
    assert dtype_family(pd.DatetimeTZDtype(tz="UTC")) == "datetime[UTC]"
    # int32 data against an int64 schema is the same family: no false alarm
    assert validate(df.astype("int32"), infer_schema(df)).verdict == "pass"


def test_public_names_and_lazy_pandera_import():
    import subprocess
    import sys

    import cmlops
    from cmlops.stats import validation

    assert cmlops.infer_schema is validation.infer_schema
    assert cmlops.validate is validation.validate
    assert cmlops.ValidationResult is ValidationResult
    code = (
        "import sys, cmlops.stats.validation, cmlops.stats.evaluation; "
        "print(sorted(m for m in ('pandera', 'scipy', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
