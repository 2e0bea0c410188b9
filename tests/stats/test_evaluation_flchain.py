"""evaluate() on a real public clinical data set: the Mayo serum free light chain cohort.

``sksurv.datasets.load_flchain()`` ships the Dispenzieri et al. (2012) cohort of 7,874
residents of Olmsted County. A logistic model of death from age, sex and the free
light chains is fitted on one half and evaluated on the other, by sex.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sksurv.datasets as sksurv_datasets  # the test extra installs scikit-survival
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from cmlops.stats.delong import auroc_delong
from cmlops.stats.evaluation import evaluate


@pytest.fixture(scope="module")
def flchain_predictions():
    x, y = sksurv_datasets.load_flchain()
    frame = pd.DataFrame(
        {
            "age": x["age"].astype(float),
            "male": (x["sex"] == "M").astype(float),
            "kappa": np.log(x["kappa"].astype(float)),
            "lambda": np.log(x["lambda"].astype(float)),
        }
    )
    death = y["death"].astype(int)
    rng = np.random.default_rng(2012)
    train = rng.random(len(frame)) < 0.5
    model = LogisticRegression(max_iter=1000).fit(frame[train], death[train])
    p = model.predict_proba(frame[~train])[:, 1]
    sex = x["sex"][~train].reset_index(drop=True).rename("sex")
    return death[~train], p, sex


@pytest.mark.req("REQ-STA-004")
def test_flchain_evaluation_by_sex(flchain_predictions):
    y, p, sex = flchain_predictions
    r = evaluate(y, p, thresholds=[0.2, 0.5], groups=sex,
                 criteria={"auroc_ci_low": (">=", 0.75)})  # fmt: skip
    assert abs(r.value("auroc") - roc_auc_score(y, p)) < 1e-12
    assert abs(r.value("auprc") - average_precision_score(y, p)) < 1e-12
    assert abs(r.value("brier") - brier_score_loss(y, p)) < 1e-12
    # age predicts death strongly in this cohort
    assert r.value("auroc") > 0.8 and r.passed is True
    # an out-of-sample logistic model is close to calibrated
    assert -0.3 < r.value("calibration_intercept") < 0.3
    assert 0.8 < r.value("calibration_slope") < 1.2
    assert r.subgroups == ["sex=F", "sex=M"]
    f = sex.to_numpy() == "F"
    assert r.metric("auroc", "sex=F").n == int(f.sum())
    assert r.metric("auroc", "sex=F").events == int(y[f].sum())
    d = auroc_delong(y[f], p[f])
    assert r.metric("auroc", "sex=F").ci_low == pytest.approx(d.ci_low, abs=1e-12)
    assert r.value("tpr_gap", "sex", 0.5) == pytest.approx(
        abs(r.value("sensitivity", "sex=F", 0.5) - r.value("sensitivity", "sex=M", 0.5))
    )
    assert r.warnings == []
    json.dumps(r.to_dict(), allow_nan=False)
