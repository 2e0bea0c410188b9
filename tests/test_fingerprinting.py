"""Fingerprints name content: same content same string, any change another string."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmlops.fingerprint_schema import schema_summary
from cmlops.fingerprinting import (
    FingerprintOptions,
    FingerprintTooLargeError,
    UnfingerprintableError,
    fingerprint,
    fingerprint_file,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")


def make_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [61, 72, 55, 80],
            "bmi": [22.5, np.nan, 30.1, 27.0],
            "site": ["A", "B", None, "A"],
            "mixed": pd.Series(["x", 1, None, 2.5], dtype=object),
            "arm": pd.Categorical(["drug", "placebo", "drug", "drug"]),
            "visit": pd.date_range("2024-01-01", periods=4, tz="Europe/Paris"),
            "naive": pd.date_range("2024-01-01", periods=4),
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "arrow_int": pd.array([1, None, 3, 4], dtype="int64[pyarrow]"),
            "arrow_str": pd.array(["a", None, "c", "d"], dtype="string[pyarrow]"),
            "py_str": pd.array(["a", None, "c", "d"], dtype="string[python]"),
        },
        index=pd.Index([10, 11, 12, 13], name="subject"),
    )


def test_format_and_identical_content() -> None:
    fp = fingerprint(make_frame())
    assert fp.startswith("blake3:") and len(fp) == len("blake3:") + 64
    assert fp == fingerprint(make_frame())
    assert fp == fingerprint(make_frame().copy(deep=True))


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.assign(age=[61, 72, 55, 81]),
        lambda df: df.assign(bmi=[22.5, np.nan, 30.1, 27.000001]),
        lambda df: df.assign(site=["A", "B", None, "a"]),
        lambda df: df.rename(columns={"age": "Age"}),
        lambda df: df.astype({"age": "int32"}),
        lambda df: df.astype({"age": "float64"}),
        lambda df: df.iloc[[1, 0, 2, 3]],
        lambda df: df.iloc[[1, 0, 2, 3]].set_axis(df.index),
        lambda df: df.rename_axis("patient"),
        lambda df: df.set_axis([10, 11, 12, 14]),
        lambda df: df[list(reversed(df.columns))],
        lambda df: df.assign(visit=df["visit"].dt.tz_convert("UTC")),
        lambda df: df.assign(arm=df["arm"].cat.set_categories(["drug", "placebo", "x"])),
        lambda df: df.assign(arm=df["arm"].cat.as_ordered()),
        lambda df: df.assign(count=pd.array([1, 2, 3, 4], dtype="Int64")),
        lambda df: df.assign(count=pd.array([1, 0, 3, 4], dtype="Int64")),
        lambda df: df.assign(flag=pd.array([True, False, False, True], dtype="boolean")),
        lambda df: df.assign(arrow_int=pd.array([1, 0, 3, 4], dtype="int64[pyarrow]")),
        lambda df: df.assign(mixed=np.array(["x", "1", None, 2.5], dtype=object)),
        lambda df: df.assign(mixed=np.array(["x", 1, np.nan, 2.5], dtype=object)),
        lambda df: df.iloc[:3],
    ],
)
@pytest.mark.req("REQ-FP-001")
def test_any_change_changes_fingerprint(change) -> None:
    assert fingerprint(change(make_frame())) != fingerprint(make_frame())


def test_nan_vs_none_in_object_columns() -> None:
    with_none = pd.Series(["a", None], dtype=object)
    with_nan = pd.Series(["a", np.nan], dtype=object)
    assert fingerprint(with_none) != fingerprint(with_nan)


def test_string_boundaries_matter() -> None:
    assert fingerprint(pd.Series(["ab", "c"])) != fingerprint(pd.Series(["a", "bc"]))
    assert fingerprint(["ab", "c"]) != fingerprint(["a", "bc"])


@pytest.mark.req("REQ-FP-001")
def test_memory_layout_does_not_matter() -> None:
    rng = np.random.default_rng(1)
    c_order = rng.normal(size=(300, 7))
    assert fingerprint(c_order) == fingerprint(np.asfortranarray(c_order))
    strided = c_order[::2, ::3]
    assert fingerprint(strided) == fingerprint(strided.copy())
    assert fingerprint(c_order) != fingerprint(c_order.T)
    # a frame built from one block or from separate columns
    one_block = pd.DataFrame(c_order, columns=list("abcdefg"))
    by_column = pd.DataFrame({k: c_order[:, i].copy() for i, k in enumerate("abcdefg")})
    assert fingerprint(one_block) == fingerprint(by_column)


def test_nan_payload_and_byte_order_are_canonical() -> None:
    a = np.array([1.0, np.nan, 3.0])
    other_nan = a.copy()
    other_nan.view(np.uint64)[1] = 0x7FF8000000000001  # another NaN bit pattern
    assert np.isnan(other_nan[1])
    assert fingerprint(a) == fingerprint(other_nan)
    assert fingerprint(a) == fingerprint(a.astype(">f8"))


def test_pyarrow_chunking_does_not_matter() -> None:
    import pyarrow as pa

    chunked = pa.chunked_array([["a", "b"], [None, "dd"]])
    one = pa.chunked_array([["a", "b", None, "dd"]])
    s1 = pd.Series(pd.arrays.ArrowExtensionArray(chunked))
    s2 = pd.Series(pd.arrays.ArrowExtensionArray(one))
    assert fingerprint(s1) == fingerprint(s2)
    sliced = pa.chunked_array([pa.array(["z", "a", "b", None, "dd"]).slice(1)])
    assert fingerprint(pd.Series(pd.arrays.ArrowExtensionArray(sliced))) == fingerprint(s1)


def test_string_storage_is_not_content() -> None:
    py = pd.Series(["a", None, "c"], dtype="string[python]")
    ar = pd.Series(["a", None, "c"], dtype="string[pyarrow]")
    assert fingerprint(py) == fingerprint(ar)


def test_multiindex() -> None:
    idx = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["site", "visit"])
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=idx)
    assert fingerprint(df) == fingerprint(df.copy())
    assert fingerprint(df) != fingerprint(df.rename_axis(["site", "week"]))
    swapped = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 2)], names=["site", "visit"])
    assert fingerprint(df) != fingerprint(df.set_axis(swapped))


@pytest.mark.req("REQ-FP-001")
def test_deterministic_across_processes() -> None:
    code = (
        "import numpy as np, pandas as pd; from cmlops import fingerprint;"
        "print(fingerprint(pd.DataFrame({'a': [1.5, None], 's': ['x', None],"
        " 'c': pd.Categorical(['u', 'v'])})))"
    )
    outs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        outs.add(out.stdout.strip())
    local = fingerprint(
        pd.DataFrame({"a": [1.5, None], "s": ["x", None], "c": pd.Categorical(["u", "v"])})
    )
    assert outs == {local}


@pytest.mark.req("REQ-FP-001")
def test_models_fitted_state_and_params() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), np.array([0, 1] * 25)
    a = LogisticRegression(C=1.0).fit(x, y)
    b = LogisticRegression(C=1.0).fit(x, y)
    c = LogisticRegression(C=0.1).fit(x, y)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    assert fingerprint(a) != fingerprint(LogisticRegression(C=1.0).fit(x[::-1], y))
    assert fingerprint(LogisticRegression()) != fingerprint(a)
    summary = schema_summary(a)
    assert summary["class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert summary["params"]["C"] == 1.0


def test_unfingerprintable_and_size_limit(monkeypatch) -> None:
    with pytest.raises(UnfingerprintableError, match="generator"):
        fingerprint(x for x in range(3))
    big = np.zeros(1000)
    with pytest.raises(FingerprintTooLargeError, match="over the fingerprint limit"):
        fingerprint(big, options=FingerprintOptions(max_bytes=100))
    monkeypatch.setenv("CMLOPS_MAX_FINGERPRINT_BYTES", "100")
    with pytest.raises(FingerprintTooLargeError):
        fingerprint(big)
    monkeypatch.setenv("CMLOPS_MAX_FINGERPRINT_BYTES", "0")
    assert fingerprint(big).startswith("blake3:")
    monkeypatch.setenv("CMLOPS_MAX_FINGERPRINT_BYTES", "lots")
    with pytest.raises(ValueError, match="not an integer"):
        fingerprint(big)


@pytest.mark.req("REQ-FP-001")
def test_file_fingerprint_is_sha256_of_bytes(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert fingerprint_file(path) == "sha256:" + hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_schema_summary_counts_missing() -> None:
    summary = schema_summary(make_frame())
    assert summary["rows"] == 4
    columns = {c["name"]: c for c in summary["columns"]}
    assert columns["bmi"] == {"name": "bmi", "dtype": "float64", "missing": 1}
    assert columns["count"]["dtype"] == "Int64" and columns["count"]["missing"] == 1
    assert summary["index"]["names"] == ["subject"]
    assert schema_summary(np.zeros((2, 3)))["shape"] == [2, 3]


def test_refits_of_a_pipeline_differ_and_count_as_fitted() -> None:
    """A Pipeline keeps its fitted state in its steps: two fits must not share a fingerprint."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from cmlops.estimators import is_fitted

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    unfitted = make_pipeline(StandardScaler(), LogisticRegression())
    assert not is_fitted(unfitted)
    one = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:100], y[:100])
    two = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[100:], y[100:])
    again = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:100], y[:100])
    assert is_fitted(one) and is_fitted(two)
    assert fingerprint(one) != fingerprint(two)
    assert fingerprint(one) == fingerprint(again)
