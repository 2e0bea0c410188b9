"""The byte stream a content fingerprint hashes: a small, documented framing.

Every part is preceded by a tag and a length, so that no two different
contents can produce the same stream (``["ab", "c"]`` and ``["a", "bc"]`` hash
differently), and every value is written in a form independent of its memory
layout (C or Fortran order, strided views, pyarrow chunks). Objects with no
stable content (generators, open handles, GPU tensors) are refused with
:class:`UnfingerprintableError`. :func:`cmlops.fingerprinting.fingerprint`
feeds a BLAKE3 hasher through :class:`FramedStream`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import struct
import sys
from typing import Any

import numpy as np

from cmlops.errors import InvalidInputError
from cmlops.estimators import estimator_params, fitted_state, is_estimator, nested_estimators
from cmlops.fingerprint_encoding import (
    encode_label,
    is_arrow_string,
    missing_kind,
    pickled_state,
)

_CHUNK_ROWS_BYTES = 64 * 1024**2  # copy non-contiguous arrays in blocks of ~64 MB


class UnfingerprintableError(InvalidInputError):
    """The object has no stable content to hash (generator, open handle, GPU tensor...)."""


def _pandas() -> Any:
    return sys.modules.get("pandas")


class FramedStream:
    """Writes the framed byte stream of an object into a hasher (``obj`` is the entry point)."""

    def __init__(self, hasher: Any) -> None:
        self.h = hasher
        self.in_model = 0  # > 0 while hashing an estimator's fitted state

    def tag(self, name: str, payload: bytes = b"") -> None:
        head = name.encode()
        self.h.update(struct.pack("<I", len(head)) + head + struct.pack("<Q", len(payload)))
        if payload:
            self.h.update(payload)

    def meta(self, name: str, value: Any) -> None:
        self.tag(name, json.dumps(value, sort_keys=True, default=str).encode())

    # -- dispatch
    def obj(self, obj: Any) -> None:
        pd = _pandas()
        if pd is not None:
            if isinstance(obj, pd.DataFrame):
                return self.frame(obj)
            if isinstance(obj, pd.Series):
                self.meta("series", {"name": encode_label(obj.name)})
                self.index(obj.index)
                return self.values(obj.array)
            if isinstance(obj, pd.Index):
                return self.index(obj)
        if isinstance(obj, np.ndarray):
            return self.ndarray(obj)
        if is_estimator(obj):
            return self.estimator(obj)
        self.scalar_or_container(obj)

    def frame(self, df: Any) -> None:
        self.meta("frame", {"columns": [encode_label(c) for c in df.columns], "rows": len(df)})
        self.index(df.columns, role="columns")
        self.index(df.index)
        for position in range(df.shape[1]):
            self.values(df.iloc[:, position].array)

    def index(self, index: Any, role: str = "index") -> None:
        self.meta(role, {"names": [encode_label(n) for n in index.names], "levels": index.nlevels})
        for level in range(index.nlevels):
            self.values(index.get_level_values(level).array)

    def estimator(self, est: Any) -> None:
        cls = f"{type(est).__module__}.{type(est).__qualname__}"
        self.meta("estimator", {"class": cls, "params": estimator_params(est)})
        self.in_model += 1
        try:
            for name, value in fitted_state(est).items():
                self.tag("attr", name.encode())
                self.obj(value)
            for name, value in nested_estimators(est):
                self.tag("param", name.encode())
                self.obj(value)
        finally:
            self.in_model -= 1

    # -- column values (ExtensionArray or numpy)
    def values(self, arr: Any) -> None:
        pd = _pandas()
        if isinstance(arr, pd.arrays.NumpyExtensionArray) and not isinstance(
            arr.dtype, pd.StringDtype
        ):
            arr = arr.to_numpy()
        dtype = arr.dtype
        self.tag("dtype", str(dtype).encode())
        if isinstance(arr, np.ndarray):
            return self.ndarray(arr, framed=False)
        if isinstance(dtype, pd.CategoricalDtype):
            self.meta("categorical", {"ordered": bool(dtype.ordered)})
            self.values(dtype.categories.array)
            return self.ndarray(np.asarray(arr.codes), framed=False)
        if isinstance(dtype, pd.StringDtype) or is_arrow_string(dtype):
            return self.arrow_strings(arr)
        if isinstance(dtype, pd.ArrowDtype):
            return self.arrow(arr.__arrow_array__())
        if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind in "mM":
            return self.ndarray(np.asarray(arr.asi8), framed=False)
        if hasattr(arr, "_data") and hasattr(arr, "_mask"):  # Int64, Float64, boolean
            mask = np.asarray(arr.isna())
            numpy_dtype = dtype.numpy_dtype
            data = arr.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
            self.ndarray(mask, framed=False)
            return self.ndarray(data, framed=False)
        if isinstance(dtype, pd.PeriodDtype):
            return self.ndarray(np.asarray(arr.asi8), framed=False)
        return self.objects(np.asarray(arr, dtype=object))

    def arrow(self, chunked: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        array = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
        typ = array.type
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            return self._string_buffers(array)
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
            self.ndarray(np.asarray(array.is_null()), framed=False)
            filled = pc.fill_null(array, False if pa.types.is_boolean(typ) else 0)
            return self.ndarray(filled.to_numpy(zero_copy_only=False), framed=False)
        if pa.types.is_timestamp(typ) or pa.types.is_date(typ) or pa.types.is_duration(typ):
            self.ndarray(np.asarray(array.is_null()), framed=False)
            as_int = array.cast(pa.int64() if typ.bit_width == 64 else pa.int32())
            return self.ndarray(pc.fill_null(as_int, 0).to_numpy(), framed=False)
        self.objects(np.asarray(array.to_pylist(), dtype=object))

    def arrow_strings(self, arr: Any) -> None:
        if hasattr(arr, "__arrow_array__"):
            try:
                return self.arrow(arr.__arrow_array__())
            except (ImportError, TypeError, ValueError, NotImplementedError):
                pass
        self.objects(np.asarray(arr, dtype=object))

    def _string_buffers(self, array: Any) -> None:
        """Hash a pyarrow string array: null mask, lengths via offsets, UTF-8 data."""
        import pyarrow as pa

        array = array.cast(pa.large_string())
        n = len(array)
        self.tag("strings", struct.pack("<Q", n))
        nulls = np.asarray(array.is_null()) if array.null_count else np.zeros(n, dtype=bool)
        self.ndarray(nulls, framed=False)
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype="<i8")[array.offset : array.offset + n + 1]
        start, stop = int(offsets[0]), int(offsets[-1])
        self.ndarray(offsets - start, framed=False)
        data = buffers[2]
        self.tag("utf8", b"")
        if data is not None and stop > start:
            self.h.update(memoryview(data)[start:stop])

    def objects(self, values: np.ndarray) -> None:
        """Object arrays: all-str fast path through pyarrow, else per element."""
        import pandas as pd

        missing = pd.isna(values)
        if missing.any():
            kinds = np.zeros(len(values), dtype=np.uint8)
            for position in np.flatnonzero(missing):
                kinds[position] = missing_kind(values[position])
            self.ndarray(kinds, framed=False)
        present = values[~missing] if missing.any() else values
        try:
            import pyarrow as pa

            strings = pa.array(present, type=pa.large_string())
        except (ImportError, TypeError, ValueError, ArithmeticError, LookupError):
            strings = None
        except Exception as exc:  # pyarrow's ArrowInvalid / ArrowTypeError
            if type(exc).__module__.startswith("pyarrow"):
                strings = None
            else:
                raise
        if strings is not None:
            self.tag("objects:str")
            return self._string_buffers(strings)
        self.tag("objects:mixed", struct.pack("<Q", len(present)))
        for value in present:
            self.scalar_or_container(value)

    def ndarray(self, arr: np.ndarray, framed: bool = True) -> None:
        if arr.dtype.hasobject:
            if framed:
                self.meta("ndarray", {"shape": list(arr.shape)})
            return self.objects(arr.reshape(-1))
        dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if framed:
            self.meta("ndarray", {"shape": list(arr.shape), "dtype": dtype.str})
        else:
            self.tag("raw", dtype.str.encode() + struct.pack("<Q", arr.size))
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim > 1 and not arr.flags.c_contiguous:
            rows_per_block = max(1, _CHUNK_ROWS_BYTES // max(1, arr[0].nbytes))
            for start in range(0, arr.shape[0], rows_per_block):
                self._contiguous(arr[start : start + rows_per_block], dtype)
            return
        self._contiguous(arr, dtype)

    def _contiguous(self, arr: np.ndarray, dtype: np.dtype) -> None:
        block = np.ascontiguousarray(arr, dtype=dtype)
        if block.dtype.kind in "fc":
            # one canonical NaN: the same missing value must not hash differently
            # a float sum is finite unless there is a NaN or an infinity: a cheap first test
            nan = None if np.isfinite(block.sum()) else np.isnan(block)
            if nan is not None and nan.any():
                block = block.copy()
                block[nan] = np.nan
            # -0.0 and 0.0 are different content (sign survives arithmetic); kept.
        self.h.update(memoryview(block.reshape(-1).view(np.uint8)))

    # -- plain Python values
    def scalar_or_container(self, value: Any) -> None:
        if self._plain(value) or self._temporal_or_pandas(value) or self._container(value):
            return None
        state = pickled_state(value) if self.in_model else None
        if state is not None:
            # compiled parts of fitted models (a tree's node table): their pickled state
            self.tag("state", f"{type(value).__module__}.{type(value).__qualname__}".encode())
            return self.scalar_or_container(state)
        raise UnfingerprintableError(
            f"cannot fingerprint a {type(value).__module__}.{type(value).__qualname__}: "
            "it has no stable content (convert it to a DataFrame, array or plain values)"
        )

    def _plain(self, value: Any) -> bool:
        """None, numbers, text, bytes, slices and decimals; True when ``value`` was one."""
        if value is None:
            self.tag("none")
        elif isinstance(value, bool | np.bool_):
            self.tag("bool", b"1" if value else b"0")
        elif isinstance(value, int | np.integer):
            self.tag("int", str(int(value)).encode())
        elif isinstance(value, float | np.floating):
            number = float(value)
            self.tag("float", b"nan" if math.isnan(number) else struct.pack("<d", number))
        elif isinstance(value, complex):
            self.tag("complex", struct.pack("<dd", value.real, value.imag))
        elif isinstance(value, str):
            self.tag("str", value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, bytes | bytearray | memoryview):
            self.tag("bytes", bytes(value))
        elif isinstance(value, slice | range):  # a ColumnTransformer's output_indices_
            self.scalar_or_container((type(value).__name__, value.start, value.stop, value.step))
        elif isinstance(value, decimal.Decimal):
            self.tag("decimal", str(value).encode())
        else:
            return False
        return True

    def _temporal_or_pandas(self, value: Any) -> bool:
        """Dates, times and durations (Python, NumPy, pandas), pandas missing values and
        pandas objects; True when ``value`` was one."""
        if isinstance(value, _dt.datetime | _dt.date | _dt.time | _dt.timedelta):
            self.tag(type(value).__name__, str(value).encode())
            return True
        if isinstance(value, np.datetime64 | np.timedelta64):
            self.tag(str(value.dtype), str(value).encode())
            return True
        pd = _pandas()
        if pd is None:
            return False
        if value is pd.NA:
            self.tag("pd.NA")
        elif value is pd.NaT:
            self.tag("NaT")
        elif isinstance(value, pd.Timestamp | pd.Timedelta | pd.Period | pd.Interval):
            self.tag(type(value).__name__, repr(value).encode())
        elif isinstance(value, pd.DataFrame | pd.Series | pd.Index):
            self.obj(value)
        else:
            return False
        return True

    def _container(self, value: Any) -> bool:
        """Arrays, estimators, lists, tuples, dicts and sets (in a stable order)."""
        if isinstance(value, np.ndarray) or is_estimator(value):
            self.obj(value)
        elif isinstance(value, list | tuple):
            self.tag(type(value).__name__, struct.pack("<Q", len(value)))
            for item in value:
                self.scalar_or_container(item)
        elif isinstance(value, dict):
            self.tag("dict", struct.pack("<Q", len(value)))
            for key in sorted(value, key=repr):
                self.scalar_or_container(key)
                self.scalar_or_container(value[key])
        elif isinstance(value, set | frozenset):
            self.tag("set", struct.pack("<Q", len(value)))
            for item in sorted(value, key=repr):
                self.scalar_or_container(item)
        else:
            return False
        return True
