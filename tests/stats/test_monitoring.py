"""Monitoring over time windows: per-window drift and performance, triggers, alerts, audit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.stats.drift import drift
from cmlops.stats.evaluation import evaluate
from cmlops.stats.monitoring import MonitorResult, Rule, Trigger, monitor


def _cohort(seed: int = 0, per_month: int = 400) -> pd.DataFrame:
    """12 months of cases; from July the event rate doubles (miscalibration),
    from October the age distribution shifts (feature drift)."""
    rng = np.random.default_rng(seed)
    parts = []
    for month in range(1, 13):
        n = per_month
        age = rng.normal(60 + (8 if month >= 10 else 0), 10, n)
        sex = rng.choice(["F", "M"], n)
        lin = -2.0 + 0.05 * (age - 60) + 0.3 * (sex == "M")
        p = 1 / (1 + np.exp(-lin))
        true_p = np.clip(p * (2.0 if month >= 7 else 1.0), 0, 1)
        y = (rng.random(n) < true_p).astype(int)
        day = rng.integers(0, 28, n)
        when = pd.to_datetime([f"2025-{month:02d}-{d + 1:02d}" for d in day], utc=True)
        parts.append(pd.DataFrame({"when": when, "age": age, "sex": sex, "y": y, "p": p}))
    return pd.concat(parts, ignore_index=True)


def test_public_names_and_result_kind():
    assert cmlops.monitor is monitor and cmlops.Trigger is Trigger
    assert cmlops.MonitorResult is MonitorResult
    assert MonitorResult._cmlops_result_kind == "monitor"


@pytest.mark.req("REQ-STA-008")
def test_monthly_windows_performance_equals_evaluate_and_alerts_fire_where_expected():
    df = _cohort()
    res = monitor(
        df,
        time="when",
        window="MS",
        reference=("2025-01-01", "2025-04-01"),
        target="y",
        prediction="p",
        triggers=[
            Trigger.oe_outside(0.8, 1.2),
            Trigger.auroc_below(0.5),
            Trigger.feature_drift("age"),
        ],
    )
    frame = res.to_frame()
    assert list(frame["window"].str[:7]) == [f"2025-{m:02d}" for m in range(4, 13)]
    # each window's metrics are those of a full evaluation of its rows
    june = df[(df.when >= "2025-06-01") & (df.when < "2025-07-01")]
    ev = evaluate(june["y"].to_numpy(), june["p"].to_numpy())
    row = frame[frame["window"].str.startswith("2025-06")].iloc[0]
    assert row["auroc"] == pytest.approx(ev.value("auroc"), rel=1e-12)
    assert row["auroc_ci_low"] == pytest.approx(ev.metric("auroc").ci_low, rel=1e-12)
    assert row["oe_ratio"] == pytest.approx(ev.value("oe_ratio"), rel=1e-12)
    assert row["calibration_slope"] == pytest.approx(ev.value("calibration_slope"), rel=1e-9)
    # drift per window is the drift of that window against the reference rows
    ref = df[df.when < "2025-04-01"]
    d = drift(ref[["age", "sex"]], june[["age", "sex"]])
    assert row["drift_share"] == d.share_drifted
    oe_windows = {a.window[:7] for a in res.alerts if a.rule == "oe_ratio_outside"}
    assert oe_windows == {f"2025-{m:02d}" for m in range(7, 13)}
    age_windows = {a.window[:7] for a in res.alerts if a.rule == "feature_drift"}
    assert age_windows == {"2025-10", "2025-11", "2025-12"}
    assert all(a.column == "age" for a in res.alerts if a.rule == "feature_drift")
    assert not [a for a in res.alerts if a.rule == "auroc_ci_low_below"]
    oe = next(a for a in res.alerts if a.rule == "oe_ratio_outside")
    assert oe.threshold == [0.8, 1.2] and "outside [0.8, 1.2]" in oe.message
    assert res.reference["n"] == len(ref)


def test_default_triggers_and_f1_rule_is_optional():
    df = _cohort(seed=1)
    res = monitor(df, time="when", window="QS", target="y", prediction="p")
    rules = {t.rule for t in res.triggers}
    assert rules == {
        Rule.CALIBRATION_SLOPE_OUTSIDE,
        Rule.OE_RATIO_OUTSIDE,
        Rule.BRIER_RISE_ABOVE,
        Rule.FEATURE_DRIFT,
    }
    assert res.settings["window"] == "QS" and len(res.windows) == 3  # first quarter = reference
    f1 = monitor(
        df,
        time="when",
        window="QS",
        target="y",
        prediction="p",
        triggers=[Trigger.f1_drop(0.0, decision_threshold=0.2)],
    )
    assert all(w["f1"] is not None for w in f1.windows)
    q3 = f1.windows[1]
    q = df[df.when.dt.quarter == 3]
    ev = evaluate(q["y"].to_numpy(), q["p"].to_numpy(), thresholds=[0.2])
    assert q3["f1"] == pytest.approx(ev.value("f1", threshold=0.2))


def test_count_windows_small_windows_and_json():
    df = _cohort(seed=2, per_month=100)
    res = monitor(df, time="when", window=500, target="y", prediction="p")
    assert [w["n"] for w in res.windows] == [500, 200]  # 1200 rows: first 500 = reference
    res_small = monitor(df, time="when", window=590, min_window_rows=30, target="y", prediction="p")
    assert res_small.windows[-1]["n"] == 20
    assert res_small.windows[-1]["status"].startswith("too small")
    assert any("too small" in w for w in res_small.warnings)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["kind"] == "monitor" and isinstance(back["alerts"], list)
    assert back["monitor_id"].startswith("monitor-")


def test_window_without_events_is_reported_not_crashed():
    df = _cohort(seed=3)
    df.loc[df.when >= "2025-12-01", "y"] = 0
    res = monitor(
        df,
        time="when",
        window="MS",
        target="y",
        prediction="p",
        triggers=[Trigger.auroc_below(0.6)],
    )
    dec = res.windows[-1]
    assert dec["auroc"] is None
    assert any("not evaluable" in w for w in dec["warnings"])


def test_trigger_values_are_validated():
    with pytest.raises(InvalidInputError, match="band low < high"):
        Trigger.oe_outside(1.2, 0.8)
    with pytest.raises(InvalidInputError, match="unknown trigger rule"):
        Trigger("auroc_is_bad")
    with pytest.raises(InvalidInputError, match="decision_threshold"):
        Trigger(Rule.F1_DROP_ABOVE, low=0.1)
    assert Trigger("oe_ratio_outside", 0.5, 2.0).rule is Rule.OE_RATIO_OUTSIDE
    df = _cohort(seed=4, per_month=50)
    with pytest.raises(InvalidInputError, match="needs target= and prediction="):
        monitor(df, time="when", window="QS", triggers=[Trigger.brier_rise(0.01)])
    with pytest.raises(InvalidInputError, match="not a pandas offset alias"):
        monitor(df, time="when", window="fortnightly")
    with pytest.raises(InvalidInputError, match="time column 'date'"):
        monitor(df, time="date", window="MS")
    with pytest.raises(InvalidInputError, match="both target and prediction"):
        monitor(df, time="when", window="MS", target="y")


def test_naive_times_aware_bounds_and_bad_scores():
    df = _cohort(seed=6, per_month=60)
    df["when"] = df["when"].dt.tz_localize(None)  # naive times
    res = monitor(
        df,
        time="when",
        window="QS",
        reference=("2025-01-01T00:00:00+00:00", "2025-04-01T00:00:00+00:00"),
        target="y",
        prediction="p",
    )
    assert res.reference["n"] == int((df.when < "2025-04-01").sum())
    assert len(res.windows) == 3
    with pytest.raises(InvalidInputError, match="not a time"):
        monitor(df, time="when", window="QS", reference=("soon", "later"))
    bad = df.copy()
    bad.loc[5, "p"] = 1.5
    with pytest.raises(InvalidInputError):
        monitor(bad, time="when", window="QS", target="y", prediction="p")
