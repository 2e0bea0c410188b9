"""cmlops.drift on real Spark frames: the pandas result where exact, within the bound where not.

Exactness is checked against the pandas path (itself checked against SciPy) and
against SciPy directly; sketch statistics against the exact value and their own
stated bound. A small ``sketch_k`` forces the sketches to compact on small data.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cmlops
from cmlops.errors import InvalidInputError

pytestmark = pytest.mark.spark


def frames(n: int, seed: int = 7, shift: float = 0.15):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n),
            "k": rng.integers(0, 5, n),
            "c": rng.choice(["a", "b", "c", "d"], n),
            "flag": rng.integers(0, 2, n).astype(float),
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.normal(shift, size=n),
            "y": rng.exponential(1.1, size=n),
            "k": rng.integers(0, 6, n),
            "c": rng.choice(["a", "b", "c", "d", "e"], n, p=[0.3, 0.2, 0.2, 0.2, 0.1]),
            "flag": rng.integers(0, 2, n).astype(float),
        }
    )
    ref.loc[::17, "x"] = np.nan
    cur.loc[::13, "c"] = None
    return ref, cur


def same_columns(a, b) -> None:
    for ca, cb in zip(a.columns, b.columns, strict=True):
        assert (ca.column, ca.test, ca.kind, ca.drifted) == (
            cb.column,
            cb.test,
            cb.kind,
            cb.drifted,
        )
        assert ca.statistic == pytest.approx(cb.statistic, rel=1e-12, abs=1e-15)
        if cb.p_value is None:
            assert ca.p_value is None
        else:
            assert ca.p_value == pytest.approx(cb.p_value, rel=1e-9, abs=1e-300)
        assert ca.missing_share_reference == pytest.approx(cb.missing_share_reference)
        assert ca.missing_share_current == pytest.approx(cb.missing_share_current)
        assert ca.unseen_share == cb.unseen_share
        assert ca.error_bound == 0.0


def test_small_frames_give_the_pandas_result_exactly(spark) -> None:
    ref, cur = frames(400)
    expected = cmlops.drift(ref, cur)
    got = cmlops.drift(spark.createDataFrame(ref).repartition(3), spark.createDataFrame(cur))
    assert isinstance(got, cmlops.DriftResult)
    assert [c.test for c in expected.columns] == ["ks", "ks", "ks", "chi2", "z_proportions"]
    same_columns(got, expected)
    assert got.n_reference == 400 and got.n_current == 400
    assert got.settings["engine"]["engine"] == "spark"
    assert got.settings["engine"]["spark_version"] == spark.version
    assert not got.uncertain


def test_one_side_pandas_the_other_spark(spark) -> None:
    ref, cur = frames(300, seed=3)
    expected = cmlops.drift(ref, cur, methods={"x": "wasserstein", "c": "jensenshannon"})
    got = cmlops.drift(
        ref, spark.createDataFrame(cur), methods={"x": "wasserstein", "c": "jensenshannon"}
    )
    same_columns(got, expected)
    assert got.settings["engine"]["sides"] == {"reference": "pandas", "current": "spark"}


def test_sketch_statistics_hold_their_bounds(spark) -> None:
    ref, cur = frames(20_000, seed=11)
    sref, scur = spark.createDataFrame(ref).repartition(4), spark.createDataFrame(cur)
    methods = {"x": "ks", "y": "wasserstein"}
    got = cmlops.drift(sref, scur, methods=methods, sketch_k=256)
    x_r, x_c = ref["x"].dropna().to_numpy(), cur["x"].dropna().to_numpy()
    ks = stats.ks_2samp(x_r, x_c).statistic
    col = got["x"]
    assert col.error_bound > 0
    assert abs(col.statistic - ks) <= col.error_bound
    lo, hi = col.details["statistic_interval"]
    assert lo <= ks <= hi
    assert col.details["sketch"]["rank_error_reference"] > 0
    y_r, y_c = ref["y"].to_numpy(), cur["y"].to_numpy()
    w = stats.wasserstein_distance(y_r, y_c) / np.std(y_r)
    col = got["y"]
    assert abs(col.statistic - w) <= col.error_bound
    assert col.details["statistic_interval"][0] <= w <= col.details["statistic_interval"][1]
    # exact moments whatever the sketch
    assert col.reference["mean"] == pytest.approx(y_r.mean(), rel=1e-12)
    assert col.reference["std"] == pytest.approx(y_r.std(ddof=1), rel=1e-9)
    assert col.reference["min"] == y_r.min() and col.reference["max"] == y_r.max()


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    cuts = np.searchsorted(np.sort(values), edges, side="right")
    return np.diff(np.concatenate(([0], cuts, [values.size]))) / values.size


def test_binned_statistics_hold_their_bounds(spark) -> None:
    ref, cur = frames(20_000, seed=5)
    sref, scur = spark.createDataFrame(ref), spark.createDataFrame(cur)
    for method in ("psi", "jensenshannon"):
        got = cmlops.drift(sref, scur, columns=["y"], methods={"y": method}, sketch_k=256)["y"]
        edges = np.asarray(got.details["bin_edges"])
        p = bin_shares(ref["y"].to_numpy(), edges)
        q = bin_shares(cur["y"].to_numpy(), edges)
        if method == "psi":
            pe, qe = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
            exact = float(np.sum((qe - pe) * np.log(qe / pe)))
        else:
            from scipy.spatial.distance import jensenshannon

            exact = float(jensenshannon(p, q))
        lo, hi = got.details["statistic_interval"]
        assert lo <= exact <= hi, (method, lo, exact, hi)


def test_categorical_counts_are_exact_on_large_frames(spark) -> None:
    ref, cur = frames(20_000, seed=2)
    expected = cmlops.drift(ref, cur, columns=["c", "k", "flag"], categorical=["k"])
    got = cmlops.drift(
        spark.createDataFrame(ref),
        spark.createDataFrame(cur),
        columns=["c", "k", "flag"],
        categorical=["k"],
        sketch_k=256,
    )
    same_columns(got, expected)
    assert got["c"].unseen_categories == ["e"]


def test_uncertain_verdict_is_flagged(spark) -> None:
    ref, cur = frames(20_000, seed=9, shift=0.1)
    sref, scur = spark.createDataFrame(ref), spark.createDataFrame(cur)
    first = cmlops.drift(sref, scur, columns=["x"], sketch_k=64)["x"]
    lo, hi = first.details["statistic_interval"]
    assert lo < hi
    at = (first.statistic + hi) / 2  # a threshold inside the interval, above the estimate
    res = cmlops.drift(sref, scur, columns=["x"], thresholds={"x": at}, sketch_k=64)
    col = res["x"]
    assert col.uncertain and not col.drifted
    assert "verdict uncertain" in " ".join(col.warnings)
    assert res.uncertain and res.uncertain_columns == ["x"]
    assert "dataset verdict uncertain" in " ".join(res.warnings)
    assert res.to_frame().loc[0, "uncertain"]
    html = res._repr_html_()  # the static view shows the bound, the sketch and the doubt
    assert "error_<wbr>bound" in html and "KLL sketches, k=64" in html
    assert "uncertain within the sketch error bounds" in html


def test_unsupported_types_and_mismatches_are_skipped_with_reasons(spark) -> None:
    ref = spark.sql(
        "select id, map('a', id) as m, array(id) as arr, cast('x' as binary) as bin, "
        "cast(id as double) as v, cast(null as double) as nothing, "
        "timestamp'2024-01-01 00:00:00' + make_interval(0,0,0,0,0,0,id) as t "
        "from range(50)"
    )
    cur = spark.sql(
        "select id, map('a', id) as m, array(id) as arr, cast('x' as binary) as bin, "
        "cast(id as string) as v, cast(null as double) as nothing, "
        "timestamp_ntz'2024-01-01 00:00:00' + make_interval(0,0,0,0,0,0,id) as t "
        "from range(50)"
    )
    res = cmlops.drift(ref, cur)
    by = {c.column: c for c in res.columns}
    for name in ("m", "arr", "bin"):
        assert by[name].status == "skipped"
        assert "has no drift test" in by[name].warnings[0]
    assert "dtype mismatch" in by["v"].warnings[0]
    assert "nothing to test" in by["nothing"].warnings[0]
    assert "time-zone mismatch" in by["t"].warnings[0]
    assert by["id"].status == "ok" and res.n_tested == 1
    json.dumps(res.to_dict(), allow_nan=False)


def test_empty_partitions_and_an_empty_side(spark) -> None:
    ref, cur = frames(200)
    sref = spark.createDataFrame(ref).repartition(8)  # 200 rows in 8 partitions, some empty
    empty = spark.createDataFrame(cur).limit(0)
    res = cmlops.drift(sref.where("x > 100 or x is null or x <= 100"), empty)
    assert all(c.status == "skipped" for c in res.columns)
    assert any("current sample is empty" in c.warnings[0] for c in res.columns)
    assert "no column could be tested" in " ".join(res.warnings)


def test_bad_input_is_one_line(spark) -> None:
    ref, _ = frames(50)
    sref = spark.createDataFrame(ref)
    other = spark.createDataFrame(pd.DataFrame({"z": [1.0, 2.0]}))
    with pytest.raises(InvalidInputError, match="no column in common"):
        cmlops.drift(sref, other)
    with pytest.raises(InvalidInputError, match="columns not in both frames: nope"):
        cmlops.drift(sref, sref, columns=["x", "nope"])
    with pytest.raises(InvalidInputError, match="unknown drift method"):
        cmlops.drift(sref, sref, methods={"x": "magic"})
    with pytest.raises(InvalidInputError, match="sketch_k"):
        cmlops.drift(sref, sref, sketch_k=3)
    with pytest.raises(InvalidInputError, match="by= is not supported"):
        cmlops.drift(sref, sref, by="c")
    dup = sref.select("x", "x")
    with pytest.raises(InvalidInputError, match="duplicated column names"):
        cmlops.drift(dup, sref)
    for exc in (InvalidInputError,):
        try:
            cmlops.drift(sref, other)
        except exc as err:
            assert "\n" not in str(err)


def test_exact_true_gives_scipy_ks_and_wasserstein(spark) -> None:
    ref, cur = frames(12_000, seed=21)
    sref, scur = spark.createDataFrame(ref).repartition(3), spark.createDataFrame(cur)
    got = cmlops.drift(
        sref, scur, columns=["x", "y"], methods={"x": "ks"}, exact=True, sketch_k=128
    )
    x_r, x_c = ref["x"].dropna().to_numpy(), cur["x"].dropna().to_numpy()
    expected = cmlops.drift(ref, cur, columns=["x", "y"], methods={"x": "ks"})
    assert got["x"].statistic == pytest.approx(stats.ks_2samp(x_r, x_c).statistic, rel=1e-12)
    assert got["x"].p_value == pytest.approx(expected["x"].p_value, rel=1e-9)
    y_r, y_c = ref["y"].to_numpy(), cur["y"].to_numpy()
    w = stats.wasserstein_distance(y_r, y_c) / np.std(y_r)
    assert got["y"].statistic == pytest.approx(w, rel=1e-9)
    assert got["y"].statistic == pytest.approx(expected["y"].statistic, rel=1e-9)
    assert got["x"].error_bound == 0.0 and got["y"].error_bound == 0.0
    assert got["x"].drifted == expected["x"].drifted and got["y"].drifted == expected["y"].drifted
    assert got.settings["exact"] is True
    # small samples are collected and give SciPy's exact p-value
    small = cmlops.drift(
        spark.createDataFrame(ref.head(3000)),
        spark.createDataFrame(cur.head(3000)),
        columns=["x"],
        methods={"x": "ks"},
        exact=True,
        sketch_k=64,
    )
    ks = stats.ks_2samp(ref["x"].head(3000).dropna(), cur["x"].head(3000).dropna())
    assert small["x"].statistic == pytest.approx(ks.statistic, rel=1e-12)
    assert small["x"].p_value == pytest.approx(ks.pvalue, rel=1e-9)
