"""Helpers of :mod:`cmlops.fingerprinting`: estimator detection, labels.

Kept apart so each module stays small; the public names are re-exported by
``cmlops.fingerprinting``.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_estimator(obj: Any) -> bool:
    """True for objects with the scikit-learn estimator API (get_params, fit)."""
    return (
        not isinstance(obj, type)
        and callable(getattr(obj, "get_params", None))
        and callable(getattr(obj, "fit", None))
    )


def fitted_state(obj: Any) -> dict[str, Any]:
    """The fitted attributes of an estimator (public names ending in ``_``)."""
    state: dict[str, Any] = {}
    for name in sorted(vars(obj)):
        if name.endswith("_") and not name.startswith("_") and not name.endswith("__"):
            state[name] = vars(obj)[name]
    return state


def is_fitted(obj: Any) -> bool:
    return is_estimator(obj) and bool(fitted_state(obj))


def _label(value: Any) -> Any:
    """A column or index label as JSON, keeping its type (1 and '1' differ)."""
    if isinstance(value, tuple):
        return ["tuple", *[_label(v) for v in value]]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | np.integer):
        return ["int", int(value)]
    if isinstance(value, float | np.floating):
        return ["float", repr(float(value))]
    return [type(value).__name__, str(value)]


def _pickled_state(value: Any) -> Any:
    getstate = getattr(value, "__getstate__", None)
    if getstate is None or type(value).__module__ == "builtins":
        return None
    try:
        state = getstate()
    except TypeError:
        return None
    return state if isinstance(state, dict | tuple | list) else None


def _missing_kind(value: Any) -> int:
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


def _is_arrow_string(dtype: Any) -> bool:
    pyarrow_dtype = getattr(dtype, "pyarrow_dtype", None)
    if pyarrow_dtype is None:
        return False
    import pyarrow as pa

    return pa.types.is_string(pyarrow_dtype) or pa.types.is_large_string(pyarrow_dtype)
