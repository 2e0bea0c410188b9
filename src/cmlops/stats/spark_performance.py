"""Model performance per group of rows of a Spark frame (``cmlops.monitor``'s windows), exactly.

Every number is the one :func:`cmlops.stats.evaluation.evaluate` gives on the group's
rows — nothing is approximated, and only per-group sums reach the driver:

- events, O/E, Brier and F1 at each threshold: sums in one grouped aggregation;
- **AUROC and its DeLong interval**: DeLong's structural components follow from
  counts per distinct score (Sun & Xu 2014, see :mod:`cmlops.stats.delong`): for a
  score s with ``pos(s)`` events and ``neg(s)`` non-events,
  ``V10(s) = (negatives below s + neg(s)/2) / n_neg`` and
  ``V01(s) = 1 − (positives below s + pos(s)/2) / n_pos``. Spark counts per
  (group, score), splits the scores into ~64 ranges at approximate quantiles (so
  the running sums are a window function per range, in parallel, not one task per
  group), collects the range totals, and one aggregation returns Σpos·V10,
  Σpos·V10², Σneg·V01, Σneg·V01² per group: the AUROC and both variances, exactly;
- **calibration slope**: the logistic regression of y on logit(p) by the same
  Newton–Raphson with step halving as :mod:`cmlops.stats.calibration`, one Spark
  pass per iteration (typically 5–8) for all groups at once, each group with its own
  iterate; the Wald interval from the inverse Hessian at the optimum.

Why exact and not a sketch: the AUROC needs the ranks of the scores, which a
quantile sketch of the scores knows only to its rank error, and the DeLong interval
needs every case's placement; the counting above costs one shuffle of the distinct
(group, score) pairs and gives the exact value, so no error bound is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from cmlops.errors import InvalidInputError
from cmlops.spark_frames import spark_errors
from cmlops.stats.calibration import EPS
from cmlops.stats.spark_ranges import searchsorted

__all__ = ["GroupedPerformance"]

G = "__cmlops_group"
#: ranges of scores per group processed as separate window partitions
N_RANGES = 64
_MAX_ITER, _TOL = 100, 1e-9  # as cmlops.stats.calibration._newton_logistic


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _projection(frame: Any, group: Any, target: str, prediction: str) -> Any:
    """(group, y as double, p as double) with one-line errors for unusable column types."""
    from pyspark.sql import functions as F

    types = {f.name: f.dataType.typeName() for f in frame.schema.fields}
    numeric = ("byte", "short", "integer", "long", "float", "double", "decimal")
    if types[target] not in (*numeric, "boolean"):
        raise InvalidInputError(
            f"target column {target!r} is {types[target]}: it must be 0/1 or boolean; "
            "map it to 0/1 first"
        )
    if types[prediction] not in numeric:
        raise InvalidInputError(
            f"prediction column {prediction!r} is {types[prediction]}: it must be numeric "
            "(a probability per case)"
        )
    y = _col(target).cast("int") if types[target] == "boolean" else _col(target)
    return frame.select(
        group.alias(G), y.cast("double").alias("y"), _col(prediction).cast("double").alias("p")
    ).where(F.col(G).isNotNull())


def _summary_aggs(thresholds: Sequence[float]) -> list[Any]:
    from pyspark.sql import functions as F

    y, p = F.col("y"), F.col("p")
    valid = y.isNotNull() & p.isNotNull() & ~F.isnan(p)
    finite = valid & (F.abs(p) != float("inf"))
    aggs = [
        F.count(F.lit(1)).alias("n"),
        F.sum(F.coalesce(y, F.lit(0.0))).alias("events"),
        F.count_if(y.isNotNull() & (y != 0) & (y != 1)).alias("bad_y"),
        F.count_if(y.isNull()).alias("missing_y"),
        F.count_if(p.isNull() | F.isnan(p)).alias("missing_p"),
        F.count_if(valid & ~finite).alias("inf_p"),
        F.min(F.when(finite, p)).alias("p_min"),
        F.max(F.when(finite, p)).alias("p_max"),
        F.sum(p).alias("sum_p"),
        F.sum((p - y) * (p - y)).alias("sum_sq"),
        F.count_if((p == 0) | (p == 1)).alias("clipped"),
        F.count_if(y == 1).alias("pos"),
        F.min(F.when(y == 1, p)).alias("pos_min"),
        F.max(F.when(y == 1, p)).alias("pos_max"),
        F.min(F.when(y == 0, p)).alias("neg_min"),
        F.max(F.when(y == 0, p)).alias("neg_max"),
        F.percentile_approx(p, [i / N_RANGES for i in range(1, N_RANGES)], 1000).alias("q"),
    ]
    for j, t in enumerate(thresholds):
        hit = p >= F.lit(float(t))
        aggs += [
            F.count_if(hit & (y == 1)).alias(f"tp{j}"),
            F.count_if(hit & (y == 0)).alias(f"fp{j}"),
            F.count_if(~hit & (y == 1)).alias(f"fn{j}"),
        ]
    return aggs


def _check(label: str, s: dict, target: str, prediction: str) -> None:
    """evaluate()'s refusals, in its order, for one group that is tested."""
    where = f"window {label}"
    if s["bad_y"]:
        raise InvalidInputError(
            f"{where}: {target!r} must be binary 0/1, found {s['bad_y']} other values; "
            "monitor handles binary outcomes only"
        )
    if s["inf_p"]:
        raise InvalidInputError(
            f"{where}: {prediction!r} has {s['inf_p']} infinite values; replace or remove them"
        )
    missing = s["missing_y"] + s["missing_p"]
    if missing:
        raise InvalidInputError(
            f"{where}: rows have a missing outcome or score ({s['missing_y']} in {target!r}, "
            f"{s['missing_p']} in {prediction!r}); remove them (df.dropna(subset=[...]))"
        )
    if s["p_min"] is not None and (s["p_min"] < 0 or s["p_max"] > 1):
        raise InvalidInputError(
            f"{where}: {prediction!r} lies in [{s['p_min']:.4g}, {s['p_max']:.4g}], outside "
            "[0, 1]; monitor takes predicted probabilities"
        )


class GroupedPerformance:
    """Model performance of each group of rows of a Spark frame (see the module docstring).

    Built with one grouped aggregation (sizes, events, the sums behind O/E, Brier and
    F1); :meth:`evaluate` then checks the groups it is asked for like ``evaluate``
    checks its input (a bad value is a one-line error naming the window) and adds the
    AUROC and the calibration slope. ``group`` is a column naming each row's group
    (rows where it is null are left out).
    """

    def __init__(
        self, frame: Any, group: Any, target: str, prediction: str, thresholds: Sequence[float]
    ) -> None:
        self.target, self.prediction, self.thresholds = target, prediction, list(thresholds)
        self.proj = _projection(frame, group, target, prediction)
        with spark_errors("computing performance per window in Spark"):
            rows = self.proj.groupBy(G).agg(*_summary_aggs(self.thresholds)).collect()
        self.sums = {r[G]: r.asDict() for r in rows}

    @property
    def sizes(self) -> dict[Any, int]:
        return {g: int(s["n"]) for g, s in self.sums.items()}

    @property
    def events(self) -> dict[Any, int]:
        """Sum of the outcome per group, as the pandas path counts events (missing as 0)."""
        return {g: int(s["events"] or 0) for g, s in self.sums.items()}

    def evaluate(self, tested: dict[Any, str]) -> dict[Any, dict]:
        """group -> the dict ``monitoring._performance`` gives: ``auroc``, its interval,
        ``calibration_slope``, ``oe_ratio``, ``brier``, ``f1_at``/``f1``, ``warnings``."""
        from pyspark.sql import functions as F

        sums = self.sums
        for g, label in tested.items():
            if g in sums:
                _check(label, sums[g], self.target, self.prediction)
        out = {g: _basic(sums.get(g), self.thresholds) for g in tested}
        both = [g for g in tested if g in sums and 0 < sums[g]["pos"] < sums[g]["n"]]
        if not both:
            return out
        proj = self.proj.where(F.col(G).isin(both))
        with spark_errors("computing AUROC per window in Spark"):
            aucs = _aurocs(proj, {g: sums[g] for g in both})
        fit = [g for g in both if not _separated(sums[g])]
        with spark_errors("fitting the calibration slope per window in Spark"):
            slopes = _slopes(proj, fit) if fit else {}
        for g in both:
            out[g].update(aucs[g])
            slope, converged = slopes.get(g, (None, False))
            out[g]["calibration_slope"] = slope
            if g not in slopes:
                out[g]["warnings"].append(
                    "all: calibration_slope fit did not converge (separation?): the "
                    "predictions separate events from non-events, so the slope has no "
                    "maximum-likelihood estimate and is reported as None"
                )
            elif not converged:
                out[g]["warnings"].append(
                    "all: calibration_slope fit did not converge (separation?)"
                )
        return out


def _separated(s: dict) -> bool:
    """True when logit(p) (clipped as the fit clips it) separates the two outcome classes.

    Then the logistic regression of y on logit(p) has no maximum-likelihood estimate:
    the slope grows without bound. The pandas fit iterates 100 times and reports the
    last iterate as not converged; here no Spark pass is spent on it and the slope is
    None (the warning says why).
    """

    def clip(v: float) -> float:
        return min(max(float(v), EPS), 1.0 - EPS)

    pos_lo, pos_hi = clip(s["pos_min"]), clip(s["pos_max"])
    neg_lo, neg_hi = clip(s["neg_min"]), clip(s["neg_max"])
    return pos_lo >= neg_hi or pos_hi <= neg_lo


def _basic(s: dict | None, thresholds: Sequence[float]) -> dict:
    """Everything but AUROC and the slope, from the group's sums."""
    out: dict = {
        "warnings": [],
        "auroc": None,
        "auroc_ci_low": None,
        "auroc_ci_high": None,
        "calibration_slope": None,
        "oe_ratio": None,
        "brier": None,
    }
    if s is None or not s["n"]:
        return out
    n, pos = int(s["n"]), int(s["pos"])
    if s["clipped"]:
        out["warnings"].append(
            f"{s['clipped']} of {n} probabilities are exactly 0 or 1: calibration "
            "intercept/slope and log loss clip them to [eps, 1 - eps]"
        )
    if not 0 < pos < n:
        what = "no events" if pos == 0 else "no non-events"
        out["warnings"].append(
            f"all: only one class present ({what}); AUROC, AUPRC, scaled Brier and "
            "calibration intercept/slope are undefined and reported as None"
        )
    out["brier"] = float(s["sum_sq"]) / n
    out["oe_ratio"] = pos / float(s["sum_p"]) if s["sum_p"] > 0 else None
    if thresholds:
        f1 = {}
        for j, t in enumerate(thresholds):
            tp, fp, fn = s[f"tp{j}"], s[f"fp{j}"], s[f"fn{j}"]
            den = 2 * tp + fp + fn
            f1[str(t)] = (2 * tp / den) if den else None
        out["f1_at"] = f1
        out["f1"] = f1[str(thresholds[0])]
    return out


def _edges(sums: dict[Any, dict]) -> list[float]:
    """About N_RANGES score edges from the groups' approximate quantiles (they only split work)."""
    qs = np.unique(np.concatenate([np.asarray(s["q"] or [], dtype=float) for s in sums.values()]))
    if qs.size <= N_RANGES:
        return qs.tolist()
    return np.unique(np.quantile(qs, np.linspace(0, 1, N_RANGES + 1)[1:-1])).tolist()


def _aurocs(proj: Any, sums: dict[Any, dict]) -> dict[Any, dict]:
    """Exact AUROC and DeLong interval of each group (see the module docstring)."""
    from pyspark.sql import functions as F

    edges = _edges(sums)
    counts = (
        proj.groupBy(G, "p")
        .agg(F.sum("y").alias("pos"), F.sum(1.0 - F.col("y")).alias("neg"))
        .withColumn("b", searchsorted(F.col("p"), edges))
        .persist()
    )
    try:
        totals = counts.groupBy(G, "b").agg(F.sum("pos"), F.sum("neg")).collect()
        moments = _placements(counts, totals, len(edges) + 1)
    finally:
        counts.unpersist()
    return {g: _delong(*moments[g]) for g in sums}


def _placements(counts: Any, totals: list, width: int) -> dict[Any, tuple]:
    """Per group (m, n, Σpos·V10, Σpos·V10², Σneg·V01, Σneg·V01²) by running sums per range."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    below_pos: dict[int, float] = {}
    below_neg: dict[int, float] = {}
    size: dict[Any, list[float]] = {}
    for g, b, pos, neg in sorted(totals, key=lambda r: (str(r[0]), int(r[1]))):
        acc = size.setdefault(g, [0.0, 0.0])
        key = _key(g, b, width)
        below_pos[key], below_neg[key] = acc[0], acc[1]
        acc[0] += float(pos)
        acc[1] += float(neg)

    def lookup(mapping: dict) -> Any:
        pairs = [x for k, v in mapping.items() for x in (F.lit(k), F.lit(float(v)))]
        return F.create_map(*pairs)[F.col(G).cast("long") * width + F.col("b")]

    running = Window.partitionBy(G, "b").orderBy("p").rowsBetween(Window.unboundedPreceding, 0)
    m = F.create_map(*[x for g, v in size.items() for x in (F.lit(g), F.lit(v[0]))])[F.col(G)]
    n = F.create_map(*[x for g, v in size.items() for x in (F.lit(g), F.lit(v[1]))])[F.col(G)]
    neg_below = lookup(below_neg) + F.sum("neg").over(running) - F.col("neg")
    pos_below = lookup(below_pos) + F.sum("pos").over(running) - F.col("pos")
    placed = counts.select(
        G,
        "pos",
        "neg",
        ((neg_below + F.col("neg") / 2) / n).alias("v10"),
        (1.0 - (pos_below + F.col("pos") / 2) / m).alias("v01"),
    )
    rows = (
        placed.groupBy(G)
        .agg(
            F.sum(F.col("pos") * F.col("v10")),
            F.sum(F.col("pos") * F.col("v10") * F.col("v10")),
            F.sum(F.col("neg") * F.col("v01")),
            F.sum(F.col("neg") * F.col("v01") * F.col("v01")),
        )
        .collect()
    )
    return {r[0]: (size[r[0]][0], size[r[0]][1], *map(float, r[1:])) for r in rows}


def _key(group: Any, b: Any, width: int) -> int:
    return int(group) * width + int(b)


def _delong(m: float, n: float, s1: float, s2: float, t1: float, t2: float) -> dict:
    """AUROC, DeLong SE and the 95 % Wald interval clipped to [0, 1], as auroc_delong."""
    from scipy.stats import norm

    auc = s1 / m
    s10 = max((s2 - s1 * s1 / m) / (m - 1), 0.0) if m > 1 else 0.0
    s01 = max((t2 - t1 * t1 / n) / (n - 1), 0.0) if n > 1 else 0.0
    se = math.sqrt(s10 / m + s01 / n)
    z = float(norm.ppf(0.975))
    return {
        "auroc": auc,
        "auroc_ci_low": max(0.0, auc - z * se),
        "auroc_ci_high": min(1.0, auc + z * se),
    }


def _slopes(proj: Any, groups: list) -> dict[Any, tuple[float, bool]]:
    """Calibration slope of each group: Newton–Raphson in Spark, as calibration_slope."""
    from pyspark.sql import functions as F

    p = F.least(F.greatest(F.col("p"), F.lit(EPS)), F.lit(1.0 - EPS))
    data = proj.select(G, "y", (F.log(p) - F.log1p(-p)).alias("x")).persist()
    try:
        return _newton(data, groups)
    finally:
        data.unpersist()


def _evaluate(data: Any, betas: dict[Any, np.ndarray]) -> dict[Any, tuple]:
    """Log-likelihood, gradient and Hessian of each group at its own coefficients (one pass)."""
    from pyspark.sql import functions as F

    def coef(i: int) -> Any:
        pairs = [x for g, b in betas.items() for x in (F.lit(g), F.lit(float(b[i])))]
        return F.create_map(*pairs)[F.col(G)]

    x, y = F.col("x"), F.col("y")
    eta = coef(0) + coef(1) * x
    log_expit = F.least(eta, F.lit(0.0)) - F.log1p(F.exp(-F.abs(eta)))  # log(expit(eta))
    log_expit_neg = log_expit - eta  # log(expit(-eta))
    mu = F.lit(1.0) / (F.lit(1.0) + F.exp(-eta))
    w = mu * (F.lit(1.0) - mu)
    rows = (
        data.where(F.col(G).isin(list(betas)))
        .groupBy(G)
        .agg(
            F.sum(y * log_expit + (1.0 - y) * log_expit_neg),
            F.sum(y - mu),
            F.sum(x * (y - mu)),
            F.sum(w),
            F.sum(w * x),
            F.sum(w * x * x),
        )
        .collect()
    )
    out = {}
    for r in rows:
        ll, g0, g1, h00, h01, h11 = map(float, r[1:])
        out[r[0]] = (ll, np.array([g0, g1]), np.array([[h00, h01], [h01, h11]]))
    return out


def _newton(data: Any, groups: list) -> dict[Any, tuple[float, bool]]:
    """_newton_logistic's iteration for every group at once; a group stops when it converges."""
    beta = {g: np.array([0.0, 1.0]) for g in groups}  # perfect calibration: near the optimum
    state = _evaluate(data, beta)  # (ll, grad, hess) at each group's current beta
    step: dict[Any, np.ndarray] = {}
    t: dict[Any, float] = {}
    done: dict[Any, tuple[float, bool]] = {}
    iterations = dict.fromkeys(groups, 0)
    active = set(groups)
    while active:
        trial = {}
        for g in sorted(active, key=str):
            if g not in step:  # a new Newton step from the accepted iterate
                iterations[g] += 1
                try:
                    step[g] = np.linalg.solve(state[g][2], state[g][1])
                except np.linalg.LinAlgError:
                    done[g] = (float(beta[g][1]), False)
                    active.discard(g)
                    continue
                t[g] = 1.0
            trial[g] = beta[g] + t[g] * step[g]
        if not trial:
            break
        got = _evaluate(data, trial)
        for g, cand in trial.items():
            ll_new = got[g][0]
            if not (ll_new >= state[g][0] - 1e-12 or t[g] < 1e-8):
                t[g] /= 2.0
                continue
            moved = t[g] * step.pop(g)
            beta[g], state[g] = cand, got[g]
            if np.max(np.abs(moved)) < _TOL * (1.0 + np.max(np.abs(cand))):
                done[g] = (float(cand[1]), True)
                active.discard(g)
            elif iterations[g] >= _MAX_ITER:
                done[g] = (float(cand[1]), False)
                active.discard(g)
    return done
