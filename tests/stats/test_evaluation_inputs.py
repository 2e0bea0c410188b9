"""Bad input to evaluate(): a defined result with a warning, or a one-line error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cmlops.errors import InvalidInputError
from cmlops.stats.evaluation import EvaluationInputError, evaluate


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(size=n) - 1)
    return rng.binomial(1, p), p


def test_error_class_is_an_invalid_input_error():
    assert issubclass(EvaluationInputError, InvalidInputError)
    assert issubclass(EvaluationInputError, ValueError)


def test_one_class_gives_defined_result_with_warning_not_nan():
    p = np.linspace(0.05, 0.6, 50)
    r = evaluate(np.zeros(50, dtype=int), p, threshold=0.3)
    assert r.value("auroc") is None and "one outcome class" in r.metric("auroc").note
    assert r.value("calibration_slope") is None
    assert r.value("brier") == pytest.approx(np.mean(p**2))  # still defined
    assert r.value("specificity", threshold=0.3) == pytest.approx(np.mean(p < 0.3))
    assert r.value("sensitivity", threshold=0.3) is None  # no events: zero denominator
    assert r.value("oe_ratio") == 0.0
    assert any("only one class" in w for w in r.warnings)
    json.dumps(r.to_dict(), allow_nan=False)


def test_one_class_fails_a_criterion_instead_of_passing_silently():
    r = evaluate(np.ones(20, dtype=int), np.full(20, 0.7), criteria={"auroc": (">=", 0.5)})
    assert r.passed is False and r.metric("auroc").passed is False


@pytest.mark.parametrize("bad", [1.2, -0.1])
def test_probabilities_outside_unit_interval_are_an_error(bad):
    y, p = _data()
    p[3] = bad
    with pytest.raises(EvaluationInputError, match=r"outside \[0, 1\].*scores='logit'"):
        evaluate(y, p)


def test_nan_is_an_error_naming_the_count_or_dropped_with_warning():
    y, p = _data()
    y = y.astype(float)
    y[[1, 2]] = np.nan
    p[5] = np.nan
    with pytest.raises(EvaluationInputError, match=r"^3 rows have a missing outcome or score"):
        evaluate(y, p)
    r = evaluate(y, p, missing="drop")
    assert r.n == 397
    assert r.warnings[0].startswith("dropped 3 of 400 rows")


def test_length_mismatch_non_binary_and_labels():
    y, p = _data()
    with pytest.raises(EvaluationInputError, match="y_true has 400 values but y_score has 399"):
        evaluate(y, p[:-1])
    with pytest.raises(EvaluationInputError, match="must be binary 0/1, found 1 other"):
        evaluate(np.r_[y[:-1], 2], p)
    labels = np.where(y == 1, "dead", "alive")
    with pytest.raises(EvaluationInputError, match="pos_label"):
        evaluate(labels, p)
    r = evaluate(labels, p, pos_label="dead")
    assert r.events == int(y.sum())
    assert evaluate(y.astype(bool), p).value("auroc") == pytest.approx(r.value("auroc"))


def test_other_bad_arguments_give_one_line_errors():
    y, p = _data()
    cases = [
        (lambda: evaluate(y, np.where(np.arange(400) == 0, np.inf, p)), "infinite"),
        (lambda: evaluate(y, np.c_[p, p]), "one-dimensional"),
        (lambda: evaluate([], []), "empty"),
        (lambda: evaluate(y, p, threshold=1.5), "must lie in"),
        (lambda: evaluate(y, p, scores="prob"), "scores must be one of"),
        (lambda: evaluate(y, p, missing="skip"), "missing must be"),
        (lambda: evaluate(y, p, groups=np.arange(10)), "has 10 values"),
        (lambda: evaluate(y, np.array(["a"] * 400)), "numeric"),
        (lambda: evaluate(y, p, level=95), "level"),
        (lambda: evaluate(y, p, thresholds=[np.nan]), "finite"),
        (lambda: evaluate(y, p, thresholds=["high"]), "must be numbers"),
    ]
    for call, pattern in cases:
        with pytest.raises(EvaluationInputError, match=pattern) as info:
            call()
        assert "\n" not in str(info.value)


def test_thresholds_accept_arrays_and_scalars():
    y, p = _data()
    a = evaluate(y, p, thresholds=np.array([0.3, 0.1]))
    assert a.thresholds == [0.1, 0.3]
    assert evaluate(y, p, thresholds=0.3, threshold=0.3).thresholds == [0.3]


@pytest.mark.req("REQ-STA-004")
def test_empty_subgroup_and_one_class_subgroup_are_reported():
    y, p = _data(300)
    site = pd.Series(pd.Categorical(np.where(np.arange(300) < 250, "A", "B"),
                                    categories=["A", "B", "C"]), name="site")  # fmt: skip
    y = y.copy()
    y[250:] = 0  # site B has no events
    r = evaluate(y, p, threshold=0.3, groups=site)
    assert r.subgroups == ["site=A", "site=B", "site=C"]
    empty = r.metric("prevalence", "site=C")
    assert empty.n == 0 and empty.value is None and empty.note == "empty subgroup"
    assert r.value("auroc", "site=B") is None
    assert r.value("specificity", "site=B", 0.3) is not None
    assert any("site=C has no cases" in w for w in r.warnings)
    assert any(w.startswith("site=B: only one class") for w in r.warnings)
    # the AUROC gap needs two subgroups with an AUROC: only A has one
    assert r.value("auroc_gap", "site") is None
    json.dumps(r.to_dict(), allow_nan=False)


def test_missing_group_labels_form_their_own_subgroup():
    y, p = _data(200)
    g = pd.Series(np.where(np.arange(200) % 4 == 0, None, "x"), name="arm")
    r = evaluate(y, p, groups=g)
    assert "arm=<missing>" in r.subgroups
    assert r.metric("prevalence", "arm=<missing>").n == 50


def test_perfect_separation_is_flagged_not_hidden():
    y = np.r_[np.zeros(30), np.ones(30)].astype(int)
    p = np.r_[np.full(30, 0.2), np.full(30, 0.8)]
    r = evaluate(y, p)
    assert r.value("auroc") == 1.0
    assert any("did not converge" in w for w in r.warnings)


def test_subgroups_follow_value_order_and_all_is_reserved():
    y, p = _data(300)
    r = evaluate(y, p, groups=pd.Series(np.arange(300) % 11 + 1, name="site"))
    assert r.subgroups[:3] == ["site=1", "site=2", "site=3"] and r.subgroups[-1] == "site=11"
    mixed = pd.Series([1 if i % 2 else "a" for i in range(300)], dtype=object, name="m")
    assert set(evaluate(y, p, groups=mixed).subgroups) == {"m=1", "m=a"}
    with pytest.raises(EvaluationInputError, match="has 300 subgroups, more than max_subgroups"):
        evaluate(y, p, groups=pd.Series(np.arange(300), name="subject"))
    assert len(evaluate(y, p, groups={"s": np.arange(300)}, max_subgroups=300).subgroups) == 300
    with pytest.raises(EvaluationInputError, match="cannot be named 'all'"):
        evaluate(y, p, groups={"all": np.zeros(300)})


def test_scores_of_exactly_zero_and_one_give_a_defined_result():
    """Hard 0/1 predictions (a rule, not a model) must not crash the calibration curve."""
    y = np.r_[np.zeros(30, dtype=int), np.ones(30, dtype=int)]
    p = y.astype(float)
    r = evaluate(y, p, threshold=0.5)
    assert r.value("auroc") == pytest.approx(1.0)
    assert r.value("sensitivity", threshold=0.5) == pytest.approx(1.0)
    assert r.value("brier") == pytest.approx(0.0)
    json.dumps(r.to_dict(), allow_nan=False)
    mixed = evaluate(np.r_[y, [1, 0]], np.r_[p, [0.0, 1.0]])  # two hard mistakes
    assert 0.9 < mixed.value("auroc") < 1.0
