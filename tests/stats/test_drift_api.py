"""Automatic test choice, overrides, corrections, result objects and stratified drift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.stats._drift_corrections import adjust
from cmlops.stats.drift import DriftResult, drift


def _frames(n: int, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = np.array([f"v{i}" for i in range(6)])
    p = np.full(6, 1 / 6) if shift == 0 else np.array([0.4, 0.12, 0.12, 0.12, 0.12, 0.12])
    return pd.DataFrame(
        {
            "age": rng.normal(60 + 10 * shift, 10, n),
            "bmi": rng.normal(27, 4, n),
            "site": rng.choice(levels, n, p=p),
            "smoker": rng.random(n) < (0.3 + 0.2 * shift),
        }
    )


def test_public_name_resolves_lazily():
    assert cmlops.drift is drift
    assert cmlops.DriftResult is DriftResult
    assert DriftResult._cmlops_result_kind == "drift"


def test_automatic_choice_small_and_large_reference():
    small = drift(_frames(1000), _frames(900, seed=1))
    assert [c.test for c in small.columns] == ["ks", "ks", "chi2", "z_proportions"]
    assert small["smoker"].kind == "binary"
    large = drift(_frames(1001), _frames(900, seed=1))
    assert [c.test for c in large.columns] == [
        "wasserstein",
        "wasserstein",
        "jensenshannon",
        "jensenshannon",
    ]
    assert all(c.p_value is None for c in large.columns)
    assert large.settings["auto_max_test_n"] == 1000


def test_overrides_of_methods_and_thresholds_are_used_and_recorded():
    res = drift(
        _frames(500),
        _frames(500, shift=1, seed=1),
        methods={"age": "psi", "site": "total_variation"},
        thresholds={"age": 0.3, "jensenshannon": 0.2, "total_variation": 0.05},
    )
    assert res["age"].test == "psi" and res["age"].threshold == 0.3
    assert res["site"].test == "total_variation" and res["site"].threshold == 0.05
    assert res.settings["methods"] == {"age": "psi", "site": "total_variation"}
    with pytest.raises(InvalidInputError, match="does not apply to categorical"):
        drift(_frames(50), _frames(50), methods={"site": "ks"})
    with pytest.raises(InvalidInputError, match="unknown drift method"):
        drift(_frames(50), _frames(50), methods={"age": "magic"})
    with pytest.raises(InvalidInputError, match="neither compared columns nor methods"):
        drift(_frames(50), _frames(50), thresholds={"nope": 0.1})
    with pytest.raises(InvalidInputError, match="unknown correction"):
        drift(_frames(50), _frames(50), correction="sidak")


@pytest.mark.req("REQ-STA-003")
def test_corrections_match_scipy_and_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001, 0.04])
    m = p.size
    np.testing.assert_allclose(adjust(p, "bh"), stats.false_discovery_control(p), rtol=1e-12)
    np.testing.assert_allclose(adjust(p, "bonferroni"), np.minimum(p * m, 1))
    order = np.argsort(p, kind="stable")
    holm = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        holm[i] = running
    np.testing.assert_allclose(adjust(p, "holm"), holm)
    np.testing.assert_array_equal(adjust(p, "none"), p)


@pytest.mark.parametrize("correction", ["none", "bonferroni", "holm", "bh"])
def test_correction_is_applied_across_pvalue_columns_and_recorded(correction):
    res = drift(_frames(400), _frames(300, shift=0.3, seed=2), correction=correction)
    raw = np.array([c.p_value for c in res.columns])
    expected = adjust(raw, correction)
    for c, pa in zip(res.columns, expected, strict=True):
        assert c.correction == correction
        assert c.p_value_adjusted == pytest.approx(pa)
        assert c.drifted == (pa < 0.05)
        assert c.details["family_size"] == 4
    assert res.to_dict()["correction"] == correction


def test_injected_drift_found_and_clean_columns_not_flagged_with_holm():
    rng = np.random.default_rng(11)
    n = 800
    ref = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(12)})
    cur = pd.DataFrame({f"x{i}": rng.normal(0.5 if i < 3 else 0.0, 1, n) for i in range(12)})
    res = drift(ref, cur)
    assert res.drifted_columns == ["x0", "x1", "x2"]
    assert res.share_drifted == pytest.approx(3 / 12) and not res.dataset_drift
    assert drift(ref, cur, drift_share=0.25).dataset_drift


def test_to_frame_and_to_dict_are_complete_and_json_clean():
    ref = _frames(300)
    cur = _frames(300, shift=1, seed=3)
    ref.loc[:10, "bmi"] = np.nan
    res = drift(ref, cur)
    frame = res.to_frame()
    for col in ["column", "test", "statistic", "p_value", "threshold", "drifted", "effect_size"]:
        assert col in frame.columns
    assert list(frame["column"]) == ["age", "bmi", "site", "smoker"]
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)  # raises on NaN / numpy types
    assert json.loads(text)["kind"] == "drift"
    bmi = d["columns"][1]
    assert bmi["reference"]["n_missing"] == 11
    assert set(bmi["reference"]) >= {"n", "missing_share", "mean", "std", "median", "q25", "q75"}
    assert d["columns"][2]["reference"]["top"][0]["count"] > 0
    assert "drifted" in repr(res)


def test_stratified_drift_equals_drift_per_stratum_and_reports_small_strata():
    rng = np.random.default_rng(4)
    n = 600
    ref = pd.DataFrame({"arm": rng.choice(["A", "B"], n), "x": rng.normal(size=n)})
    cur = pd.DataFrame({"arm": rng.choice(["A", "B"], n), "x": rng.normal(size=n)})
    cur.loc[cur.arm == "B", "x"] += 1.0  # drift local to arm B
    ref = pd.concat([ref, pd.DataFrame({"arm": ["C"] * 5, "x": np.zeros(5)})], ignore_index=True)
    res = drift(ref, cur, by="arm")
    assert res.by == "arm" and set(res.strata) == {"A", "B"}
    assert res.strata_skipped == [
        {
            "stratum": "C",
            "n_reference": 5,
            "n_current": 0,
            "reason": "fewer than min_stratum_rows=30 rows on one side",
        }
    ]
    assert any("too small" in w for w in res.warnings)
    for arm in ("A", "B"):
        alone = drift(ref[ref.arm == arm], cur[cur.arm == arm], columns=["x"])
        assert res.strata[arm]["x"].statistic == alone["x"].statistic
        assert res.strata[arm]["x"].p_value == alone["x"].p_value
    assert res.strata["B"]["x"].drifted and not res.strata["A"]["x"].drifted
    frame = res.to_frame()
    assert list(frame.columns[:2]) == ["stratum", "column"]
    assert list(frame["stratum"]) == ["(all)", "A", "B"]
    assert "arm" not in list(frame["column"])
    json.dumps(res.to_dict(), allow_nan=False)
    with pytest.raises(InvalidInputError, match="grouping column 'sex'"):
        drift(ref, cur, by="sex")


def test_display_counts_match_numpy_histogram_and_category_counts():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=500), rng.normal(1, 2, size=400)
    cats_r = pd.Series(rng.choice(list("abcd"), 300))
    cats_c = pd.Series(rng.choice(list("abce"), 200))
    res = drift(
        pd.DataFrame({"x": a[:300], "c": cats_r}), pd.DataFrame({"x": b[:200], "c": cats_c})
    )
    hist = res["x"].details["histogram"]
    edges = np.array(hist["edges"])
    assert hist["reference"] == np.histogram(a[:300], bins=edges)[0].tolist()
    assert hist["current"] == np.histogram(b[:200], bins=edges)[0].tolist()
    shown = res["c"].details["categories"]
    ref_counts = cats_r.value_counts()
    for label, n_ref, n_cur in zip(
        shown["labels"], shown["reference"], shown["current"], strict=True
    ):
        assert n_ref == ref_counts.get(label, 0)
        assert n_cur == (cats_c == label).sum()
    assert sorted(shown["labels"]) == list("abcde") and not shown["truncated"]


def test_thread_pool_gives_the_same_result_as_one_thread():
    ref = _frames(100_000, seed=6)
    cur = _frames(100_000, shift=0.05, seed=7)
    one = drift(ref, cur, n_jobs=1, methods={"age": "ks"}).to_dict()
    two = drift(ref, cur, n_jobs=2, methods={"age": "ks"}).to_dict()
    assert one == two
    assert one["columns"][0]["details"]["ks_method"] == "asymp"
