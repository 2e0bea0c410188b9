"""Train/test independence (GMLP principle 4): shared subjects, duplicates, near-duplicates.

A test set that shares subjects with the training set measures memory, not
performance. :func:`independence` compares the two sets three ways:

* **subjects**: identifiers are compared in the kernel and only their salted
  HMAC-SHA256 digests leave it (the salt is random per call unless given, and is
  never stored — :mod:`cmlops.stats.independence_result`);
* **exact duplicate rows**: test rows equal to a training row on every column both
  sets have except the identifier (a subject re-enrolled under a new id);
* **near-duplicates**: test rows within a tolerance of a training row on every
  declared key column (e.g. date of birth ± 0, sex, site, age ± 1).

Identifiers must be one type (integers or strings) in both sets: ``"1001"`` and
``1001`` would never match, so a mixture is refused rather than under-counted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cmlops.stats.independence_result import (
    MAX_POSITIONS,
    IndependenceResult,
    id_digest,
    salt_id,
)
from cmlops.stats.subject_ids import IndependenceInputError, canonical_ids

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["IndependenceInputError", "IndependenceResult", "canonical_ids", "independence"]


_WORDS = {"int": "integer", "str": "string"}


def _frame(obj: Any, name: str) -> pd.DataFrame:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return obj
    raise IndependenceInputError(
        f"{name} must be a pandas DataFrame, not {type(obj).__name__}: read it with pandas first"
    )


def _subjects(
    train: pd.DataFrame, test: pd.DataFrame, column: str, salt: bytes, warnings: list[str]
) -> tuple[int, int, list[str], int, str]:
    train_ids, train_kind = canonical_ids(train, column, "train")
    test_ids, test_kind = canonical_ids(test, column, "test")
    if train_ids and test_ids and train_kind != test_kind:
        raise IndependenceInputError(
            f"id column {column!r} holds {_WORDS[train_kind]} values in train but "
            f"{_WORDS[test_kind]} values "
            "in test: convert both to one type (e.g. .astype(str)) so equal ids can match"
        )
    train_set, test_set = set(train_ids), set(test_ids)
    shared = train_set & test_set
    hashes = sorted(id_digest(salt, value) for value in shared)
    shared_rows = sum(1 for value in test_ids if value in shared)
    loose = _loose_matches(train_set, test_set)
    if loose > len(shared):
        warnings.append(
            f"{loose - len(shared)} more subjects match when case and surrounding spaces "
            f"of {column!r} are ignored: check how the ids were written"
        )
    return len(train_set), len(test_set), hashes, shared_rows, test_kind or train_kind


def _loose_matches(train_ids: set[bytes], test_ids: set[bytes]) -> int:
    """Shared string ids once case and surrounding spaces are ignored."""

    def loose(values: set[bytes]) -> set[bytes]:
        return {v[2:].strip().lower() for v in values if v.startswith(b"s:")}

    return len(loose(train_ids) & loose(test_ids))


def _duplicates(
    train: pd.DataFrame, test: pd.DataFrame, columns: list[str]
) -> tuple[int, list[int]]:
    """Test rows equal to some training row on ``columns`` (missing equals missing)."""
    import pandas as pd

    left = test[columns].reset_index(drop=True)
    left["__pos"] = np.arange(len(left))
    right = train[columns].drop_duplicates().assign(__hit=True)
    try:
        merged = left.merge(right, on=columns, how="inner")
    except (TypeError, ValueError) as exc:
        raise IndependenceInputError(
            f"cannot compare rows of train and test ({str(exc).splitlines()[0]}): give both "
            "sets the same column types"
        ) from None
    positions = sorted(set(pd.unique(merged["__pos"]).tolist()))
    return len(positions), positions[:MAX_POSITIONS]


def _check_keys(
    train: pd.DataFrame, test: pd.DataFrame, keys: Sequence[str], tolerances: Mapping[str, Any]
) -> dict[str, float]:
    for key in keys:
        for name, frame in (("train", train), ("test", test)):
            if key not in frame.columns:
                raise IndependenceInputError(f"key column {key!r} is not in {name}")
    clean: dict[str, float] = {}
    for key, value in tolerances.items():
        if key not in keys:
            raise IndependenceInputError(
                f"tolerance given for {key!r}, which is not a key column: add it to keys"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise IndependenceInputError(
                f"tolerance for {key!r} must be a number >= 0, not {value!r}"
            )
        if value and not (train[key].dtype.kind in "iuf" and test[key].dtype.kind in "iuf"):
            raise IndependenceInputError(
                f"key column {key!r} is not numeric in both sets: only numeric keys take a "
                "tolerance; compare it exactly instead"
            )
        if value:
            clean[key] = float(value)
    return clean


def _near_duplicates(
    train: pd.DataFrame, test: pd.DataFrame, keys: list[str], tolerances: dict[str, float]
) -> tuple[int, list[int], int]:
    """Test rows with a training row within tolerance on every key (Chebyshev on scaled keys).

    Exact keys are factorised over both sets and scaled so that any difference is a
    distance of 4; numeric keys with a tolerance are divided by it, so a training row
    within tolerance on every key is at distance <= 1. A k-d tree (SciPy) answers each
    test row's nearest training row in O(log n). Rows with a missing key are skipped.
    """
    import pandas as pd
    from scipy.spatial import cKDTree

    both = pd.concat([train[keys], test[keys]], ignore_index=True)
    present = ~both.isna().any(axis=1).to_numpy()
    columns = []
    for key in keys:
        if key in tolerances:
            columns.append(both[key].to_numpy(dtype=float) / tolerances[key])
        else:
            codes, _ = pd.factorize(both[key], use_na_sentinel=True)
            columns.append(codes.astype(float) * 4.0)
    points = np.column_stack(columns) if columns else np.zeros((len(both), 0))
    n_train = len(train)
    train_ok, test_ok = present[:n_train], present[n_train:]
    skipped = int((~test_ok).sum())
    if not train_ok.any() or not test_ok.any():
        return 0, [], skipped
    tree = cKDTree(points[:n_train][train_ok])
    test_index = np.flatnonzero(test_ok)
    distance, _ = tree.query(points[n_train:][test_ok], k=1, p=np.inf)
    hits = test_index[distance <= 1.0 + 1e-9]
    return int(hits.size), hits[:MAX_POSITIONS].tolist(), skipped


def _salt_bytes(salt: bytes | str | None) -> bytes:
    if salt is None:
        return os.urandom(32)
    value = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if len(value) < 16:
        raise IndependenceInputError(
            "the salt must have at least 16 bytes: a short salt lets anyone guess the ids back"
        )
    return value


def _row_checks(
    train: pd.DataFrame,
    test: pd.DataFrame,
    id_column: str | None,
    keys: list[str],
    tolerances: dict[str, float],
    exclude: Sequence[str],
    warnings: list[str],
) -> dict[str, Any]:
    """Exact duplicate rows (every shared column but the id) and near-duplicates on keys."""
    for column in exclude:
        if column not in train.columns and column not in test.columns:
            raise IndependenceInputError(f"excluded column {column!r} is in neither set")
    skip = {id_column, *exclude}
    columns = [c for c in train.columns if c in set(test.columns) and c not in skip]
    out: dict[str, Any] = {
        "columns": columns,
        "duplicate_rows": None,
        "duplicate_positions": [],
        "near_duplicates": None,
        "near_positions": [],
    }
    if columns:
        out["duplicate_rows"], out["duplicate_positions"] = _duplicates(train, test, columns)
    else:
        warnings.append("train and test share no column besides the id: duplicates not checked")
    if keys:
        near, positions, skipped = _near_duplicates(train, test, keys, tolerances)
        out["near_duplicates"], out["near_positions"] = near, positions
        if skipped:
            warnings.append(f"{skipped} test rows have a missing key value: not compared")
    return out


def independence(
    train: pd.DataFrame,
    test: pd.DataFrame,
    id: str | None = None,
    *,
    keys: Sequence[str] = (),
    tolerance: Mapping[str, float] | None = None,
    exclude: Sequence[str] = (),
    salt: bytes | str | None = None,
) -> IndependenceResult:
    """Compare a training and a test set for shared subjects, duplicates and near-duplicates.

    ``id`` names the subject identifier column (integers or strings, no missing
    values). ``keys`` are columns on which near-duplicates are sought, each
    compared exactly unless ``tolerance`` gives it a numeric tolerance
    (``{"age": 1}``). ``exclude`` drops columns from the exact-duplicate comparison
    (row numbers, load timestamps). ``salt`` (>= 16 bytes) makes the hashes
    comparable across calls; by default a random salt, kept only in the result.
    """
    train, test = _frame(train, "train"), _frame(test, "test")
    keys = list(dict.fromkeys(keys))
    tolerances = _check_keys(train, test, keys, dict(tolerance or {}))
    secret = _salt_bytes(salt)
    warnings: list[str] = []
    n_train_subjects = n_test_subjects = shared_rows = None
    hashes: list[str] = []
    id_type = ""
    if id is not None:
        n_train_subjects, n_test_subjects, hashes, shared_rows, id_type = _subjects(
            train, test, id, secret, warnings
        )
    else:
        warnings.append("no id column given: shared subjects were not checked")
    rows = _row_checks(train, test, id, keys, tolerances, exclude, warnings)
    duplicate_rows, near = rows["duplicate_rows"], rows["near_duplicates"]
    shared = len(hashes) if id is not None else None
    verdict = "fail" if shared else "warn" if (duplicate_rows or near) else "pass"
    return IndependenceResult(
        id_column=id,
        n_train_rows=len(train),
        n_test_rows=len(test),
        n_train_subjects=n_train_subjects,
        n_test_subjects=n_test_subjects,
        shared_subjects=shared,
        shared_subject_hashes=hashes,
        shared_test_rows=shared_rows,
        duplicate_columns=[str(c) for c in rows["columns"]],
        duplicate_rows=duplicate_rows,
        duplicate_positions=rows["duplicate_positions"],
        key_columns=[str(k) for k in keys],
        tolerances=tolerances,
        near_duplicates=near,
        near_duplicate_positions=rows["near_positions"],
        verdict=verdict,
        salt_id=salt_id(secret),
        id_type=id_type,
        warnings=warnings,
        _salt=secret,
    )
