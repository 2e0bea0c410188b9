"""Bad and degenerate input: a defined result with a warning, or a one-line error."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cmlops.errors import InvalidInputError
from cmlops.stats.drift import drift


def _one(a, b, **kw):
    return drift(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), **kw)["x"]


def _no_nan_anywhere(res) -> None:
    json.dumps(res.to_dict(), allow_nan=False)


def test_nan_is_dropped_and_counted_as_missing_share():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=150)
    a_nan, b_nan = a.copy(), b.copy()
    a_nan[:20] = np.nan
    b_nan[:60] = np.nan
    col = _one(a_nan, b_nan, correction="none")
    ref = stats.ks_2samp(a[20:], b[60:])
    assert col.statistic == ref.statistic
    assert col.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert col.missing_share_reference == pytest.approx(0.1)
    assert col.missing_share_current == pytest.approx(0.4)
    assert col.missing_drifted  # |0.4 - 0.1| > 0.05
    assert col.reference["n"] == 200 and col.reference["n_missing"] == 20


def test_ties_in_integer_data_match_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 4, 300).astype(float), rng.integers(0, 5, 250).astype(float)
    col = _one(a, b, methods={"x": "ks"}, correction="none")
    ref = stats.ks_2samp(a, b)
    assert col.statistic == ref.statistic
    assert col.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_constant_columns():
    same = _one(np.full(50, 3.0), np.full(40, 3.0), methods={"x": "ks"})
    ref = stats.ks_2samp(np.full(50, 3.0), np.full(40, 3.0))
    assert same.statistic == ref.statistic == 0.0 and same.p_value == ref.pvalue == 1.0
    assert not same.drifted and any("constant" in w for w in same.warnings)
    moved = _one(np.full(2000, 3.0), np.r_[np.full(1000, 3.0), np.full(1000, 4.0)])
    assert moved.kind == "binary" and moved.test == "jensenshannon" and moved.drifted
    moved_w = _one(np.full(2000, 3.0), np.linspace(3, 5, 1000), methods={"x": "wasserstein"})
    assert moved_w.drifted and moved_w.statistic == pytest.approx(
        stats.wasserstein_distance(np.full(2000, 3.0), np.linspace(3, 5, 1000))
    )
    assert any("standard deviation is 0" in w for w in moved_w.warnings)
    ad = _one(np.full(30, 1.0), np.full(30, 1.0), methods={"x": "anderson"})
    assert ad.p_value == 1.0 and not ad.drifted and ad.warnings


def test_single_row_and_single_value():
    col = _one([1.0], [2.0, 3.0, 4.0], correction="none")
    ref = stats.ks_2samp([1.0], [2.0, 3.0, 4.0])
    assert col.statistic == ref.statistic and col.p_value == pytest.approx(ref.pvalue)
    assert col.reference["std"] is None


def test_empty_and_all_nan_columns_are_skipped_with_reason():
    empty = drift(pd.DataFrame({"x": pd.Series([], dtype=float)}), pd.DataFrame({"x": [1.0]}))
    assert empty["x"].status == "skipped" and "reference sample is empty" in empty["x"].warnings[0]
    assert empty.n_tested == 0 and not empty.dataset_drift
    assert any("no column could be tested" in w for w in empty.warnings)
    all_nan = _one([np.nan] * 5, [1.0, 2.0])
    assert all_nan.status == "skipped" and "no finite values" in all_nan.warnings[0]
    cat_nan = drift(pd.DataFrame({"c": [None, None]}), pd.DataFrame({"c": ["a", "b"]}))
    assert cat_nan["c"].status == "skipped" and "only missing" in cat_nan["c"].warnings[0]
    _no_nan_anywhere(empty)
    _no_nan_anywhere(cat_nan)


def test_infinite_values_are_excluded_with_a_warning():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=100), rng.normal(size=100)
    col = _one(np.r_[a, np.inf, -np.inf], np.r_[b, np.inf], correction="none")
    ref = stats.ks_2samp(a, b)
    assert col.statistic == ref.statistic
    assert col.reference["n_infinite"] == 2 and col.current["n_infinite"] == 1
    assert any("infinite values excluded" in w for w in col.warnings)
    only_inf = _one([np.inf, np.inf], [1.0])
    assert only_inf.status == "skipped"


def test_mismatched_dtypes_skip_the_column_with_a_reason():
    res = drift(
        pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1, 2, 3]}),
        pd.DataFrame({"x": ["a", "b", "c"], "y": [1.5, 2.5, 3.5]}),
    )
    assert res["x"].status == "skipped" and "dtype mismatch" in res["x"].warnings[0]
    assert res["y"].status == "ok" and res["y"].kind == "numeric"  # int vs float: both numeric
    assert res.n_tested == 1


def test_no_common_columns_is_a_one_line_error():
    with pytest.raises(InvalidInputError) as info:
        drift(pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]}))
    assert "no column in common" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InvalidInputError, match="not in both frames: z"):
        drift(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]}), columns=["z"])
    dup = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="duplicated column names"):
        drift(dup, pd.DataFrame({"a": [1.0]}))
    with pytest.raises(InvalidInputError, match="must be a pandas DataFrame"):
        drift(42, pd.DataFrame({"a": [1]}))


def test_columns_present_on_one_side_are_reported():
    res = drift(pd.DataFrame({"a": [1.0, 2], "old": [1, 2]}), pd.DataFrame({"a": [1.0, 3]}))
    assert any("only in reference" in w and "old" in w for w in res.warnings)


def test_more_than_ten_thousand_categories_warns_and_still_tests():
    ref = pd.DataFrame({"id": [f"p{i}" for i in range(12_000)]})
    cur = pd.DataFrame({"id": [f"p{i}" for i in range(6_000, 18_000)]})
    col = drift(ref, cur)["id"]
    assert col.status == "ok" and col.test == "jensenshannon"
    assert any("probably an identifier" in w for w in col.warnings)
    assert col.unseen_share == pytest.approx(0.5) and len(col.unseen_categories) == 10


def test_datetimes_are_tested_on_epoch_seconds():
    rng = np.random.default_rng(3)
    base = pd.Timestamp("2024-01-01")
    a = base + pd.to_timedelta(rng.integers(0, 10**6, 300), unit="s")
    b = base + pd.to_timedelta(rng.integers(0, 10**6, 200), unit="s")
    col = _one(a, b, correction="none")
    secs = lambda t: (t - pd.Timestamp("1970-01-01")).total_seconds().to_numpy()  # noqa: E731
    ref = stats.ks_2samp(secs(a), secs(b))
    assert col.statistic == ref.statistic
    assert col.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert any("seconds since 1970" in w for w in col.warnings)


def test_timezone_mismatch_and_mixed_timezones():
    naive = pd.Series(pd.date_range("2024-01-01", periods=50, freq="h"))
    aware = naive.dt.tz_localize("Europe/Paris")
    res = drift(pd.DataFrame({"t": naive}), pd.DataFrame({"t": aware}))
    assert res["t"].status == "skipped" and "time-zone mismatch" in res["t"].warnings[0]
    utc = aware.dt.tz_convert("UTC")
    same_instants = drift(pd.DataFrame({"t": aware}), pd.DataFrame({"t": utc}))["t"]
    assert same_instants.statistic == 0.0 and not same_instants.drifted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mixed = pd.Series(
            [
                pd.Timestamp("2024-01-01 10:00", tz="UTC"),
                pd.Timestamp("2024-01-01 12:00", tz="Asia/Tokyo"),
            ]
            * 20,
            dtype=object,
        )
    col = drift(pd.DataFrame({"t": mixed}), pd.DataFrame({"t": utc}))["t"]
    assert col.status == "ok"
    assert any("mixed time zones converted to UTC" in w for w in col.warnings)


def test_bool_column_is_binary_and_unseen_category_is_flagged():
    ref = pd.DataFrame({"b": [True, False] * 50, "c": ["x", "y"] * 50})
    cur = pd.DataFrame({"b": [True] * 70 + [False] * 30, "c": ["x", "y", "z", "x"] * 25})
    res = drift(ref, cur, correction="none")
    assert res["b"].kind == "binary" and res["b"].test == "z_proportions"
    assert res["c"].unseen_categories == ["z"] and res["c"].unseen_drifted
    assert res["c"].unseen_share == pytest.approx(0.25)
    assert any("unseen" in w for w in res["c"].warnings)


def test_bad_settings_are_one_line_errors():
    df = pd.DataFrame({"a": [1.0, 2.0]})
    for kw, msg in [
        ({"alpha": 0}, "alpha"),
        ({"drift_share": 2}, "drift_share"),
        ({"n_bins": 1}, "n_bins"),
    ]:
        with pytest.raises(InvalidInputError, match=msg):
            drift(df, df, **kw)


def test_summaries_are_exact_for_large_offsets():
    rng = np.random.default_rng(9)
    a = 1.7e9 + rng.normal(0, 3.0, 5000)  # epoch-like values: naive sum of squares fails
    b = rng.normal(0, 1.0, 4000)
    ref = pd.DataFrame({"x": a[:4000], "y": b})
    res = drift(ref, pd.DataFrame({"x": a[1000:], "y": b}))
    assert res["x"].reference["std"] == pytest.approx(np.std(a[:4000], ddof=1), rel=1e-9)
    assert res["x"].reference["mean"] == pytest.approx(np.mean(a[:4000]), rel=1e-12)
    assert res["y"].current["std"] == pytest.approx(np.std(b, ddof=1), rel=1e-9)
    assert res["y"].current["median"] == pytest.approx(np.median(b), rel=1e-12)
    assert res["y"].current["q25"] == pytest.approx(np.quantile(b, 0.25), rel=1e-12)
