"""``cmlops.compare`` against independent references.

- R: pROC ``roc.test`` (paired DeLong), ``t.test(paired = TRUE)`` (Brier, net benefit)
  and ``glm`` + ``sandwich::vcovCL`` (calibration differences), every row of
  ``data/paired_models.csv`` overall and per subgroup, from
  ``data/paired_models_reference.R``;
- a pairwise O(n1 * n0) DeLong written in this file, on the real flchain cohort;
- SciPy's ``ttest_rel`` and ``evaluate`` for the per-model values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, ttest_rel
from sklearn.metrics import roc_auc_score

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.stats.comparison import compare
from cmlops.stats.evaluation import evaluate

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def paired() -> pd.DataFrame:
    return pd.read_csv(DATA / "paired_models.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "paired_models_reference.csv")


@pytest.mark.req("REQ-STA-005")
def test_every_row_matches_r_proc_ttest_and_sandwich(paired, reference):
    res = compare(paired["y"], paired["score_a"], paired["score_b"],
                  thresholds=[0.1, 0.2, 0.3], groups=paired[["sex", "site"]])  # fmt: skip
    assert len(res.rows) == len(reference) == 6 * 7
    for ref in reference.itertuples():
        threshold = None if pd.isna(ref.threshold) else round(ref.threshold, 10)
        row = res.row(ref.metric, ref.subgroup, threshold)
        # glm stops at its own tolerance; the other references are closed forms
        rel = 1e-8 if ref.metric.startswith("calibration") else 1e-10
        for field in ("value_a", "value_b", "difference", "ci_low", "ci_high"):
            assert getattr(row, field) == pytest.approx(getattr(ref, field), rel=rel, abs=1e-12)
        assert row.p_value == pytest.approx(ref.p_value, rel=1e-6, abs=1e-14)
        if ref.subgroup == "all":
            assert (row.n, row.events) == (len(paired), int(paired["y"].sum()))
        else:
            var, _, value = ref.subgroup.partition("=")
            part = paired[paired[var] == value]
            assert (row.n, row.events) == (len(part), int(part["y"].sum()))


def _placements_pairwise(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placements by brute force: every positive against every negative."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def _delong_pairwise(y, a, b, level=0.95) -> tuple[float, float, float, float, float]:
    """Paired DeLong test from the O(n1*n0) placements (DeLong et al. 1988, eq. 2-4)."""
    a10, a01 = _placements_pairwise(y, a)
    b10, b01 = _placements_pairwise(y, b)
    m, n = a10.size, a01.size
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    s = s10 / m + s01 / n
    diff = a10.mean() - b10.mean()
    se = np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    z = norm.ppf(0.5 + level / 2)
    return diff, se, 2 * norm.sf(abs(diff / se)), diff - z * se, diff + z * se


@pytest.fixture(scope="module")
def flchain() -> pd.DataFrame:
    """The Dispenzieri et al. (2012) cohort: death, and two fixed (not fitted) risk scores."""
    from sksurv import datasets

    x, y = datasets.load_flchain()
    frame = x.assign(death=y["death"].astype(int)).dropna(subset=["creatinine"])
    age = frame["age"].astype(float)
    light = (frame["kappa"] + frame["lambda"]).astype(float)
    frame["score_a"] = 1 / (1 + np.exp(-(-8.0 + 0.1 * age)))
    lin_b = -8.6 + 0.095 * age + 0.25 * np.log(light) + 0.4 * frame["creatinine"].astype(float)
    frame["score_b"] = (1 / (1 + np.exp(-lin_b))).round(2)  # rounded: many ties
    return frame.reset_index(drop=True)


@pytest.mark.req("REQ-STA-005")
def test_paired_delong_equals_the_pairwise_computation_on_flchain(flchain):
    sample = flchain.sample(3000, random_state=7)  # pairwise is O(n^2) in memory
    y = sample["death"].to_numpy()
    a, b = sample["score_a"].to_numpy(), sample["score_b"].to_numpy()
    res = compare(y, a, b, groups=sample["sex"].astype(str).rename("sex"), curves=False)
    for label, mask in [("all", np.ones(y.size, bool))] + [
        (f"sex={s}", sample["sex"].astype(str).to_numpy() == s) for s in ("F", "M")
    ]:
        row = res.row("auroc", label)
        diff, se, p, lo, hi = _delong_pairwise(y[mask], a[mask], b[mask])
        assert f"se={se:.6g};" in row.note
        assert row.difference == pytest.approx(diff, abs=1e-12)
        assert row.ci_low == pytest.approx(lo, abs=1e-12)
        assert row.ci_high == pytest.approx(hi, abs=1e-12)
        assert row.p_value == pytest.approx(p, rel=1e-9)
        assert row.value_a == pytest.approx(roc_auc_score(y[mask], a[mask]), abs=1e-12)
        assert row.value_b == pytest.approx(roc_auc_score(y[mask], b[mask]), abs=1e-12)


def test_each_models_values_are_those_of_evaluate_and_differences_of_ttest_rel(paired):
    y, a, b = paired["y"].to_numpy(), paired["score_a"].to_numpy(), paired["score_b"].to_numpy()
    res = compare(y, a, b, thresholds=[0.2], curves=False)
    ev_a, ev_b = evaluate(y, a, thresholds=[0.2]), evaluate(y, b, thresholds=[0.2])
    for metric in ("auroc", "brier", "calibration_intercept", "calibration_slope"):
        row = res.row(metric)
        assert row.value_a == pytest.approx(ev_a.value(metric), rel=1e-9)
        assert row.value_b == pytest.approx(ev_b.value(metric), rel=1e-9)
    nb = res.row("net_benefit", threshold=0.2)
    assert nb.value_a == pytest.approx(ev_a.value("net_benefit", threshold=0.2), abs=1e-12)
    assert nb.value_b == pytest.approx(ev_b.value("net_benefit", threshold=0.2), abs=1e-12)
    t = ttest_rel((a - y) ** 2, (b - y) ** 2)
    brier = res.row("brier")
    assert brier.p_value == pytest.approx(t.pvalue, rel=1e-12)
    assert (brier.ci_low, brier.ci_high) == pytest.approx(tuple(t.confidence_interval()))


def test_swapping_the_models_negates_every_difference(paired):
    one = compare(paired["y"], paired["score_a"], paired["score_b"], thresholds=[0.1],
                  groups=paired["site"], curves=False)  # fmt: skip
    two = compare(paired["y"], paired["score_b"], paired["score_a"], thresholds=[0.1],
                  groups=paired["site"], curves=False)  # fmt: skip
    for r1, r2 in zip(one.rows, two.rows, strict=True):
        assert (r1.metric, r1.subgroup, r1.threshold) == (r2.metric, r2.subgroup, r2.threshold)
        assert r1.difference == pytest.approx(-r2.difference, abs=1e-12)
        assert r1.ci_low == pytest.approx(-r2.ci_high, abs=1e-10)
        assert r1.p_value == pytest.approx(r2.p_value, rel=1e-8)


def test_logit_scores_equal_their_probabilities_and_raw_compares_auroc_only(paired):
    y, a, b = paired["y"], paired["score_a"], paired["score_b"]
    prob = compare(y, a.clip(1e-6, 1 - 1e-6), b.clip(1e-6, 1 - 1e-6), thresholds=[0.2],
                   curves=False)  # fmt: skip
    logit = compare(y, np.log(a.clip(1e-6, 1 - 1e-6) / (1 - a.clip(1e-6, 1 - 1e-6))),
                    np.log(b.clip(1e-6, 1 - 1e-6) / (1 - b.clip(1e-6, 1 - 1e-6))),
                    thresholds=[0.2], scores="logit", curves=False)  # fmt: skip
    for r1, r2 in zip(prob.rows, logit.rows, strict=True):
        assert r1.difference == pytest.approx(r2.difference, abs=1e-9)
    raw = compare(y, a * 10 - 3, b * 7, scores="raw")
    assert [r.metric for r in raw.rows] == ["auroc"]
    assert raw.row("auroc").difference == pytest.approx(prob.row("auroc").difference)
    assert any("only the AUROC" in w for w in raw.warnings)


def test_identical_models_differ_by_zero_with_p_one_or_no_variance(paired):
    res = compare(paired["y"], paired["score_a"], paired["score_a"], thresholds=[0.2])
    auc = res.row("auroc")
    assert (auc.difference, auc.ci_low, auc.ci_high, auc.p_value) == (0.0, 0.0, 0.0, 1.0)
    brier = res.row("brier")
    assert brier.difference == 0.0 and brier.p_value is None and "no variance" in brier.note


def test_subgroups_with_one_class_or_none_are_reported_not_crashed(paired):
    site = paired["site"].astype(pd.CategoricalDtype(["A", "B", "C", "empty"]))
    y = paired["y"].copy()
    y[paired["site"] == "C"] = 0  # no events in site C
    res = compare(y, paired["score_a"], paired["score_b"], thresholds=[0.2], groups=site)
    c_auc = res.row("auroc", "site=C")
    assert c_auc.difference is None and "one outcome class" in c_auc.note
    assert res.row("brier", "site=C").difference is not None  # Brier needs no events
    assert res.row("auroc", "site=empty").n == 0
    assert any("site=C" in w for w in res.warnings)
    assert any("site=empty" in w for w in res.warnings)


def test_criteria_judge_the_differences_for_non_inferiority(paired):
    y, a, b = paired["y"], paired["score_a"], paired["score_b"]
    # is b non-inferior to a within 0.05 AUROC? a - b < 0.05 at the upper CI bound
    ok = compare(y, a, b, criteria={"auroc_difference_ci_high": ("<=", 0.05)})
    assert ok.passed is True and ok.verdict == "pass"
    assert ok.row("auroc").criterion == "auroc_difference_ci_high <= 0.05"
    # and the other way round fails
    bad = compare(y, b, a, criteria={"auroc_difference_ci_high": ("<=", 0.05)})
    assert bad.passed is False and bad.verdict == "fail"
    every = compare(y, a, b, groups=paired["sex"], criteria_scope="subgroups",
                    criteria={"brier_p_value": (">", 0.01)})  # fmt: skip
    judged = [r.subgroup for r in every.rows if r.criterion]
    assert judged == ["all", "sex=F", "sex=M"]
    assert compare(y, a, b).passed is None and compare(y, a, b).verdict == "not evaluable"


def _one_line_error(call, match: str) -> str:
    with pytest.raises(InvalidInputError) as exc:
        call()
    text = str(exc.value)
    assert "\n" not in text and len(text) < 300, text
    assert match in text, text
    return text


def test_bad_input_is_a_one_line_error(paired):
    y, a, b = paired["y"].to_numpy(), paired["score_a"].to_numpy(), paired["score_b"].to_numpy()
    _one_line_error(lambda: compare(y, a, b[:-1]), "score_b has 299")
    _one_line_error(lambda: compare(y[:-1], a, b), "score_a has 300")
    _one_line_error(lambda: compare(np.zeros(300), a, b), "only one outcome class")
    _one_line_error(lambda: compare(np.ones(300), a, b), "no non-events")
    with_nan = b.copy()
    with_nan[[3, 7]] = np.nan
    _one_line_error(lambda: compare(y, a, with_nan), "2 rows have a missing outcome or score")
    dropped = compare(y, a, with_nan, missing="drop", curves=False)
    assert dropped.n == 298 and any("dropped 2 of 300" in w for w in dropped.warnings)
    with_inf = a.copy()
    with_inf[0] = np.inf
    _one_line_error(lambda: compare(y, with_inf, b), "score_a has 1 infinite")
    _one_line_error(lambda: compare(y, a * 2, b), "outside [0, 1]")
    _one_line_error(lambda: compare(y, a, b, names=("same", "same")), "names must be two")
    _one_line_error(lambda: compare(y, a, b, thresholds=[0.0]), "strictly between 0 and 1")
    _one_line_error(lambda: compare(y, a, b, thresholds=["x"]), "thresholds must be numbers")
    _one_line_error(lambda: compare(y, a, b, scores="raw", thresholds=[0.2]), "need probability")
    _one_line_error(lambda: compare(y, a, b, criteria={"auroc_ci_low": (">=", 0)}), "names no")
    _one_line_error(
        lambda: compare(y, a, b, criteria={"net_benefit_difference": (">=", 0)}), "matches no"
    )
    _one_line_error(lambda: compare(y, a, b, level=1.5), "level must lie in (0, 1)")
    _one_line_error(lambda: compare(y, a, np.full((300, 2), 0.5)), "one-dimensional")


def test_compare_is_public_and_returns_a_protocol_result(paired):
    res = cmlops.compare(paired["y"], paired["score_a"], paired["score_b"],
                         names=("current", "new"))  # fmt: skip
    assert isinstance(res, cmlops.ComparisonResult) and isinstance(res, cmlops.Result)
    assert repr(res).startswith("<ComparisonResult not evaluable: 'current' vs 'new', AUROC ")
    frame = res.to_frame()
    assert list(frame.columns)[:6] == ["metric", "subgroup", "threshold", "value_a", "value_b",
                                       "difference"]  # fmt: skip


def test_a_difference_that_cannot_support_a_decision_is_not_evaluated(paired):
    """Too few events in a subgroup, or a zero-width interval: the criterion is neither
    passed nor failed (None, with a warning), and the verdict is never a pass."""
    y = paired["y"].copy()
    few = (paired["site"] == "C").to_numpy() & (y == 1).to_numpy()
    y[np.flatnonzero(few)[5:]] = 0  # site C keeps 5 events
    res = compare(y, paired["score_a"], paired["score_b"], groups=paired["site"],
                  criteria={"auroc_difference_ci_high": ("<=", 0.5)},
                  criteria_scope="subgroups")  # fmt: skip
    c_row = res.row("auroc", "site=C")
    assert c_row.difference is not None and "fewer than 10 events" in c_row.not_evaluable
    assert c_row.passed is None and res.row("auroc").passed is True
    assert res.passed is None and res.verdict == "not evaluable"
    assert any("not evaluated" in w and "site=C" in w for w in res.warnings)
    same = compare(paired["y"], paired["score_a"], paired["score_a"],
                   criteria={"auroc_difference": ("<=", 0.0)})  # fmt: skip
    assert "zero width" in same.row("auroc").not_evaluable and same.passed is None
    # a failure elsewhere still fails the whole comparison
    failing = compare(y, paired["score_a"], paired["score_b"], groups=paired["site"],
                      criteria={"auroc_difference_ci_high": ("<=", -0.5)},
                      criteria_scope="subgroups")  # fmt: skip
    assert failing.passed is False and failing.row("auroc", "site=C").passed is None
