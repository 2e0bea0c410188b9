"""Subject identifiers as type-tagged bytes, the form independence() hashes and compares.

``42`` and ``"42"`` are different identifiers (``i:42`` and ``s:42``); a column
that mixes them, has missing values or fractional numbers is refused, because a
subject that cannot be identified cannot be shown to be independent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cmlops.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["IndependenceInputError", "canonical_ids"]


class IndependenceInputError(InvalidInputError):
    """A frame, column, key or tolerance given to independence() cannot be used."""


def _id_kind(values: np.ndarray, column: str, where: str) -> str:
    """'int' or 'str' for a column of identifiers; refuses anything else."""
    import pandas as pd

    inferred = pd.api.types.infer_dtype(values, skipna=False)
    if inferred in ("string", "empty"):
        return "str"
    if inferred == "integer":
        return "int"
    kinds = {
        "int"
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
        else "str"
        if isinstance(v, str)
        else type(v).__name__
        for v in values
    }
    if len(kinds) > 1:
        raise IndependenceInputError(
            f"id column {column!r} in {where} mixes {' and '.join(sorted(kinds))} values: "
            "convert it to one type (e.g. .astype(str)) in both sets"
        )
    kind = kinds.pop() if kinds else "str"
    if kind not in ("int", "str"):
        raise IndependenceInputError(
            f"id column {column!r} in {where} holds {kind} values: "
            "identifiers must be integers or strings"
        )
    return kind


def canonical_ids(frame: pd.DataFrame, column: str, where: str) -> tuple[list[bytes], str]:
    """Each row's identifier as type-tagged bytes (``i:42``, ``s:AB-7``) and the id type."""
    import pandas as pd

    if column not in frame.columns:
        raise IndependenceInputError(
            f"id column {column!r} is not in {where} (columns: "
            f"{', '.join(map(str, list(frame.columns)[:10]))}): pass the subject id column"
        )
    series = frame[column]
    if isinstance(series, pd.DataFrame):
        raise IndependenceInputError(f"{where} has more than one column named {column!r}")
    missing = int(series.isna().sum())
    if missing:
        raise IndependenceInputError(
            f"id column {column!r} has {missing} missing values in {where}: a subject without "
            "an id cannot be shown to be independent; fill or drop those rows"
        )
    if series.dtype.kind == "b":
        raise IndependenceInputError(f"id column {column!r} in {where} is boolean, not an id")
    if series.dtype.kind == "f":
        values = series.to_numpy()
        if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
            raise IndependenceInputError(
                f"id column {column!r} in {where} holds fractional numbers: "
                "identifiers must be integers or strings"
            )
        return [f"i:{int(v)}".encode() for v in values], "int"
    if series.dtype.kind in "iu":
        return [f"i:{int(v)}".encode() for v in series.to_numpy()], "int"
    values = series.astype(object).to_numpy()
    kind = _id_kind(values, column, where)
    tag = "i" if kind == "int" else "s"
    return [f"{tag}:{v}".encode("utf-8", "surrogatepass") for v in values], kind
