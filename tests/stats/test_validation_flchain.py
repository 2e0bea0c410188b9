"""validate() on a real public clinical data set (Mayo flchain, shipped by scikit-survival)."""

from __future__ import annotations

import numpy as np
import pytest
import sksurv.datasets as sksurv_datasets  # the test extra installs scikit-survival

from cmlops.stats.schema import Schema
from cmlops.stats.validation import infer_schema, validate


@pytest.fixture(scope="module")
def flchain():
    x, _ = sksurv_datasets.load_flchain()
    return x


def _row(result, column, check):
    return next(c for c in result.checks if c.column == column and c.check == check)


@pytest.mark.req("REQ-STA-006")
def test_flchain_passes_its_own_inferred_schema(flchain):
    schema = Schema.from_json(infer_schema(flchain, name="flchain").to_json())
    assert schema.column("creatinine").nullable  # 1,350 missing creatinine values
    assert not schema.column("age").nullable
    assert schema.column("sex").check("allowed_values").value == ["F", "M"]
    r = validate(flchain, schema)
    assert r.verdict == "pass" and r.n_rows == 7874
    assert all(c.failing_rows == 0 for c in r.checks)


@pytest.mark.req("REQ-STA-006")
def test_flchain_corrupted_copy_is_caught(flchain):
    schema = infer_schema(flchain)
    schema.set_severity("kappa", "min", "fail")
    bad = flchain.copy()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(bad), size=25, replace=False)
    bad.loc[bad.index[rows[:10]], "kappa"] = -1.0  # impossible light-chain values
    bad.loc[bad.index[rows[10:15]], "age"] = np.nan  # missing ages
    bad["sex"] = bad["sex"].cat.add_categories(["U"])
    bad.loc[bad.index[rows[15:]], "sex"] = "U"  # undeclared code
    r = validate(bad, schema)
    assert _row(r, "kappa", "min").failing_rows == 10
    assert _row(r, "kappa", "min").status == "fail"
    assert _row(r, "age", "not_null").failing_rows == 5
    sex = _row(r, "sex", "allowed_values")
    assert (sex.failing_rows, sex.status) == (10, "warn")
    assert sex.examples[0]["value"] == "U"
    assert r.verdict == "fail"
    frame = r.to_frame()
    assert int(frame["failing_rows"].sum()) == 25
