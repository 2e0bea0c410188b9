"""Input checking for :func:`cmlops.stats.evaluation.evaluate` and ``compare``.

Every problem becomes one :class:`EvaluationInputError` line that says what is wrong
and what to do; nothing is coerced silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cmlops.errors import InvalidInputError

__all__ = [
    "SCALES",
    "CleanInputs",
    "EvaluationInputError",
    "clean_inputs",
    "clean_paired_inputs",
    "sample_fields",
]

SCALES = ("probability", "logit", "raw")
MISSING_LABEL = "<missing>"


class EvaluationInputError(InvalidInputError):
    """y_true, a score, groups or an option given to evaluate() or compare() cannot be used."""


@dataclass
class CleanInputs:
    """Validated arrays: y as 0/1 floats, scores as floats, groups as integer codes.

    ``groups[var][i]`` is the index into ``group_levels[var]`` (labels "var=value")
    of case i.
    """

    y: np.ndarray
    score: np.ndarray
    groups: dict[str, np.ndarray]
    group_levels: dict[str, list[str]]
    warnings: list[str]


def sample_fields(
    clean: CleanInputs, scores: str, thresholds: list[float], level: float, subgroups: list[str]
) -> dict[str, Any]:
    """The result fields that describe the scored sample, the same for evaluate and compare:
    size, events and prevalence (after dropped rows), score scale, thresholds, interval
    level, grouping variables and subgroup labels."""
    n, events = int(clean.y.size), int(clean.y.sum())
    return {
        "n": n,
        "events": events,
        "prevalence": events / n,
        "score_scale": scores,
        "thresholds": thresholds,
        "level": level,
        "group_variables": list(clean.groups),
        "subgroups": subgroups,
    }


def _to_array(name: str, x: Any) -> np.ndarray:
    if hasattr(x, "to_numpy"):
        if getattr(x, "ndim", 1) != 1:
            raise EvaluationInputError(f"{name} must be one-dimensional; pass a single column")
        return x.to_numpy(dtype=object if str(getattr(x, "dtype", "")) == "category" else None)
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise EvaluationInputError(f"{name} must be a sequence of values, not a scalar")
    if arr.ndim != 1:
        raise EvaluationInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _is_missing(arr: np.ndarray) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.isna(arr), dtype=bool)


def _coerce_y(raw: np.ndarray, pos_label: Any) -> np.ndarray:
    missing = _is_missing(raw)
    y = np.full(raw.shape, np.nan)
    present = raw[~missing]
    if pos_label is not None:
        y[~missing] = (present == pos_label).astype(float)
        return y
    try:
        vals = present.astype(float)
    except (TypeError, ValueError):
        shown = sorted({str(v) for v in present[:1000]})[:5]
        raise EvaluationInputError(
            f"y_true must be 0/1 or boolean, found values like {shown}; "
            "map it to 0/1 or pass pos_label=<the event value>"
        ) from None
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        shown = sorted({float(v) for v in vals[bad]})[:5]
        raise EvaluationInputError(
            f"y_true must be binary 0/1, found {int(bad.sum())} other values such as {shown}; "
            "evaluate() handles binary outcomes only"
        )
    y[~missing] = vals
    return y


def _coerce_groups(
    groups: Any, n: int, max_subgroups: int
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    if groups is None:
        return {}, {}
    import pandas as pd

    if isinstance(groups, pd.DataFrame):
        items = [(str(c), groups[c]) for c in groups.columns]
    elif isinstance(groups, Mapping):
        items = [(str(k), v) for k, v in groups.items()]
    else:
        name = getattr(groups, "name", None)
        items = [(str(name) if name is not None else "group", groups)]
    out: dict[str, np.ndarray] = {}
    levels: dict[str, list[str]] = {}
    for var, values in items:
        if var == "all":
            raise EvaluationInputError(
                "a grouping variable cannot be named 'all' (the label of the whole sample); "
                "rename it"
            )
        declared: list[Any] | None = None
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            declared = list(values.cat.categories)
        arr = _to_array(f"groups[{var!r}]", values)
        if arr.shape[0] != n:
            raise EvaluationInputError(
                f"groups[{var!r}] has {arr.shape[0]} values but y_true has {n}; "
                "pass one group label per case"
            )
        if declared is not None:
            codes = values.cat.codes.to_numpy().astype(np.int64)
            uniques: list[Any] = declared
        else:
            try:
                codes, found = pd.factorize(arr, sort=True)
            except TypeError:  # values of mixed types cannot be sorted
                codes, found = pd.factorize(arr, sort=False)
            uniques = list(found)
        labels = [f"{var}={v}" for v in uniques]
        codes = np.asarray(codes, dtype=np.int64)
        if (codes < 0).any():  # missing group values form their own subgroup
            codes = np.where(codes < 0, len(labels), codes)
            labels.append(f"{var}={MISSING_LABEL}")
        if len(labels) > max_subgroups:
            raise EvaluationInputError(
                f"groups[{var!r}] has {len(labels)} subgroups, more than max_subgroups="
                f"{max_subgroups}; group coarser (e.g. age bands) or raise max_subgroups"
            )
        out[var] = codes
        levels[var] = labels
    return out, levels


def _clean_scores(name: str, raw: np.ndarray) -> np.ndarray:
    try:
        s_missing = _is_missing(raw)
        s = np.where(s_missing, np.nan, raw).astype(float)
    except (TypeError, ValueError):
        raise EvaluationInputError(
            f"{name} must be numeric (a probability, logit or raw score per case)"
        ) from None
    if np.isinf(s).any():
        raise EvaluationInputError(
            f"{name} has {int(np.isinf(s).sum())} infinite values; replace or remove them"
        )
    return s


def _clean(
    y_true: Any,
    named_scores: Mapping[str, Any],
    groups: Any,
    *,
    scores: str,
    missing: str,
    pos_label: Any,
    max_subgroups: int,
) -> tuple[dict[str, np.ndarray], CleanInputs]:
    """Shared by one model (:func:`clean_inputs`) and paired models (``clean_paired_inputs``)."""
    if scores not in SCALES:
        raise EvaluationInputError(f"scores must be one of {SCALES}, got {scores!r}")
    if missing not in ("error", "drop"):
        raise EvaluationInputError(f"missing must be 'error' or 'drop', got {missing!r}")
    y_raw = _to_array("y_true", y_true)
    raws = {name: _to_array(name, values) for name, values in named_scores.items()}
    for name, raw in raws.items():
        if raw.shape[0] != y_raw.shape[0]:
            raise EvaluationInputError(
                f"y_true has {y_raw.shape[0]} values but {name} has {raw.shape[0]}; "
                "pass one score per case"
            )
    y = _coerce_y(y_raw, pos_label)
    found = {name: _clean_scores(name, raw) for name, raw in raws.items()}
    grp, levels = _coerce_groups(groups, y.shape[0], max_subgroups)
    warnings: list[str] = []
    bad = np.isnan(y)
    for s in found.values():
        bad = bad | np.isnan(s)
    n_bad = int(bad.sum())
    if n_bad:
        detail = ", ".join(
            [f"{int(np.isnan(y).sum())} in y_true"]
            + [f"{int(np.isnan(s).sum())} in {name}" for name, s in found.items()]
        )
        if missing == "error":
            raise EvaluationInputError(
                f"{n_bad} rows have a missing outcome or score ({detail}); "
                "remove them or pass missing='drop'"
            )
        keep = ~bad
        y = y[keep]
        found = {name: s[keep] for name, s in found.items()}
        grp = {k: v[keep] for k, v in grp.items()}
        warnings.append(f"dropped {n_bad} of {bad.size} rows with a missing value ({detail})")
    if y.size == 0:
        raise EvaluationInputError("no cases to evaluate: y_true is empty (after dropping)")
    for name, s in found.items():
        if scores == "probability" and ((s < 0).any() or (s > 1).any()):
            lo, hi = float(s.min()), float(s.max())
            raise EvaluationInputError(
                f"{name} lies in [{lo:.4g}, {hi:.4g}], outside [0, 1]; pass scores='logit' "
                "for log-odds or scores='raw' for an uncalibrated score"
            )
    clean = CleanInputs(y=y, score=np.empty(0), groups=grp, group_levels=levels, warnings=warnings)
    return found, clean


def clean_inputs(
    y_true: Any,
    y_score: Any,
    groups: Any,
    *,
    scores: str,
    missing: str,
    pos_label: Any,
    max_subgroups: int = 100,
) -> CleanInputs:
    """Check shapes, values and options; drop or reject missing rows per ``missing``."""
    found, clean = _clean(y_true, {"y_score": y_score}, groups, scores=scores,
                             missing=missing, pos_label=pos_label,
                             max_subgroups=max_subgroups)  # fmt: skip
    clean.score = found["y_score"]
    return clean


def clean_paired_inputs(
    y_true: Any,
    named_scores: Mapping[str, Any],
    groups: Any,
    *,
    scores: str,
    missing: str,
    pos_label: Any,
    max_subgroups: int = 100,
) -> tuple[CleanInputs, dict[str, np.ndarray]]:
    """Like :func:`clean_inputs` for several models scored on the same cases.

    A row missing any model's score is missing for all (the comparison is paired).
    Returns the cleaned outcome and groups (``score`` left empty) and the scores by name.
    """
    found, clean = _clean(y_true, named_scores, groups, scores=scores, missing=missing,
                             pos_label=pos_label, max_subgroups=max_subgroups)  # fmt: skip
    return clean, found
