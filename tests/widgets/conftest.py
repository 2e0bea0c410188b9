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
