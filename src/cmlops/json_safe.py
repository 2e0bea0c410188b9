"""The one JSON sanitiser: any value a result, record or fingerprint holds, as plain JSON.

Results are stored in the audit log as canonical JSON (RFC 8785), written into
packages and compared across versions, so every ``to_dict()``, every capture
payload and every estimator's parameters pass through :func:`json_safe`. One
behaviour, everywhere:

* ``None``, ``bool``, ``str`` stay; NumPy bools become ``bool`` and integers
  (Python or NumPy) ``int``; enums become their value.
* Floats (Python or NumPy) stay, except NaN, +inf and -inf, which become
  ``None``: JSON has no such numbers and RFC 8785 refuses them.
* Dates and times become ISO 8601 text (``2024-03-01T12:00:00+00:00``; pandas
  and NumPy timestamps keep their nanoseconds); durations become ISO 8601
  durations (``P0DT0H1M30S``); ``NaT``, ``pd.NA`` and NaN-like missing values
  become ``None``.
* Mappings become objects with text keys; lists and tuples arrays; sets arrays
  sorted by their JSON text (so the same set always gives the same array).
* NumPy arrays, pandas Series and Index become (nested) arrays, *whole*:
  evidence is never abbreviated here, and an array is never replaced by a
  truncated ``repr`` (two different arrays would then look the same). A caller
  that must bound the size does so before. A DataFrame becomes pandas' ``split``
  form ``{"columns", "index", "data"}``.
* ``bytes`` become lowercase hex.
* Functions, classes and objects without a repr of their own become their
  qualified name (``module.QualName``), never a text holding a memory address,
  which would differ between two runs of the same code.
* Anything else becomes ``default(value)`` when a ``default`` is given (as in
  :func:`json.dumps`), else ``str(value)``.

A container that holds itself is refused with a one-line
:class:`~cmlops.errors.InvalidInputError`: JSON cannot hold a cycle.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cmlops.errors import InvalidInputError

__all__ = ["json_safe", "qualified_name"]


def qualified_name(obj: Any) -> str:
    """``module.QualName`` of a function or class, or of an object's type."""
    target = obj if isinstance(obj, type) or hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"


def json_safe(value: Any, *, default: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as plain JSON-compatible Python, by the rules of this module's docstring."""
    return _Sanitiser(default).convert(value, "value")


class _Sanitiser:
    def __init__(self, default: Callable[[Any], Any] | None) -> None:
        self.default = default
        self.path_ids: set[int] = set()  # containers on the way down: a repeat is a cycle

    def convert(self, value: Any, where: str) -> Any:
        scalar = _scalar(value)
        if scalar is not _NOT_SCALAR:
            return scalar
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            return self.container(value, where)
        array = _as_array(value)
        if array is not None:
            return self.array(array, where)
        frame = _frame_split(value)
        if frame is not None:
            return self.convert(frame, where)
        if callable(value) or type(value).__repr__ is object.__repr__:
            return qualified_name(value)
        if self.default is not None:
            return self.convert(self.default(value), where)
        return str(value)

    def array(self, array: np.ndarray, where: str) -> Any:
        if array.dtype.kind in "biuf":  # plain numbers: NumPy's own fast conversion
            return self.convert(array.tolist(), where)
        if array.ndim == 0:
            return self.convert(array[()], where)
        # element by element, so datetime64 stays a date (tolist() gives nanosecond integers)
        if array.ndim == 1:
            return [self.convert(item, f"{where}[{i}]") for i, item in enumerate(array)]
        return [self.array(row, f"{where}[{i}]") for i, row in enumerate(array)]

    def container(self, value: Any, where: str) -> Any:
        if id(value) in self.path_ids:
            raise InvalidInputError(f"{where} contains itself: JSON cannot hold a cycle")
        self.path_ids.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {
                    _key(self.convert(k, where)): self.convert(v, f"{where}[{k!r}]")
                    for k, v in value.items()
                }
            items = [self.convert(v, f"{where}[{i}]") for i, v in enumerate(value)]
            if isinstance(value, (set, frozenset)):
                items.sort(key=_sort_text)
            return items
        finally:
            self.path_ids.discard(id(value))


_NOT_SCALAR = object()


def _scalar(value: Any) -> Any:
    """The JSON form of a scalar, or ``_NOT_SCALAR``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (np.datetime64, np.timedelta64)):  # timedelta64 is a NumPy integer
        return _time(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return _time(value)


def _time(value: Any) -> Any:
    """ISO 8601 text of a date, time or duration; None for a missing one."""
    pd = sys.modules.get("pandas")
    if pd is not None and (value is pd.NaT or value is pd.NA):
        return None
    if isinstance(value, (np.datetime64, np.timedelta64)):
        if np.isnat(value):
            return None
        if isinstance(value, np.timedelta64):
            return _duration(value)
        try:
            import pandas

            return pandas.Timestamp(value).isoformat()
        except (ValueError, OverflowError):  # outside pandas' nanosecond range
            return str(np.datetime_as_string(value))
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return _duration(value)
    return _NOT_SCALAR


def _duration(value: Any) -> str:
    import pandas

    try:
        return pandas.Timedelta(value).isoformat()
    except (ValueError, OverflowError):  # outside pandas' nanosecond range
        return str(value)


def _as_array(value: Any) -> np.ndarray | None:
    """NumPy arrays as they are; pandas Series, Index and extension arrays as object arrays."""
    if isinstance(value, np.ndarray):
        return value
    pd = sys.modules.get("pandas")
    extension_array = pd.api.extensions.ExtensionArray if pd is not None else ()
    if pd is not None and isinstance(value, (pd.Series, pd.Index, extension_array)):
        return np.asarray(value.to_numpy(dtype=object, na_value=None), dtype=object)
    return None


def _frame_split(value: Any) -> dict[str, Any] | None:
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return {
            "columns": list(value.columns),
            "index": list(value.index),
            "data": value.to_numpy(dtype=object, na_value=None).tolist(),
        }
    return None


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def _sort_text(item: Any) -> str:
    import json

    return json.dumps(item, sort_keys=True, ensure_ascii=False)
