"""How a pandas column becomes the input of a drift test: its kind, floats, counts, seconds.

Shared by the pandas path (:mod:`cmlops.stats.drift`) and the Spark path, whose
pandas side is profiled with the same rules (:mod:`cmlops.stats.spark_profile`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cmlops.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["as_frame", "column_kind", "epoch_seconds", "float_values", "label_counts"]


def as_frame(obj: Any, label: str) -> pd.DataFrame:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return obj
    try:
        return pd.DataFrame(obj)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{label} must be a pandas DataFrame (or convertible to one): {exc}"
        ) from None


def column_kind(s, force_cat: bool) -> str:
    import pandas as pd

    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "categorical"
    if isinstance(dt, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dt):
        return "categorical" if force_cat else "numeric"
    if dt is np.dtype(object) and pd.api.types.infer_dtype(s, skipna=True) in (
        "datetime",
        "datetime64",
    ):
        return "datetime"
    return "categorical"


def float_values(s) -> np.ndarray:
    if s.dtype == np.float64:
        return s.to_numpy(copy=False)  # NaN already marks missing; no copy
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def label_counts(s) -> tuple[Any, np.ndarray, int]:
    """(labels, counts, number missing) of one column."""
    import pandas as pd

    if s.dtype is np.dtype(object):
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
        return list(uniques), counts[1:], int(counts[0])
    vc = s.value_counts(dropna=True, sort=False)
    counts = vc.to_numpy(dtype=np.int64)
    return list(vc.index), counts, int(len(s) - counts.sum())


def epoch_seconds(s) -> tuple[np.ndarray | None, str, str]:
    import pandas as pd

    note = ""
    if s.dtype is np.dtype(object):
        try:
            s = pd.to_datetime(s, utc=True)
        except (TypeError, ValueError) as exc:
            return None, f"object column of datetimes could not be converted: {exc}", ""
        note = "object datetimes with mixed time zones converted to UTC"
        tz = "aware"
    elif isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        tz = "aware"
    else:
        tz = "naive"
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    values = s.to_numpy(dtype="datetime64[ns]")
    nat = np.isnat(values)
    out = values.astype(np.int64).astype(np.float64) / 1e9
    out[nat] = np.nan
    return out, note, tz
