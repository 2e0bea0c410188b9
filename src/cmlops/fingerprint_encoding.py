"""How fingerprinting encodes what has no single byte form: labels, missing values, state.

``1`` and ``"1"`` are different column labels, ``None``, ``NaN``, ``pd.NA`` and
``pd.NaT`` are different missing values, and an object's pickled state is
hashed only when it is plain data. Used by :mod:`cmlops.fingerprint_stream`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def encode_label(value: Any) -> Any:
    """A column or index label as JSON, keeping its type (1 and '1' differ)."""
    if isinstance(value, tuple):
        return ["tuple", *[encode_label(v) for v in value]]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | np.integer):
        return ["int", int(value)]
    if isinstance(value, float | np.floating):
        return ["float", repr(float(value))]
    return [type(value).__name__, str(value)]


def pickled_state(value: Any) -> Any:
    """An object's ``__getstate__`` when it is plain data (dict, tuple, list), else None."""
    getstate = getattr(value, "__getstate__", None)
    if getstate is None or type(value).__module__ == "builtins":
        return None
    try:
        state = getstate()
    except TypeError:
        return None
    return state if isinstance(state, dict | tuple | list) else None


def missing_kind(value: Any) -> int:
    """Which missing value: 1 None, 2 NaN, 3 pd.NA, 4 pd.NaT, 5 anything else."""
    if value is None:
        return 1
    pd = sys.modules.get("pandas")
    if pd is not None and value is pd.NA:
        return 3
    if pd is not None and value is pd.NaT:
        return 4
    if isinstance(value, float | np.floating):
        return 2
    return 5


def is_arrow_string(dtype: Any) -> bool:
    """A pandas dtype backed by an Arrow string or large string."""
    pyarrow_dtype = getattr(dtype, "pyarrow_dtype", None)
    if pyarrow_dtype is None:
        return False
    import pyarrow as pa

    return pa.types.is_string(pyarrow_dtype) or pa.types.is_large_string(pyarrow_dtype)
