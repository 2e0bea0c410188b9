"""cmlops.monitor on real Spark frames: the pandas path's windows, verdicts and alerts.

Every test runs the same data through both paths. Windows, sizes, statuses, alerts and
verdicts must be equal; performance is exact on Spark (equal to the pandas path, itself
checked against ``evaluate`` and SciPy in tests/stats); drift statistics equal the
pandas path's where the sketches kept every value and lie within their stated bound
where they did not (a verdict may then differ only where it is flagged uncertain).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.stats.monitoring import PERF_KEYS, Trigger

pytestmark = pytest.mark.spark

SAME = ("window", "start", "end", "n", "events", "status", "n_alerts")
DRIFT_VERDICTS = ("n_drifted", "dataset_drift", "drifted_columns")


def cohort(seed: int = 0, per_month: int = 150, months: int = 12) -> pd.DataFrame:
    """Monthly cases; from July the event rate doubles, from October age shifts."""
    rng = np.random.default_rng(seed)
    parts = []
    for month in range(1, months + 1):
        n = per_month
        age = rng.normal(60 + (8 if month >= 10 else 0), 10, n)
        sex = rng.choice(["F", "M"], n)
        lin = -2.0 + 0.05 * (age - 60) + 0.3 * (sex == "M")
        p = 1 / (1 + np.exp(-lin))
        y = (rng.random(n) < np.clip(p * (2.0 if month >= 7 else 1.0), 0, 1)).astype(int)
        seconds = rng.integers(0, 28 * 86_400, n)
        when = pd.Timestamp(f"2025-{month:02d}-01", tz="UTC") + pd.to_timedelta(seconds, "s")
        parts.append(pd.DataFrame({"when": when, "age": age, "sex": sex, "y": y, "p": p}))
    return pd.concat(parts, ignore_index=True)


def alert_keys_of(alerts) -> list[tuple]:
    return sorted((a.window, a.rule, a.column or "") for a in alerts)


def alert_keys(res) -> list[tuple]:
    return alert_keys_of(res.alerts)


def assert_same_monitoring(got, expected, exact_drift: bool = True) -> None:
    """Same windows, verdicts and alerts; exact performance; drift equal or within bounds."""
    assert len(got.windows) == len(expected.windows)
    for g, e in zip(got.windows, expected.windows, strict=True):
        assert {k: g.get(k) for k in SAME} == {k: e.get(k) for k in SAME}
        for key in (*PERF_KEYS, "brier_rise", "f1"):
            if e.get(key) is None:
                assert g.get(key) is None, (g["window"], key)
            else:
                assert g[key] == pytest.approx(e[key], rel=1e-9, abs=1e-12), (g["window"], key)
        if exact_drift and e["status"] == "ok":
            assert {k: g.get(k) for k in DRIFT_VERDICTS} == {k: e.get(k) for k in DRIFT_VERDICTS}
            assert g["drift_statistics"] == pytest.approx(e["drift_statistics"], rel=1e-9)
    assert alert_keys(got) == alert_keys(expected)
    for g, e in zip(
        sorted(got.alerts, key=lambda a: (a.window, a.rule, a.column or "")),
        sorted(expected.alerts, key=lambda a: (a.window, a.rule, a.column or "")),
        strict=True,
    ):
        assert g.observed == pytest.approx(e.observed, rel=1e-9, abs=1e-12)
    for key in ("n", *PERF_KEYS):
        e = expected.reference.get(key)
        assert got.reference.get(key) == (None if e is None else pytest.approx(e, rel=1e-9))
    assert got.verdict == expected.verdict and got.passed == expected.passed


@pytest.fixture(scope="module")
def year(spark):
    df = cohort()
    return df, spark.createDataFrame(df).repartition(3)


def test_monthly_windows_equal_the_pandas_path(year) -> None:
    df, sdf = year
    kwargs = dict(
        time="when",
        window="MS",
        reference=("2025-01-01", "2025-04-01"),
        target="y",
        prediction="p",
        triggers=[
            Trigger.oe_outside(0.8, 1.2),
            Trigger.calibration_slope_outside(0.8, 1.2),
            Trigger.brier_rise(0.02),
            Trigger.auroc_below(0.62),
            Trigger.feature_drift("age"),
            Trigger.f1_drop(0.05, decision_threshold=0.2),
        ],
    )
    expected = cmlops.monitor(df, **kwargs)
    got = cmlops.monitor(sdf, **kwargs)
    assert isinstance(got, cmlops.MonitorResult)
    assert_same_monitoring(got, expected)
    # the alerts the data were built to raise are there (the test is not vacuous)
    rules = {a.rule for a in got.alerts}
    assert {"oe_ratio_outside", "feature_drift"} <= rules
    assert {a.window[:7] for a in got.alerts if a.rule == "feature_drift"} == {
        "2025-10",
        "2025-11",
        "2025-12",
    }
    assert got.settings["engine"]["engine"] == "spark"
    assert got.settings["engine"]["spark_version"]
    # each window's drift is cmlops.drift of that window's rows, on Spark
    assert set(got.drift) == {w["window"] for w in got.windows if w["status"] == "ok"}
    june = next(k for k in got.drift if k.startswith("2025-06"))
    assert got.drift[june].settings["engine"]["engine"] == "spark"
    # the same result protocol: JSON, round trip, a stable id
    d = got.to_dict()
    json.dumps(d, allow_nan=False)
    back = cmlops.result_from_dict(json.loads(json.dumps(d)))
    assert back.to_frame().equals(got.to_frame())
    assert got.to_frame().columns.tolist() == expected.to_frame().columns.tolist()


def test_first_window_and_given_references(spark, year) -> None:
    df, sdf = year
    quarterly = dict(time="when", window="QS", target="y", prediction="p")
    assert_same_monitoring(cmlops.monitor(sdf, **quarterly), cmlops.monitor(df, **quarterly))
    ref = cohort(seed=5, per_month=100, months=3)
    later = df[df.when >= "2025-04-01"]
    expected = cmlops.monitor(later, reference=ref, **quarterly)
    s_later = sdf.where("when >= timestamp'2025-04-01 00:00:00'")
    assert_same_monitoring(
        cmlops.monitor(s_later, reference=spark.createDataFrame(ref), **quarterly), expected
    )
    # a pandas reference with a Spark frame: passed to Spark, same result
    assert_same_monitoring(cmlops.monitor(s_later, reference=ref, **quarterly), expected)


@pytest.mark.parametrize("window", ["W", "ME", "14D", "QE"])
def test_calendar_bins_equal_pandas_bins(year, window) -> None:
    """pandas closes end-anchored bins on the right day; the Spark path uses the same bins."""
    df, sdf = year
    kwargs = dict(time="when", window=window, features=["age"], min_window_rows=20)
    assert_same_monitoring(cmlops.monitor(sdf, **kwargs), cmlops.monitor(df, **kwargs))


def test_naive_and_date_time_columns(spark) -> None:
    df = cohort(seed=3, per_month=80, months=6)
    naive = df.assign(when=df.when.dt.tz_localize(None))
    sdf = spark.createDataFrame(naive).selectExpr(
        "cast(when as timestamp_ntz) as when", "age", "sex", "y", "p"
    )
    kwargs = dict(time="when", window="MS", target="y", prediction="p")
    assert_same_monitoring(cmlops.monitor(sdf, **kwargs), cmlops.monitor(naive, **kwargs))
    days = naive.assign(when=naive.when.dt.normalize())
    s_days = sdf.selectExpr("cast(when as date) as when", "age", "sex", "y", "p")
    assert_same_monitoring(cmlops.monitor(s_days, **kwargs), cmlops.monitor(days, **kwargs))


def test_sketch_drift_within_bounds_and_uncertain_alerts_say_so(spark) -> None:
    """Windows large enough for the sketches to compact: statistics within their bounds."""
    df = cohort(seed=9, per_month=1500, months=6)
    sdf = spark.createDataFrame(df).repartition(4)
    kwargs = dict(
        time="when",
        window="MS",
        features=["age", "sex"],
        drift_options={"sketch_k": 64, "methods": {"age": "ks"}},
    )
    got = cmlops.monitor(sdf, **kwargs)
    expected = cmlops.monitor(df, **{**kwargs, "drift_options": {"methods": {"age": "ks"}}})
    for g, e in zip(got.windows, expected.windows, strict=True):
        assert (g["window"], g["start"], g["end"], g["n"]) == (
            e["window"],
            e["start"],
            e["end"],
            e["n"],
        )
        if not g.get("uncertain_columns"):  # a certain verdict is the exact one
            assert g["drifted_columns"] == e["drifted_columns"], g["window"]
            sure = [a for a in got.alerts if a.window == g["window"]]
            assert alert_keys_of(sure) == alert_keys_of(
                [a for a in expected.alerts if a.window == e["window"]]
            )
    bounded = 0
    for label, d in got.drift.items():
        col, exact = d["age"], expected.drift[label]["age"]
        assert col.error_bound is not None and col.error_bound > 0
        assert abs(col.statistic - exact.statistic) <= col.error_bound
        bounded += 1
        if not col.uncertain:
            assert col.drifted == exact.drifted, label
        assert d["sex"].statistic == pytest.approx(expected.drift[label]["sex"].statistic)
    assert bounded == 5
    row = got.windows[0]
    assert "drift_error_bounds" in row or not row["drifted_columns"]
    for w in got.windows:
        for column in w.get("uncertain_columns", []):
            assert any("uncertain within the sketch error bounds" in n for n in w["warnings"])
            assert column in w["drift_error_bounds"]


def test_only_aggregates_reach_the_driver(spark, monkeypatch) -> None:
    """No toPandas, no RDD; every collected result is far smaller than the data."""
    df = cohort(seed=4, per_month=400, months=6)
    sdf = spark.createDataFrame(df).repartition(2)
    DataFrame = type(sdf)  # pyspark.sql.classic.dataframe.DataFrame
    collected: list[int] = []
    real_collect = DataFrame.collect

    def counting_collect(self):
        rows = real_collect(self)
        collected.append(len(rows))
        return rows

    def refuse(self, *args, **kwargs):
        raise AssertionError("monitor brought a Spark frame to pandas")

    monkeypatch.setattr(DataFrame, "collect", counting_collect)
    monkeypatch.setattr(DataFrame, "toPandas", refuse)
    res = cmlops.monitor(
        sdf, time="when", window="MS", target="y", prediction="p", drift_options={"sketch_k": 64}
    )
    assert len(res.windows) == 5 and all(w["status"] == "ok" for w in res.windows)
    assert collected and max(collected) < len(df) / 4


def test_bad_columns_and_empty_windows(spark) -> None:
    df = cohort(seed=6, per_month=60, months=6)
    df.loc[df.when.dt.month == 3, "age"] = np.nan  # an all-null feature in one window
    from pyspark.sql import functions as F

    sdf = spark.createDataFrame(df).withColumn("tags", F.array("sex"))
    kwargs = dict(time="when", window="MS", features=["age", "sex"], min_window_rows=10)
    got = cmlops.monitor(sdf, **kwargs)
    assert_same_monitoring(got, cmlops.monitor(df, **kwargs))
    march = next(d for k, d in got.drift.items() if k.startswith("2025-03"))
    assert march["age"].status == "skipped"
    # an array column has no drift test: skipped with the reason, the rest monitored
    tagged = cmlops.monitor(sdf, time="when", window="MS", features=["tags", "sex"])
    first = next(iter(tagged.drift.values()))
    assert first["tags"].status == "skipped" and "has no drift test" in first["tags"].warnings[0]
    # a window with no rows between two with rows is reported, not tested
    gap = sdf.where("month(when) != 4")
    res = cmlops.monitor(gap, **kwargs)
    april = next(w for w in res.windows if w["window"].startswith("2025-04"))
    assert april["n"] == 0 and april["status"].startswith("too small")
    expected = cmlops.monitor(df[df.when.dt.month != 4], **kwargs)
    assert_same_monitoring(res, expected)


def test_bad_input_is_one_line(spark) -> None:
    df = cohort(seed=7, per_month=40, months=4)
    sdf = spark.createDataFrame(df)
    cases = [
        (dict(frame=sdf, window=100), "windows of N rows are not defined on a Spark frame"),
        (dict(frame=sdf.selectExpr("cast(when as string) as when", "age"), window="MS"),
         "time column 'when' is string"),
        (dict(frame=df, window="MS", reference=sdf), "the reference is a Spark frame"),
        (dict(frame=sdf, window="MS", reference=("2030-01-01", "2030-02-01")),
         "no rows of the frame fall in the reference interval"),
        (dict(frame=sdf, window="fortnightly"), "not a pandas offset alias"),
        (dict(frame=sdf, window="MS", features=["age", "nope"]), "features not in the frame: nope"),
        (dict(frame=sdf.limit(0), window="MS"), "the frame has no rows to monitor"),
        (dict(frame=sdf.withColumn("y", sdf.y * 2), window="MS", target="y", prediction="p"),
         "must be binary 0/1"),
        (dict(frame=sdf.withColumn("p", sdf.p + 1), window="MS", target="y", prediction="p"),
         "outside \\[0, 1\\]"),
        (dict(frame=sdf.selectExpr("when", "age", "sex", "y", "cast(p as string) as p"),
              window="MS", target="y", prediction="p"), "must be numeric"),
    ]  # fmt: skip
    for kwargs, message in cases:
        frame = kwargs.pop("frame")
        with pytest.raises(InvalidInputError, match=message) as info:
            cmlops.monitor(frame, time="when", **kwargs)
        assert "\n" not in str(info.value)
