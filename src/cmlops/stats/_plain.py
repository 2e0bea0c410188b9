"""Turn result payloads into plain JSON values: no NaN/inf, no numpy or pandas scalars.

Results are stored in the audit log as canonical JSON (RFC 8785), which has no NaN
and no numpy types, so every ``to_dict()`` of the evaluation and validation results
passes through :func:`to_plain`.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["to_plain"]


def to_plain(value: Any) -> Any:
    """Recursively convert ``value`` to JSON-compatible Python (NaN and inf become None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v) for v in items]
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        if isinstance(value, pd.Timedelta):
            return value.isoformat()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)
