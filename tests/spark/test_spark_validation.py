"""cmlops.validate and cmlops.infer_schema on real Spark frames give the pandas path's results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.stats.schema import Schema, SchemaError

pytestmark = pytest.mark.spark


def extract(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "subject_id": [f"S{i:04d}" for i in range(n)],
            "site": rng.choice(["A", "B", "C"], n),
            "age": rng.integers(18, 90, n),
            "weight": rng.normal(75, 12, n),
            "treated": rng.integers(0, 2, n).astype(bool),
            "start_day": rng.integers(0, 100, n),
            "end_day": rng.integers(100, 200, n),
        }
    )


def rows(result) -> list[tuple]:
    return [(r.column, r.check, r.status, r.failing_rows, r.passed) for r in result.checks]


def test_infer_schema_on_spark_matches_pandas(spark) -> None:
    df = extract()
    df.loc[3, "weight"] = np.nan
    expected = cmlops.infer_schema(df, keys=[("site", "subject_id")], name="adsl")
    got = cmlops.infer_schema(spark.createDataFrame(df), keys=[("site", "subject_id")], name="adsl")
    assert got.column_names == expected.column_names
    for col in expected.columns:
        mine = got.column(col.name)
        assert mine.family == col.family
        kinds = [(c.kind, c.severity) for c in col.checks]
        assert [(c.kind, c.severity) for c in mine.checks] == kinds
        for c in col.checks:
            if c.kind != "dtype":
                assert mine.check(c.kind).value == pytest.approx(c.value), (col.name, c.kind)
    assert got.source["rows"] == 300 and got.source["engine"] == "spark"


def test_validate_on_spark_matches_pandas_check_by_check(spark) -> None:
    schema = cmlops.infer_schema(
        extract(),
        regex={"subject_id": r"S\d{4}"},
        date_order=[("start_day", "end_day")],
        keys=["subject_id"],
    )
    schema.set_severity("age", "max", "fail")
    bad = extract(seed=9)
    bad.loc[[1, 2], "age"] = [95, 120]  # over the inferred max
    bad.loc[5, "site"] = "Z"  # not an allowed value
    bad.loc[7, "subject_id"] = "X12"  # regex
    bad.loc[8, "subject_id"] = "S0009"  # duplicate key with row 9
    bad.loc[10, "weight"] = np.nan  # not null
    bad.loc[11, "start_day"] = 500  # after end_day
    expected = cmlops.validate(bad, schema, max_examples=2)
    got = cmlops.validate(spark.createDataFrame(bad).repartition(3), schema, max_examples=2)
    assert rows(got) == rows(expected)
    assert got.verdict == expected.verdict == "fail"
    assert got.engine.startswith("spark ")
    by = {(r.column, r.check): r for r in got.checks}
    assert sorted(e["value"] for e in by[("age", "max")].examples) == [95, 120]
    assert by[("site", "allowed_values")].examples == [{"row": None, "value": "Z"}]
    assert by[("subject_id", "unique")].failing_rows == 2
    assert by[("start_day, end_day", "date_order")].examples[0]["value"]["start_day"] == 500
    json.dumps(got.to_dict(), allow_nan=False)


def test_schema_level_problems_on_spark(spark) -> None:
    schema = cmlops.infer_schema(extract())
    other = extract().drop(columns=["treated"]).assign(extra=1.0, age=lambda d: d.age * 1.5)
    expected = cmlops.validate(other, schema)
    got = cmlops.validate(spark.createDataFrame(other), schema)
    assert rows(got) == rows(expected)
    age = [r for r in got.checks if r.column == "age"]
    assert age[0].check == "dtype" and age[0].status == "fail"
    assert all(r.status == "skipped" for r in age[1:])


def test_timestamps_and_python_regex_syntax_on_spark(spark) -> None:
    frame = spark.sql(
        "select concat('S', lpad(cast(id as string), 4, '0')) as sid, "
        "timestamp'2024-01-01 00:00:00' + make_interval(0,0,0,id,0,0,0) as visit, "
        "date'2024-01-01' + cast(id as int) as day from range(20)"
    )
    schema = cmlops.infer_schema(frame)
    visit = schema.column("visit")
    assert visit.family == "datetime[UTC]"
    assert visit.check("min").value == "2024-01-01T00:00:00+00:00"
    assert schema.column("day").check("max").value == "2024-01-20"
    schema.add_regex("sid", r"(?P<letter>S)\d{4}")
    later = frame.union(spark.sql("select 'T1', timestamp'2025-06-01 00:00:00', date'2023-12-31'"))
    res = cmlops.validate(later, schema)
    by = {(r.column, r.check): r for r in res.checks}
    assert by[("visit", "max")].failing_rows == 1 and by[("visit", "max")].status == "warn"
    assert by[("day", "min")].failing_rows == 1
    assert by[("sid", "regex")].failing_rows == 1
    assert by[("sid", "regex")].examples == [{"row": None, "value": "T1"}]


def test_bad_spark_frames_are_refused_in_one_line(spark) -> None:
    df = spark.createDataFrame(extract(20))
    with pytest.raises(SchemaError, match="duplicate column names"):
        cmlops.validate(df.select("age", "age"), cmlops.infer_schema(extract(20)))
    with pytest.raises(SchemaError, match="max_examples"):
        cmlops.validate(df, Schema(columns=[]), max_examples=-1)
