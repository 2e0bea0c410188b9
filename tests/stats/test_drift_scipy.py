"""Each drift statistic against its SciPy reference, to 1e-9 (KS statistic bit for bit)."""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from cmlops.stats import _drift_numeric as num
from cmlops.stats.drift import drift

RTOL = 1e-9


def _pair(n1: int, n2: int, *, ties: bool = False, shift: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n1)
    b = rng.normal(shift, 1.3, size=n2)
    if ties:
        a, b = np.round(a * 3), np.round(b * 3)
    return a, b


def _one(a, b, method: str, **kw):
    res = drift(pd.DataFrame({"x": a}), pd.DataFrame({"x": b}), methods={"x": method}, **kw)
    return res["x"]


@pytest.mark.parametrize(
    "n1,n2,ties,shift",
    [
        (50, 70, False, 0.0),
        (300, 200, True, 0.2),
        (1, 5, False, 0.0),
        (9_000, 10_000, True, 0.05),  # SciPy 'auto' -> exact
        (12_000, 15_000, False, 0.02),  # SciPy 'auto' -> asymptotic
        (20_000, 11_000, True, 0.0),  # asymptotic with many ties
        (40_000, 60_000, False, 0.0),  # asymptotic through cmlops's Smirnov series
    ],
)
@pytest.mark.req("REQ-STA-003")
def test_ks_matches_scipy(n1, n2, ties, shift):
    a, b = _pair(n1, n2, ties=ties, shift=shift)
    ref = stats.ks_2samp(a, b)
    col = _one(a, b, "ks", correction="none")
    assert col.test == "ks"
    assert col.statistic == float(ref.statistic)
    assert col.p_value == pytest.approx(float(ref.pvalue), rel=RTOL, abs=1e-300)
    assert col.details["ks_method"] == ("exact" if max(n1, n2) <= 10_000 else "asymp")
    assert col.drifted == (ref.pvalue < 0.05)


def test_ks_statistic_of_sorted_samples_is_scipys_bit_for_bit_with_ties():
    rng = np.random.default_rng(5)
    for _ in range(20):
        a = np.sort(rng.integers(0, 7, size=rng.integers(1, 400)).astype(float))
        b = np.sort(rng.integers(0, 9, size=rng.integers(1, 400)).astype(float))
        d = num.ks_statistic(a, b)
        # method="asymp" returns the raw maximum; "exact" snaps it to the lattice h/lcm(n1, n2)
        assert d == float(stats.ks_2samp(a, b, method="asymp").statistic)


@pytest.mark.parametrize("grid", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("block", [1, 3, 1 << 18])
def test_ks_statistic_on_any_grid_and_block_is_scipys_bit_for_bit(grid, block):
    """Runs of ties across grid points and blocks, both the bounded search and the full pass."""
    from cmlops.stats import _drift_ks

    rng = np.random.default_rng(grid * 1000 + block)
    for trial in range(30):
        a = np.sort(rng.integers(0, 5, size=rng.integers(1, 300)).astype(float))
        b = np.sort(rng.integers(0, 6, size=rng.integers(1, 300)).astype(float) - trial % 3)
        expected = float(stats.ks_2samp(a, b, method="asymp").statistic)
        assert _drift_ks.ks_statistic(a, b, grid=grid, block=block) == expected
        full = _drift_ks._everywhere(a, b, block)
        assert min(max(-full[1], 0.0), 1.0) <= expected and full[0] <= expected


@pytest.mark.parametrize("shift", [0.0, 1e-3, 0.05, 1.0])
def test_ks_statistic_of_large_samples_is_scipys(shift):
    """Continuous and rounded samples of 200,000 values: the statistic is SciPy's float."""
    from cmlops.stats import _drift_ks

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=200_000), rng.normal(shift, 1.0, size=150_001)
    for x, y in ((a, b), (np.round(a, 2), np.round(b, 2)), (a, a.copy())):
        xs, ys = np.sort(x), np.sort(y)
        expected = float(stats.ks_2samp(xs, ys, method="asymp").statistic)
        assert _drift_ks.ks_statistic(xs, ys) == expected
        assert _drift_ks.ks_statistic(xs, ys, grid=10**9) == expected  # one interval


@pytest.mark.parametrize("n1,n2,ties", [(100, 100, False), (137, 59, True), (2_000, 3_001, False)])
@pytest.mark.req("REQ-STA-003")
def test_wasserstein_matches_scipy(n1, n2, ties):
    a, b = _pair(n1, n2, ties=ties, shift=0.4)
    raw = stats.wasserstein_distance(a, b)
    assert num.wasserstein(np.sort(a), np.sort(b)) == pytest.approx(raw, rel=RTOL)
    col = _one(a, b, "wasserstein")
    assert col.details["wasserstein_raw"] == pytest.approx(raw, rel=RTOL)
    assert col.statistic == pytest.approx(raw / np.std(a), rel=RTOL)
    assert col.p_value is None and col.threshold == 0.1
    assert col.drifted == (raw / np.std(a) >= 0.1)


def _reference_bins(a, b, n_bins=10):
    edges = np.unique(np.quantile(a, np.linspace(0, 1, n_bins + 1)[1:-1]))
    full = np.concatenate(([-np.inf], edges, [np.inf]))
    # right-closed bins (e_{i-1}, e_i]
    pa = np.array([np.sum((a > lo) & (a <= hi)) for lo, hi in pairwise(full)]) / a.size
    pb = np.array([np.sum((b > lo) & (b <= hi)) for lo, hi in pairwise(full)]) / b.size
    return pa, pb


@pytest.mark.parametrize("ties", [False, True])
def test_numeric_psi_and_jensenshannon_on_reference_quantile_bins(ties):
    a, b = _pair(800, 600, ties=ties, shift=0.3)
    pa, pb = _reference_bins(a, b)
    js = _one(a, b, "jensenshannon")
    assert js.statistic == pytest.approx(jensenshannon(pa, pb), rel=RTOL)
    assert js.details["bins"] == pa.size
    eps = 1e-4
    p, q = np.where(pa == 0, eps, pa), np.where(pb == 0, eps, pb)
    assert _one(a, b, "psi").statistic == pytest.approx(np.sum((q - p) * np.log(q / p)), rel=RTOL)


@pytest.mark.req("REQ-STA-003")
def test_anderson_matches_scipy_and_keeps_its_capping_warning():
    a, b = _pair(200, 150, shift=0.0, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.anderson_ksamp([a, b], variant="midrank")
    col = _one(a, b, "anderson", correction="none")
    assert col.statistic == pytest.approx(float(ref.statistic), rel=RTOL)
    assert col.p_value == pytest.approx(float(ref.pvalue), rel=RTOL)
    far = _one(a, b + 5, "anderson")
    assert far.p_value == pytest.approx(0.001)
    assert any("floored" in w for w in far.warnings)


def _cats(counts_ref, counts_cur, labels=None):
    labels = labels or [f"k{i}" for i in range(len(counts_ref))]
    r = pd.Series(np.repeat(labels, counts_ref))
    c = pd.Series(np.repeat(labels, counts_cur))
    return pd.DataFrame({"c": r}), pd.DataFrame({"c": c})


@pytest.mark.req("REQ-STA-003")
def test_chi_square_matches_chi2_contingency_without_yates():
    cr, cc = [30, 50, 20, 7], [25, 40, 40, 3]
    ref, cur = _cats(cr, cc)
    sp = stats.chi2_contingency(np.array([cr, cc]), correction=False)
    col = drift(ref, cur, correction="none")["c"]
    assert col.test == "chi2"
    assert col.statistic == pytest.approx(sp.statistic, rel=RTOL)
    assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL)
    assert col.details["dof"] == sp.dof and col.details["yates_correction"] is False


def test_chi_square_drops_categories_absent_from_both_via_codes():
    ref = pd.DataFrame({"c": pd.Categorical(["a"] * 20 + ["b"] * 10, categories=["a", "b", "z"])})
    cur = pd.DataFrame({"c": pd.Categorical(["a"] * 10 + ["b"] * 20, categories=["a", "b", "z"])})
    col = drift(ref, cur, methods={"c": "chi2"}, correction="none")["c"]
    sp = stats.chi2_contingency(np.array([[20, 10], [10, 20]]), correction=False)
    assert col.statistic == pytest.approx(sp.statistic, rel=RTOL)
    assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL)


def test_two_valued_column_gets_z_test_equal_to_2x2_chi_square():
    cr, cc = [60, 40], [45, 55]
    ref, cur = _cats(cr, cc, ["no", "yes"])
    col = drift(ref, cur, correction="none")["c"]
    sp = stats.chi2_contingency(np.array([cr, cc]), correction=False)
    assert col.kind == "binary" and col.test == "z_proportions"
    assert col.statistic**2 == pytest.approx(sp.statistic, rel=RTOL)
    assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL)
    assert col.effect_size == pytest.approx(0.15, rel=RTOL)


@pytest.mark.req("REQ-STA-003")
def test_two_valued_small_counts_use_fisher_exact():
    cr, cc = [9, 1], [3, 6]
    ref, cur = _cats(cr, cc, ["no", "yes"])
    col = drift(ref, cur, correction="none")["c"]
    sp = stats.fisher_exact(np.array([cr, cc]))
    assert col.test == "fisher_exact"
    assert col.statistic == pytest.approx(sp.statistic, rel=RTOL)
    assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL)


def test_numeric_zero_one_column_is_treated_as_binary():
    rng = np.random.default_rng(2)
    a = (rng.random(300) < 0.3).astype(float)
    b = (rng.random(250) < 0.5).astype(float)
    col = drift(pd.DataFrame({"y": a}), pd.DataFrame({"y": b}), correction="none")["y"]
    table = np.array([[np.sum(a == 0), np.sum(a == 1)], [np.sum(b == 0), np.sum(b == 1)]])
    sp = stats.chi2_contingency(table, correction=False)
    assert col.kind == "binary"
    assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL)


def test_categorical_distances_match_definitions():
    cr, cc = [30, 50, 20, 0], [25, 40, 40, 5]
    ref, cur = _cats(cr, cc)
    p = np.array(cr) / sum(cr)
    q = np.array(cc) / sum(cc)
    js = drift(ref, cur, methods={"c": "jensenshannon"})["c"]
    assert js.statistic == pytest.approx(jensenshannon(p, q), rel=RTOL)
    tv = drift(ref, cur, methods={"c": "total_variation"})["c"]
    assert tv.statistic == pytest.approx(0.5 * np.abs(p - q).sum(), rel=RTOL)
    pe, qe = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    ps = drift(ref, cur, methods={"c": "psi"})["c"]
    assert ps.statistic == pytest.approx(np.sum((qe - pe) * np.log(qe / pe)), rel=RTOL)
    assert ps.unseen_categories == ["k3"] and ps.unseen_share == pytest.approx(5 / 110)
    assert ps.unseen_drifted


@pytest.mark.req("REQ-STA-003")
def test_randomised_cases_match_scipy():
    """Many small random cases: sizes 1-300, ties, NaN, infinities, shifts."""
    rng = np.random.default_rng(42)
    for _ in range(40):
        n1, n2 = rng.integers(1, 300, size=2)
        a = rng.normal(size=n1) * rng.choice([1, 10])
        b = rng.normal(rng.choice([0, 0.3]), 1, size=n2) * rng.choice([1, 10])
        if rng.random() < 0.5:
            a, b = np.round(a), np.round(b)
        a[rng.random(n1) < 0.1] = np.nan
        b[rng.random(n2) < 0.1] = np.inf
        fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
        if fa.size == 0 or fb.size == 0:
            continue
        frame_a, frame_b = pd.DataFrame({"x": a}), pd.DataFrame({"x": b})
        ks = drift(frame_a, frame_b, methods={"x": "ks"}, correction="none")["x"]
        ref = stats.ks_2samp(fa, fb)
        assert ks.statistic == float(ref.statistic)
        assert ks.p_value == pytest.approx(float(ref.pvalue), rel=RTOL, abs=1e-300)
        w = drift(frame_a, frame_b, methods={"x": "wasserstein"})["x"]
        assert w.details["wasserstein_raw"] == pytest.approx(
            stats.wasserstein_distance(fa, fb), rel=RTOL, abs=1e-12
        )
        k = int(rng.integers(2, 8))
        cr, cc = rng.integers(0, 30, size=k), rng.integers(0, 30, size=k)
        cr[0] += 1
        cc[0] += 1
        keep = (cr + cc) > 0
        r, c = _cats(list(cr), list(cc))
        col = drift(r, c, methods={"c": "chi2"}, correction="none")["c"]
        table = np.array([cr[keep], cc[keep]])
        if table.shape[1] > 1:
            sp = stats.chi2_contingency(table, correction=False)
            assert col.statistic == pytest.approx(sp.statistic, rel=RTOL, abs=1e-12)
            assert col.p_value == pytest.approx(sp.pvalue, rel=RTOL, abs=1e-300)


@pytest.mark.parametrize("block", [1, 3, 50, 1 << 18])
def test_wasserstein_in_windows_matches_scipy(block):
    """Unequal sizes are integrated window by window; the sum is SciPy's."""
    rng = np.random.default_rng(block)
    for n1, n2 in ((7, 3), (137, 59), (1_000, 1_531)):
        a, b = rng.normal(size=n1), np.round(rng.normal(0.3, 2.0, size=n2), 1)
        raw = stats.wasserstein_distance(a, b)
        assert num.wasserstein(np.sort(a), np.sort(b), block=block) == pytest.approx(raw, rel=RTOL)
