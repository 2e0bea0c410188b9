"""Real results from the real ``cmlops.stats`` functions, with hostile user strings inside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT_BREAK = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="session")
def drift_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 400
    ref = pd.DataFrame(
        {
            "age": rng.normal(50, 10, n),
            "bmi": rng.normal(25, 4, n),
            "site": rng.choice(["A", "B", "C"], n),
            HOSTILE: rng.choice([HOSTILE, "b", "c"], n),
            SCRIPT_BREAK: rng.normal(0, 1, n),
        }
    )
    cur = ref.copy()
    cur["age"] = cur["age"] + 8  # strong shift: drifted, smallest p-value
    cur.loc[:40, "bmi"] = np.nan  # missing values
    cur[SCRIPT_BREAK] = cur[SCRIPT_BREAK] + 0.4  # moderate shift
    return ref, cur


@pytest.fixture(scope="session")
def drift_result(drift_frames):
    from cmlops.stats.drift import drift

    ref, cur = drift_frames
    return drift(ref, cur)


@pytest.fixture(scope="session")
def evaluation_result():
    from cmlops.stats.evaluation import evaluate

    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1)
    groups = rng.choice(["F", "M", HOSTILE], n)
    return evaluate(
        y,
        score,
        thresholds=[0.3, 0.5],
        groups={"sex": groups},
        criteria={"auroc_ci_low": (">=", 0.95)},
    )


@pytest.fixture(scope="session")
def validation_result():
    from cmlops.stats.validation import infer_schema, validate

    rng = np.random.default_rng(5)
    n = 300
    good = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.normal(50, 10, n).round(1),
            "site": rng.choice(["A", "B"], n),
        }
    )
    schema = infer_schema(good)
    bad = good.copy()
    bad.loc[3, "age"] = 500.0
    bad.loc[4, "site"] = HOSTILE
    return validate(bad, schema)


@pytest.fixture(scope="session")
def monitor_result():
    from cmlops.stats.monitoring import Trigger, monitor

    rng = np.random.default_rng(11)
    n = 2400
    x = rng.normal(size=n)
    x[1600:] += 1.0
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    p[1800:] = rng.uniform(0, 1, n - 1800)
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2024-01-01", periods=n, freq="h"),
            "x": x,
            "y": y,
            "p": p,
        }
    )
    return monitor(
        frame,
        time="t",
        window="30D",
        target="y",
        prediction="p",
        triggers=[
            Trigger.auroc_below(0.7),
            Trigger.calibration_slope_outside(0.8, 1.2),
            Trigger.feature_drift(),
        ],
    )
