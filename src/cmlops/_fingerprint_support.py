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


def nested_estimators(obj: Any) -> list[tuple[str, Any]]:
    """Parameters of a meta-estimator that hold estimators (a Pipeline's ``steps`` ...).

    A Pipeline fits its steps in place and keeps no fitted attribute of its own, so
    its fitted state lives in these parameters: without them two different fits of
    one Pipeline would look identical.
    """
    out = []
    for name, value in sorted(obj.get_params(deep=False).items()):
        if is_estimator(value) or (
            isinstance(value, list | tuple)
            and any(
                is_estimator(v) or (isinstance(v, tuple) and any(is_estimator(x) for x in v))
                for v in value
            )
        ):
            out.append((name, value))
    return out


def is_fitted(obj: Any) -> bool:
    """A fitted estimator: scikit-learn's own test when it has one, else fitted attributes."""
    if not is_estimator(obj):
        return False
    own_test = getattr(obj, "__sklearn_is_fitted__", None)
    if callable(own_test):
        try:
            return bool(own_test())
        except Exception:  # noqa: BLE001 - a broken check means "cannot tell": not fitted
            return False
    return bool(fitted_state(obj))


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
