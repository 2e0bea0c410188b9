"""Per-column drift computation: one numeric or categorical column, one test.

The automatic choice follows Evidently's defaults so results are comparable:
up to ``AUTO_MAX_TEST_N`` non-missing reference values a hypothesis test
(KS for numeric, chi-square for categorical, a test of proportions for a
two-valued column); above it a distance with a fixed threshold (Wasserstein
normalised by the reference standard deviation for numeric, Jensen–Shannon for
categorical), because with very large samples every test rejects for
differences too small to matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmlops.json_safe import json_safe
from cmlops.stats import _drift_categorical as cat
from cmlops.stats import _drift_numeric as num
from cmlops.stats._drift_result import ColumnDrift

AUTO_MAX_TEST_N = 1000
PVALUE_TESTS = frozenset({"ks", "chi2", "proportions", "anderson"})
NUMERIC_METHODS = frozenset({"ks", "wasserstein", "psi", "jensenshannon", "anderson"})
CATEGORICAL_METHODS = frozenset({"chi2", "proportions", "psi", "jensenshannon", "total_variation"})
DEFAULT_DISTANCE_THRESHOLDS = {
    "wasserstein": 0.1,
    "psi": 0.1,
    "jensenshannon": 0.1,
    "total_variation": 0.1,
}
HIGH_CARDINALITY = 10_000


@dataclass(frozen=True)
class Options:
    """Settings shared by every column of one drift call."""

    alpha: float
    thresholds: dict
    methods: dict
    missing_threshold: float
    unseen_threshold: float
    n_bins: int
    psi_epsilon: float


def threshold_for(column: str, method: str, opts: Options) -> float:
    """Column-specific threshold, else method-specific, else alpha / the default distance."""
    if column in opts.thresholds:
        return float(opts.thresholds[column])
    if method in opts.thresholds:
        return float(opts.thresholds[method])
    if method in PVALUE_TESTS:
        return opts.alpha
    return DEFAULT_DISTANCE_THRESHOLDS[method]


def _missing_flag(ms_ref: float | None, ms_cur: float | None, opts: Options) -> bool:
    if ms_ref is None or ms_cur is None:
        return False
    return abs(ms_cur - ms_ref) > opts.missing_threshold


def skipped(column: str, kind: str, reason: str, ref: dict | None = None, cur=None) -> ColumnDrift:
    """A column that could not be tested: reported with its reason, never silently dropped."""
    ref = ref or {}
    cur = cur or {}
    return ColumnDrift(
        column=column,
        kind=kind,
        test="skipped",
        statistic=None,
        p_value=None,
        p_value_adjusted=None,
        threshold=None,
        correction="none",
        effect_size=None,
        effect_size_name=None,
        drifted=False,
        status="skipped",
        reference=ref,
        current=cur,
        missing_share_reference=ref.get("missing_share"),
        missing_share_current=cur.get("missing_share"),
        warnings=[reason],
    )


def _split_finite(x: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Sorted finite values (a view), count of NaN (missing), count of +-inf (excluded).

    ``np.sort`` puts -inf first and NaN last, so after one sort the finite block
    is found by three binary searches instead of extra passes over the data.
    """
    s = np.sort(x)
    n = s.size
    first_nan = int(np.searchsorted(s, np.nan, side="left")) if n and np.isnan(s[-1]) else n
    lo = int(np.searchsorted(s[:first_nan], -np.inf, side="right"))
    hi = int(np.searchsorted(s[:first_nan], np.inf, side="left"))
    return s[lo:hi], n - first_nan, lo + (first_nan - hi)


def _binary_values(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """The two values if the union of two sorted samples has exactly two distinct values."""
    lo = min(a[0], b[0])
    hi = max(a[-1], b[-1])
    if lo == hi:
        return None
    for s in (a, b):
        k = int(np.searchsorted(s, s[0], side="right"))  # end of the first run
        if k < s.size and s[k] != s[-1]:
            return None  # at least three distinct values in this sample
        if s[0] not in (lo, hi) or s[-1] not in (lo, hi):
            return None
    return float(lo), float(hi)


def numeric_column(column: str, ref: np.ndarray, cur: np.ndarray, opts: Options) -> ColumnDrift:
    """Drift of a numeric column (float64 arrays with NaN for missing)."""
    sides = _finite_sorted(column, ref, cur)
    if isinstance(sides, ColumnDrift):
        return sides
    sr, sc, r_sum, c_sum, notes = sides
    method = opts.methods.get(column)
    binary = _binary_values(sr, sc)
    if binary is not None and (method is None or method in CATEGORICAL_METHODS):
        res = categorical_counts(
            column, _binary_counts(sr, sc, binary, r_sum, c_sum), opts, binary=True
        )
        res.warnings[:0] = notes
        return res
    if method is None:
        method = "ks" if sr.size <= AUTO_MAX_TEST_N else "wasserstein"
    if method not in NUMERIC_METHODS:
        from cmlops.errors import InvalidInputError

        raise InvalidInputError(
            f"method {method!r} does not apply to numeric column {column!r}: "
            f"use one of {', '.join(sorted(NUMERIC_METHODS))}"
        )
    if sr[0] == sr[-1]:
        notes.append("reference sample is constant")
    distance = _wasserstein_effect(sr, sc, r_sum)
    details: dict = {
        "wasserstein_raw": distance.raw,
        "reference_std_ddof0": distance.std,
        "histogram": num.shared_histogram(sr, sc),
    }
    stat, p = _NUMERIC_TESTS[method](sr, sc, distance, opts, notes, details)
    threshold = threshold_for(column, method, opts)
    if method in PVALUE_TESTS:
        drifted = p < threshold
    elif method == "wasserstein" and distance.normalised is None:
        drifted = distance.raw > 0
    else:
        drifted = stat >= threshold
    ms_r, ms_c = r_sum["missing_share"], c_sum["missing_share"]
    return ColumnDrift(
        column=column,
        kind="numeric",
        test=method,
        statistic=float(stat),
        p_value=p,
        p_value_adjusted=p,
        threshold=threshold,
        correction="none",
        effect_size=distance.effect,
        effect_size_name=distance.effect_name,
        drifted=bool(drifted),
        reference=r_sum,
        current=c_sum,
        missing_share_reference=ms_r,
        missing_share_current=ms_c,
        missing_drifted=_missing_flag(ms_r, ms_c, opts),
        warnings=notes,
        details=details,
    )


def _finite_sorted(column: str, ref: np.ndarray, cur: np.ndarray):
    """Both samples sorted and finite, their summaries and notes; or the skipped result."""
    notes: list[str] = []
    sr, r_nan, r_inf = _split_finite(ref)
    sc, c_nan, c_inf = _split_finite(cur)
    r_sum = num.summary(sr, ref.size, r_nan, r_inf)
    c_sum = num.summary(sc, cur.size, c_nan, c_inf)
    if r_inf or c_inf:
        notes.append(
            f"{r_inf} reference and {c_inf} current infinite values excluded from the test"
        )
    for label, s, n in (("reference", sr, ref.size), ("current", sc, cur.size)):
        if s.size == 0:
            why = "is empty" if n == 0 else "has no finite values"
            return skipped(
                column, "numeric", f"{label} sample {why}; nothing to test", r_sum, c_sum
            )
    return sr, sc, r_sum, c_sum, notes


def _binary_counts(sr, sc, values: tuple[float, float], r_sum: dict, c_sum: dict) -> cat.Counts:
    """A two-valued numeric column as category counts (missing and infinite values apart)."""
    lo, hi = values
    return cat.Counts(
        [lo, hi],
        np.array([np.count_nonzero(sr == lo), np.count_nonzero(sr == hi)]),
        np.array([np.count_nonzero(sc == lo), np.count_nonzero(sc == hi)]),
        r_sum["n_missing"] + r_sum["n_infinite"],
        c_sum["n_missing"] + c_sum["n_infinite"],
    )


@dataclass(frozen=True)
class _Distance:
    """The Wasserstein distance of a column: raw, normalised by the reference std (ddof 0)."""

    raw: float
    std: float
    normalised: float | None

    @property
    def effect(self) -> float:
        return self.normalised if self.normalised is not None else self.raw

    @property
    def effect_name(self) -> str:
        return "wasserstein_normalised" if self.normalised is not None else "wasserstein_raw"


def _wasserstein_effect(sr: np.ndarray, sc: np.ndarray, r_sum: dict) -> _Distance:
    raw = num.wasserstein(sr, sc)
    n_r = sr.size
    std = r_sum["std"] * float(np.sqrt((n_r - 1) / n_r)) if n_r > 1 else 0.0
    return _Distance(raw, std, raw / std if std > 0 else None)


def _ks(sr, sc, distance, opts, notes, details) -> tuple[float, float | None]:
    stat, p, ks_method, ks_notes = num.ks_test(sr, sc)
    details["ks_method"] = ks_method
    notes.extend(ks_notes)
    return stat, p


def _wasserstein(sr, sc, distance, opts, notes, details) -> tuple[float, float | None]:
    if distance.normalised is None:
        notes.append(
            "reference standard deviation is 0: Wasserstein reported unnormalised "
            "and any difference counts as drift"
        )
        details["normalisation"] = "none (constant reference)"
        return distance.raw, None
    details["normalisation"] = "reference std (ddof=0)"
    return distance.normalised, None


def _binned(sr, sc, distance, opts, notes, details, *, method: str) -> tuple[float, float | None]:
    edges = num.quantile_edges(sr, opts.n_bins)
    p_ref = cat.shares(num.bin_counts(sr, edges))
    p_cur = cat.shares(num.bin_counts(sc, edges))
    details.update(bins=int(edges.size + 1), bin_edges=edges.tolist())
    if method == "psi":
        details["epsilon"] = opts.psi_epsilon
        return num.psi(p_ref, p_cur, opts.psi_epsilon), None
    details["log_base"] = "e"
    return num.jensen_shannon(p_ref, p_cur), None


def _anderson(sr, sc, distance, opts, notes, details) -> tuple[float, float | None]:
    if sr[0] == sr[-1] == sc[0] == sc[-1]:
        notes.append("both samples hold one identical value: no difference, p = 1")
        return 0.0, 1.0
    stat, p, ad_notes = num.anderson(sr, sc)
    notes.extend(ad_notes)
    details["pvalue_range"] = "SciPy interpolates within [0.001, 0.25]"
    return stat, p


#: numeric method -> (sorted ref, sorted cur, distance, options, notes, details) -> (stat, p)
_NUMERIC_TESTS = {
    "ks": _ks,
    "wasserstein": _wasserstein,
    "psi": lambda *args: _binned(*args, method="psi"),
    "jensenshannon": lambda *args: _binned(*args, method="jensenshannon"),
    "anderson": _anderson,
}


def categorical_counts(
    column: str, counts: cat.Counts, opts: Options, *, binary: bool | None = None
) -> ColumnDrift:
    """Drift of a categorical column given its category counts in both samples."""
    notes: list[str] = []
    k = int(np.count_nonzero(counts.ref + counts.cur))
    r_sum = cat.summary(counts.ref, counts.labels, counts.ref_missing)
    c_sum = cat.summary(counts.cur, counts.labels, counts.cur_missing)
    n_ref, n_cur = int(counts.ref.sum()), int(counts.cur.sum())
    for label, n, total in (("reference", n_ref, r_sum["n"]), ("current", n_cur, c_sum["n"])):
        if n == 0:
            why = "is empty" if total == 0 else "has only missing values"
            return skipped(
                column, "categorical", f"{label} sample {why}; nothing to test", r_sum, c_sum
            )
    if k > HIGH_CARDINALITY:
        notes.append(
            f"{k} distinct categories (> {HIGH_CARDINALITY}): probably an identifier; "
            "tested, but consider excluding the column"
        )
    if k == 1:
        notes.append("one category in both samples: no variation to test")
    is_binary = (k == 2) if binary is None else binary
    method = _categorical_method(column, opts, is_binary=is_binary, n_ref=n_ref, k=k)
    details: dict = {"categories": cat.display_counts(counts)}
    test, stat, p = _categorical_statistic(method, counts, opts, details)
    threshold = threshold_for(column, method, opts)
    drifted = (p < threshold) if method in PVALUE_TESTS else (stat >= threshold)
    unseen_labels, unseen_share = _unseen(counts, n_cur, notes)
    ms_r, ms_c = r_sum["missing_share"], c_sum["missing_share"]
    return ColumnDrift(
        column=column,
        kind="binary" if is_binary else "categorical",
        test=test,
        statistic=float(stat),
        p_value=p,
        p_value_adjusted=p,
        threshold=threshold,
        correction="none",
        effect_size=cat.total_variation(cat.shares(counts.ref), cat.shares(counts.cur)),
        effect_size_name="total_variation",
        drifted=bool(drifted),
        reference=r_sum,
        current=c_sum,
        missing_share_reference=ms_r,
        missing_share_current=ms_c,
        missing_drifted=_missing_flag(ms_r, ms_c, opts),
        unseen_categories=unseen_labels,
        unseen_share=unseen_share,
        unseen_drifted=unseen_share > opts.unseen_threshold,
        warnings=notes,
        details=details,
    )


def _categorical_method(column: str, opts: Options, *, is_binary: bool, n_ref: int, k: int) -> str:
    """The method asked for the column, or the automatic choice; refuses one that cannot apply."""
    from cmlops.errors import InvalidInputError

    method = opts.methods.get(column)
    if method is None:
        small = n_ref <= AUTO_MAX_TEST_N
        method = ("proportions" if is_binary else "chi2") if small else "jensenshannon"
    if method not in CATEGORICAL_METHODS:
        raise InvalidInputError(
            f"method {method!r} does not apply to categorical column {column!r}: "
            f"use one of {', '.join(sorted(CATEGORICAL_METHODS))}"
        )
    if method == "proportions" and k != 2:
        raise InvalidInputError(
            f"method 'proportions' needs a two-valued column; {column!r} has {k} values"
        )
    return method


def _level_order(labels: list) -> list[int]:
    """Positions of the levels in a fixed order: natural when comparable, else by text.

    The two-proportion z's sign, Fisher's odds ratio and the positive level (the last)
    must not depend on which level the data showed first: pandas lists levels in
    order of appearance, Spark in the order its aggregation returns them.
    """
    try:
        return sorted(range(len(labels)), key=lambda i: labels[i])
    except TypeError:
        return sorted(range(len(labels)), key=lambda i: (type(labels[i]).__name__, str(labels[i])))


def _categorical_statistic(
    method: str, counts: cat.Counts, opts: Options, details: dict
) -> tuple[str, float, float | None]:
    """(test name, statistic, p-value or None) of one categorical method."""
    p_ref, p_cur = cat.shares(counts.ref), cat.shares(counts.cur)
    if method == "proportions":
        kept = np.flatnonzero((counts.ref + counts.cur) > 0)
        order = kept[_level_order([counts.labels[i] for i in kept])]
        test, stat, p = cat.proportions(counts.ref[order], counts.cur[order])
        details["positive_level"] = json_safe(counts.labels[order[-1]])
        return test, stat, p
    if method == "chi2":
        stat, p, dof = cat.chi_square(counts.ref, counts.cur)
        n = int(counts.ref.sum() + counts.cur.sum())
        details.update(dof=dof, yates_correction=False, cramers_v=cat.cramers_v(stat, n))
        return method, stat, p
    if method == "psi":
        details["epsilon"] = opts.psi_epsilon
        return method, cat.psi(p_ref, p_cur, opts.psi_epsilon), None
    if method == "jensenshannon":
        details["log_base"] = "e"
        return method, cat.jensen_shannon(p_ref, p_cur), None
    return method, cat.total_variation(p_ref, p_cur), None


def _unseen(counts: cat.Counts, n_cur: int, notes: list[str]) -> tuple[list, float]:
    """Categories of the current sample absent from the reference: first labels, share."""
    unseen = (counts.ref == 0) & (counts.cur > 0)
    share = float(counts.cur[unseen].sum() / n_cur)
    labels = [json_safe(counts.labels[i]) for i in np.flatnonzero(unseen)[: cat.TOP_K]]
    if unseen.any():
        notes.append(
            f"{int(unseen.sum())} categories unseen in the reference hold "
            f"{share:.2%} of current values"
        )
    return labels, share
