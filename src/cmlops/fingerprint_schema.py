"""The schema summary stored beside a fingerprint: columns, dtypes, rows, missing counts.

A fingerprint says *that* content changed; the summary lets a reviewer see
*what* changed in a dataset without the data — a renamed column, a new dtype,
more missing values — so capture records both for every tracked frame.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from cmlops.estimators import estimator_params, is_estimator
from cmlops.spark_frames import is_spark_frame


def schema_summary(obj: Any) -> dict[str, Any]:
    """A JSON-compatible summary: columns, dtypes, rows and missing counts.

    Stored beside the fingerprint so a reviewer sees *what* changed in a
    dataset without the data: a renamed column or a new dtype is visible.
    """
    if is_spark_frame(obj):
        from cmlops.spark_fingerprint import spark_schema_summary

        return spark_schema_summary(obj)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        return {
            "kind": "dataframe",
            "rows": len(obj),
            "columns": [
                {"name": str(name), "dtype": str(dtype), "missing": _missing(obj.iloc[:, i])}
                for i, (name, dtype) in enumerate(obj.dtypes.items())
            ],
            "index": _index_summary(obj.index),
        }
    if pd is not None and isinstance(obj, pd.Series):
        return {
            "kind": "series",
            "rows": len(obj),
            "name": None if obj.name is None else str(obj.name),
            "dtype": str(obj.dtype),
            "missing": _missing(obj),
            "index": _index_summary(obj.index),
        }
    if isinstance(obj, np.ndarray):
        missing = int(np.isnan(obj).sum()) if obj.dtype.kind in "fc" else 0
        return {
            "kind": "ndarray",
            "shape": [int(n) for n in obj.shape],
            "dtype": str(obj.dtype),
            "missing": missing,
        }
    if is_estimator(obj):
        return {
            "kind": "model",
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "params": estimator_params(obj),
        }
    return {"kind": type(obj).__name__}


def _missing(series: Any) -> int:
    """Missing values of a column; numeric columns without NaN cost one fast sum."""
    values = series.array
    if isinstance(values, sys.modules["pandas"].arrays.NumpyExtensionArray):
        array = values.to_numpy()
        if array.dtype.kind in "iub":
            return 0  # integer and bool NumPy columns cannot hold a missing value
        if array.dtype.kind in "fc" and np.isfinite(array.sum()):
            return 0
    return int(series.isna().sum())


def _index_summary(index: Any) -> dict[str, Any]:
    return {
        "type": type(index).__name__,
        "names": [None if n is None else str(n) for n in index.names],
        "dtypes": [str(index.get_level_values(i).dtype) for i in range(index.nlevels)],
    }
