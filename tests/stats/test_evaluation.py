"""evaluate() and its building blocks against SciPy / scikit-learn reference values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_expit
from scipy.stats import binomtest, rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    roc_auc_score,
)

from cmlops.stats import calibration as cal
from cmlops.stats.decision_curve import decision_curve, net_benefit, threshold_metrics
from cmlops.stats.delong import auroc_delong, delong_components, midrank
from cmlops.stats.evaluation import EvaluationResult, evaluate
from cmlops.stats.evaluation_result import FRAME_COLUMNS


def _sim(n: int, seed: int = 0, shift: float = -1.0, ties: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = expit(x + shift)
    y = rng.binomial(1, p)
    if ties:
        p = np.round(p, 1)
    return y, p


def _naive_delong(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Structural components pair by pair (DeLong 1988 eq. for one test), O(n^2)."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]).astype(float) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc = psi.mean()
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(auc), float(np.sqrt(var))


# --- DeLong ---------------------------------------------------------------


@pytest.mark.req("REQ-STA-001")
def test_midrank_equals_scipy_rankdata_with_ties():
    x = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], dtype=float)
    np.testing.assert_array_equal(midrank(x), rankdata(x, method="average"))
    assert midrank(np.array([])).size == 0


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.req("REQ-STA-001")
def test_delong_auc_equals_sklearn_and_variance_equals_naive(ties):
    y, s = _sim(600, seed=3, ties=ties)
    d = auroc_delong(y, s)
    assert abs(d.auc - roc_auc_score(y, s)) < 1e-12
    auc_naive, se_naive = _naive_delong(y, s)
    assert abs(d.auc - auc_naive) < 1e-12
    assert abs(d.se - se_naive) < 1e-12
    assert d.ci_low == pytest.approx(d.auc - 1.959963984540054 * d.se, abs=1e-12)
    v10, v01 = delong_components(y, s)
    assert v10.size == y.sum() and v01.size == (1 - y).sum()


@pytest.mark.req("REQ-STA-001")
def test_delong_reproduces_hanley_mcneil_1982_published_example():
    # Hanley & McNeil (1982) Radiology 143:29, Table 1: CT ratings 1 (definitely
    # normal) .. 5 (definitely abnormal) of 58 normal and 51 abnormal patients.
    # Published: area 0.893, standard error 0.032 (their closed-form approximation).
    normal = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    abnormal = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    y = np.r_[np.zeros(58), np.ones(51)]
    s = np.r_[normal, abnormal].astype(float)
    d = auroc_delong(y, s)
    assert round(d.auc, 3) == 0.893
    assert abs(d.se - 0.032) < 0.002  # DeLong 0.0307 vs Hanley-McNeil's approximation
    assert (d.auc, d.se) == pytest.approx(_naive_delong(y, s), abs=1e-12)


@pytest.mark.req("REQ-STA-001")
def test_delong_ci_is_clipped_to_unit_interval():
    y = np.array([0, 0, 0, 1, 1, 1])
    d = auroc_delong(y, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert d.auc == 1.0 and d.ci_high == 1.0 and d.se == 0.0


# --- calibration ------------------------------------------------------------


@pytest.mark.req("REQ-STA-002")
def test_calibration_slope_equals_unpenalised_sklearn_logistic_regression():
    # sklearn 1.8 deprecated penalty=None in favour of C=np.inf (same unpenalised fit)
    y, p = _sim(3000, seed=5)
    p_mis = expit(1.6 * cal.logit(p) + 0.3)  # over-extreme, shifted predictions
    fit = cal.calibration_slope(y, p_mis)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)  # unpenalised
    ref.fit(cal.logit(p_mis)[:, None], y)
    assert fit.converged
    assert abs(fit.estimate - ref.coef_[0, 0]) < 1e-6
    assert fit.estimate < 1.0  # predictions too extreme -> slope below 1


@pytest.mark.req("REQ-STA-002")
def test_calibration_intercept_equals_offset_mle_and_numeric_information():
    y, p = _sim(2000, seed=6)
    p_low = expit(cal.logit(p) - 0.5)  # risks underestimated -> intercept > 0
    lp = cal.logit(p_low)

    def nll(a: float) -> float:
        return -float(np.sum(y * log_expit(a + lp) + (1 - y) * log_expit(-(a + lp))))

    ref = minimize_scalar(nll, bounds=(-5, 5), method="bounded", options={"xatol": 1e-12})
    fit = cal.calibration_intercept(y, p_low)
    assert abs(fit.estimate - ref.x) < 1e-6
    assert fit.estimate > 0
    h = 1e-4
    second = (nll(ref.x + h) - 2 * nll(ref.x) + nll(ref.x - h)) / h**2
    assert fit.se == pytest.approx(1 / np.sqrt(second), rel=1e-4)
    assert fit.ci_low < fit.estimate < fit.ci_high


@pytest.mark.req("REQ-STA-002")
def test_brier_scaled_brier_and_oe_ratio():
    y, p = _sim(1000, seed=7)
    assert abs(cal.brier(y, p) - brier_score_loss(y, p)) < 1e-12
    prev = y.mean()
    assert cal.scaled_brier(y, p) == pytest.approx(1 - brier_score_loss(y, p) / (prev * (1 - prev)))
    assert cal.scaled_brier(np.ones(5), np.full(5, 0.5)) is None
    oe, lo, hi = cal.observed_expected(y, p)
    assert oe == pytest.approx(y.sum() / p.sum())
    assert lo == pytest.approx(oe * np.exp(-1.959963984540054 / np.sqrt(y.sum())))
    assert hi == pytest.approx(oe * np.exp(1.959963984540054 / np.sqrt(y.sum())))
    assert cal.observed_expected(np.zeros(3), np.zeros(3)) == (None, None, None)


def test_lowess_point_equals_weighted_least_squares_reference():
    y, p = _sim(400, seed=8)
    grid, smooth = cal.lowess_curve(y, p, frac=0.5, grid_size=7)
    k = int(np.ceil(0.5 * p.size))
    for x0, got in zip(grid, smooth, strict=True):
        d = np.abs(p - x0)
        idx = np.argsort(d, kind="stable")[:k]
        h = d[idx].max()
        w = (1 - (d[idx] / h) ** 3) ** 3
        slope, intercept = np.polyfit(p[idx], y[idx], 1, w=np.sqrt(w))
        assert got == pytest.approx(np.clip(intercept + slope * x0, 0, 1), abs=1e-9)


def test_binned_calibration_counts_and_wilson_intervals():
    y, p = _sim(1000, seed=9)
    b = cal.binned_calibration(y, p, n_bins=10)
    assert sum(b["n"]) == 1000 and sum(b["events"]) == y.sum()
    ci = binomtest(b["events"][0], b["n"][0]).proportion_ci(method="wilson")
    assert b["ci_low"][0] == pytest.approx(ci.low) and b["ci_high"][0] == pytest.approx(ci.high)


# --- thresholds and decision curves ----------------------------------------------


@pytest.mark.req("REQ-STA-002")
def test_threshold_metrics_equal_confusion_matrix_and_wilson():
    y, p = _sim(800, seed=10)
    tm = threshold_metrics(y, p, 0.3)
    tn, fp, fn, tp = confusion_matrix(y, (p >= 0.3).astype(int)).ravel()
    assert (tm.tp, tm.fp, tm.tn, tm.fn) == (tp, fp, tn, fn)
    assert tm.sensitivity.value == pytest.approx(tp / (tp + fn))
    assert tm.specificity.value == pytest.approx(tn / (tn + fp))
    assert tm.ppv.value == pytest.approx(tp / (tp + fp))
    assert tm.npv.value == pytest.approx(tn / (tn + fn))
    assert tm.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    ci = binomtest(int(tp), int(tp + fn)).proportion_ci(method="wilson")
    assert (tm.sensitivity.ci_low, tm.sensitivity.ci_high) == pytest.approx((ci.low, ci.high))
    none = threshold_metrics(y, p, 1.0 + 1e-9)
    assert none.ppv.value is None and none.ppv.denominator == 0


@pytest.mark.req("REQ-STA-002")
def test_net_benefit_equals_vickers_elkin_formula():
    y, p = _sim(700, seed=11)
    pts = np.array([0.05, 0.1, 0.25, 0.5, 0.8])
    got = net_benefit(y, p, pts)
    for t, g in zip(pts, got, strict=True):
        tp = np.sum((p >= t) & (y == 1))
        fp = np.sum((p >= t) & (y == 0))
        assert g == pytest.approx(tp / y.size - fp / y.size * t / (1 - t), abs=1e-12)
    dc = decision_curve(y, p, pts)
    prev = y.mean()
    assert dc["treat_all"][1] == pytest.approx(prev - (1 - prev) * 0.1 / 0.9)
    assert dc["treat_none"] == [0.0] * 5


# --- evaluate() ----------------------------------------------------------------


@pytest.mark.req("REQ-STA-002")
def test_evaluate_overall_metrics_match_references():
    y, p = _sim(1500, seed=12)
    r = evaluate(y, p, thresholds=[0.2, 0.4])
    assert isinstance(r, EvaluationResult) and r._cmlops_result_kind == "evaluation"
    assert abs(r.value("auroc") - roc_auc_score(y, p)) < 1e-12
    assert abs(r.value("auprc") - average_precision_score(y, p)) < 1e-12
    ap, ev = r.metric("auprc"), int(y.sum())
    half = 1.959963984540054 / np.sqrt(ev * ap.value * (1 - ap.value))
    assert ap.ci_low == pytest.approx(expit(np.log(ap.value / (1 - ap.value)) - half))
    assert ap.ci_high == pytest.approx(expit(np.log(ap.value / (1 - ap.value)) + half))
    assert abs(r.value("brier") - brier_score_loss(y, p)) < 1e-12
    brier = r.metric("brier")
    se = np.std((p - y) ** 2, ddof=1) / np.sqrt(y.size)
    assert brier.ci_high - brier.value == pytest.approx(1.959963984540054 * se)
    assert abs(r.value("log_loss") - log_loss(y, p)) < 1e-12
    assert r.value("sensitivity", threshold=0.4) == pytest.approx(
        np.sum((p >= 0.4) & (y == 1)) / y.sum()
    )
    assert r.n == 1500 and r.events == int(y.sum()) and r.thresholds == [0.2, 0.4]
    assert r.passed is None and r.warnings == []
    assert set(r.roc["all"]) == {"fpr", "tpr", "thresholds"}
    assert len(r.calibration_curve["all"]["predicted"]) == 101
    assert len(r.decision_curve["all"]["thresholds"]) == 99


def test_evaluate_frame_and_dict_are_clean():
    y, p = _sim(300, seed=13)
    r = evaluate(y, p, threshold=0.5, groups=pd.Series(np.arange(300) % 2, name="arm"))
    frame = r.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert {"metric", "subgroup", "value", "ci_low", "ci_high", "n", "events"} <= set(frame)
    assert set(frame["subgroup"]) == {"all", "arm=0", "arm=1", "arm"}
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["kind"] == "evaluation" and "NaN" not in text
    assert d["metrics"][0]["metric"] == "prevalence"


@pytest.mark.req("REQ-STA-004")
def test_subgroup_metrics_equal_evaluation_of_the_subset_and_gaps():
    y, p = _sim(2000, seed=14)
    sex = pd.Series(np.where(np.arange(2000) % 3 == 0, "F", "M"), name="sex")
    r = evaluate(y, p, threshold=0.3, groups=sex)
    f = sex.to_numpy() == "F"
    sub = evaluate(y[f], p[f], threshold=0.3)
    for metric in ("auroc", "brier", "calibration_slope", "sensitivity"):
        assert r.value(metric, "sex=F") == pytest.approx(sub.value(metric), abs=1e-12)
    assert r.metric("auroc", "sex=F").n == int(f.sum())
    sens = {g: r.value("sensitivity", f"sex={g}", 0.3) for g in "FM"}
    spec = {g: r.metric("specificity", f"sex={g}", 0.3) for g in "FM"}
    gap = r.metric("tpr_gap", "sex", 0.3)
    assert gap.value == pytest.approx(abs(sens["F"] - sens["M"]))
    fpr_gap = r.metric("fpr_gap", "sex", 0.3)
    assert fpr_gap.value == pytest.approx(abs(spec["F"].value - spec["M"].value))
    assert r.value("equalized_odds_gap", "sex", 0.3) == max(gap.value, fpr_gap.value)
    # Newcombe hybrid score interval for the difference of the two proportions
    hi, lo = sorted(("F", "M"), key=lambda g: -sens[g])
    rh, rl = (r.metric("sensitivity", f"sex={g}", 0.3) for g in (hi, lo))
    d = rh.value - rl.value
    assert gap.ci_low == pytest.approx(d - np.hypot(rh.value - rh.ci_low, rl.ci_high - rl.value))
    assert gap.ci_high == pytest.approx(d + np.hypot(rh.ci_high - rh.value, rl.value - rl.ci_low))
    assert gap.ci_low < gap.value < gap.ci_high
    assert r.value("auroc_gap", "sex") == pytest.approx(
        abs(r.value("auroc", "sex=F") - r.value("auroc", "sex=M"))
    )


def test_groups_as_dict_gives_each_variable_its_subgroups():
    y, p = _sim(600, seed=15)
    r = evaluate(y, p, groups={"site": np.arange(600) % 3, "sex": np.arange(600) % 2})
    assert r.group_variables == ["site", "sex"]
    assert r.subgroups == ["site=0", "site=1", "site=2", "sex=0", "sex=1"]
    assert r.value("auroc_gap", "site") is not None


def test_criteria_set_passed_and_verdict():
    y, p = _sim(2000, seed=16)
    crit = {"auroc_ci_low": (">=", 0.6), "calibration_slope": ("between", 0.8, 1.2)}
    ok = evaluate(y, p, threshold=0.3, criteria=crit)
    assert ok.passed is True
    row = ok.metric("auroc")
    assert row.passed is True and row.criterion == "auroc_ci_low >= 0.6"
    assert ok.metric("brier").passed is None
    bad = evaluate(y, p, criteria={"auroc_ci_low": (">=", 0.99)})
    assert bad.passed is False and bad.metric("auroc").passed is False
    assert bad.to_frame()["passed"].sum() == 0
    g = pd.Series(np.arange(2000) % 2, name="g")
    sub = evaluate(y, p, groups=g, criteria={"auroc": (">", 0.5)}, criteria_scope="subgroups")
    assert sub.metric("auroc", "g=1").passed is True
    with pytest.raises(ValueError, match="names no metric"):
        evaluate(y, p, criteria={"aurocc": (">=", 0.7)})
    with pytest.raises(ValueError, match="op must be"):
        evaluate(y, p, criteria={"auroc": ("=>", 0.7)})
    with pytest.raises(ValueError, match="matches no reported metric"):
        evaluate(y, p, criteria={"sensitivity": (">=", 0.7)})  # no threshold given


def test_logit_scores_equal_probability_scores_and_raw_scores_skip_calibration():
    y, p = _sim(500, seed=17)
    a = evaluate(y, p, threshold=0.3)
    b = evaluate(y, cal.logit(p), threshold=0.3, scores="logit")
    for m in ("auroc", "brier", "calibration_slope", "sensitivity", "net_benefit"):
        assert a.value(m, threshold=0.3 if m in ("sensitivity", "net_benefit") else None) == (
            pytest.approx(
                b.value(m, threshold=0.3 if m in ("sensitivity", "net_benefit") else None)
            )
        )
    raw = evaluate(y, 10 * cal.logit(p) + 3, thresholds=[0.0], scores="raw")
    assert raw.value("auroc") == pytest.approx(a.value("auroc"), abs=1e-12)
    assert {m.metric for m in raw.metrics}.isdisjoint({"brier", "calibration_slope", "net_benefit"})
    assert any("scores='raw'" in w for w in raw.warnings)
    assert raw.calibration_curve == {}


def test_lowess_subsample_above_max_points_is_deterministic_and_close():
    y, p = _sim(6000, seed=18)
    full = cal.lowess_curve(y, p, grid_size=11)
    sub1 = cal.lowess_curve(y, p, grid_size=11, max_points=3000)
    sub2 = cal.lowess_curve(y, p, grid_size=11, max_points=3000)
    np.testing.assert_array_equal(sub1[1], sub2[1])
    inner = slice(1, -1)  # the grid ends follow the sampled extremes
    np.testing.assert_allclose(sub1[1][inner], np.interp(sub1[0], *full)[inner], atol=0.05)


def test_curves_false_keeps_metrics_and_drops_curves():
    y, p = _sim(500, seed=19)
    a = evaluate(y, p, threshold=0.3)
    b = evaluate(y, p, threshold=0.3, curves=False)
    assert b.roc == {} and b.calibration_curve == {} and b.decision_curve == {}
    assert [(m.metric, m.value) for m in a.metrics] == [(m.metric, m.value) for m in b.metrics]
