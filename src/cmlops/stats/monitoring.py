"""``cmlops.monitor``: drift and model performance per time window, with alert rules.

Post-market monitoring of a clinical model asks two questions per period: has
the case mix moved away from the data the model was validated on (drift), and
does the model still discriminate and stay calibrated (performance)? Both are
computed per window against one reference, and pre-specified
:class:`Trigger` rules turn them into alerts that can be written to the audit
log by the capture layer (``cmlops.record_alerts(result)``; this module never writes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from cmlops.errors import InvalidInputError
from cmlops.json_safe import json_safe
from cmlops.spark_frames import is_spark_frame
from cmlops.stats._drift_result import DriftResult
from cmlops.stats._monitor_triggers import (
    DEFAULT_DRIFT_TRIGGERS,
    DEFAULT_PERFORMANCE_TRIGGERS,
    Alert,
    Rule,
    Trigger,
)
from cmlops.stats.monitor_windows import bin_bounds, drift_fields, judge_window
from cmlops.stats.result import ListOf, Result

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Alert", "MonitorResult", "Rule", "Trigger", "monitor"]

PERF_KEYS = ("auroc", "auroc_ci_low", "auroc_ci_high", "calibration_slope", "oe_ratio", "brier")
WINDOW_COLUMNS = [
    "window",
    "start",
    "end",
    "n",
    "events",
    "status",
    "n_drifted",
    "drift_share",
    "dataset_drift",
    "drifted_columns",
    *PERF_KEYS,
    "brier_rise",
    "f1",
    "n_alerts",
    "warnings",
]


@dataclass
class MonitorResult(Result):
    """Per-window drift and performance, the rules applied and the alerts they fired.

    ``drift`` gives the full drift result of every tested window in this session. It
    is a private, session-only field (see :mod:`cmlops.stats.result`): not stored by
    ``to_dict`` (each window keeps its drifted columns and their statistics), because
    storing it made recording a monitoring result about 100 times costlier (1.8 MB
    for 33 windows x 25 columns; benchmarks/RESULTS.md). ``from_dict`` therefore
    gives ``drift == {}``.
    ``verdict``: ``"fail"`` when a rule fired, ``"pass"`` when none did, ``"not
    evaluable"`` when no window was large enough to test (``passed`` is then None).
    """

    _cmlops_result_kind: ClassVar[str] = "monitor"
    _nested: ClassVar[dict] = {"alerts": ListOf(Alert), "triggers": ListOf(Trigger)}
    _derived: ClassVar[tuple[str, ...]] = ("monitor_id", "passed", "verdict")
    _title: ClassVar[str] = "Monitoring"

    windows: list[dict]
    alerts: list[Alert]
    triggers: list[Trigger]
    reference: dict
    settings: dict
    warnings: list[str] = field(default_factory=list)
    _drift: dict[str, DriftResult] = field(default_factory=dict, repr=False, compare=False)

    @property
    def drift(self) -> dict[str, DriftResult]:
        """Each tested window's full drift result (this session only; see the class doc)."""
        return self._drift

    @property
    def monitor_id(self) -> str:
        """Stable id of this monitoring run: a hash of its settings, rules and windows."""
        basis = json.dumps(
            json_safe(
                {
                    "settings": self.settings,
                    "triggers": [t.to_dict() for t in self.triggers],
                    "windows": [(w["window"], w["n"]) for w in self.windows],
                }
            ),
            sort_keys=True,
        )
        return "monitor-" + hashlib.sha256(basis.encode()).hexdigest()[:16]

    def to_frame(self) -> pd.DataFrame:
        """One row per window."""
        import pandas as pd

        rows = []
        for w in self.windows:
            row = {k: w.get(k) for k in WINDOW_COLUMNS}
            row["drifted_columns"] = ", ".join(w.get("drifted_columns") or [])
            row["warnings"] = "; ".join(w.get("warnings", []))
            rows.append(row)
        return pd.DataFrame(rows, columns=WINDOW_COLUMNS)

    def alerts_frame(self) -> pd.DataFrame:
        import pandas as pd

        cols = ["window", "rule", "observed", "threshold", "message", "column"]
        return pd.DataFrame([a.to_dict() for a in self.alerts], columns=cols)

    @property
    def passed(self) -> bool | None:
        """False when a rule fired, None when no window was tested, else True."""
        if self.alerts:
            return False
        return True if any(w.get("status") == "ok" for w in self.windows) else None

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "fail", None: "not evaluable"}[self.passed]

    def _summary(self) -> str:
        tested = sum(w.get("status") == "ok" for w in self.windows)
        return (
            f"{len(self.alerts)} alerts in {len(self.windows)} windows ({tested} tested), "
            f"{len(self.triggers)} rules"
        )

    def _consistent(self) -> bool:
        """Each window's alert count matches the alerts listed (a stored dict edited does not)."""
        counted = sum(int(w.get("n_alerts") or 0) for w in self.windows)
        return counted == len(self.alerts)


def monitor(
    frame: pd.DataFrame,
    *,
    time: str,
    window: str | int,
    reference: pd.DataFrame | tuple | None = None,
    target: str | None = None,
    prediction: str | None = None,
    features: Iterable[str] | None = None,
    triggers: Sequence[Trigger] | None = None,
    min_window_rows: int = 30,
    drift_options: Mapping[str, Any] | None = None,
) -> MonitorResult:
    """Drift and performance of ``frame`` per time window against a reference.

    Args:
        frame: one row per case, with a time column.
        time: name of the time column (datetimes; tz-aware are converted to UTC).
        window: a pandas offset alias ("30D", "MS", "QS") or a number of rows per window.
        reference: the reference data (a frame with the same columns), or a
            ``(start, end)`` time interval of ``frame`` (end exclusive; those rows are
            then not monitored), or None for the first window.
        target, prediction: observed binary outcome and predicted probability columns;
            with both, AUROC (DeLong CI), calibration slope, O/E and Brier are computed.
        features: columns to test for drift (default: all but time, target, prediction).
        triggers: pre-specified rules; default: calibration slope and O/E outside
            [0.8, 1.2], Brier rise > 0.02 (with target and prediction) and drift of any
            feature. AUROC floors are model-specific: add ``Trigger.auroc_below(x)``.
        min_window_rows: windows with fewer rows are reported, not tested.
        drift_options: keyword arguments passed to :func:`cmlops.drift` (correction, ...).
    """
    trig = _checked_triggers(frame, reference, time, target, prediction, triggers)
    excluded = {time, target, prediction} - {None}
    feats = _features(frame, features, excluded)
    has_perf = target is not None
    f1_thresholds = sorted({t.decision_threshold for t in trig if t.rule == Rule.F1_DROP_ABOVE})
    settings = {
        "time": time,
        "window": window,
        "target": target,
        "prediction": prediction,
        "features": feats,
        "min_window_rows": min_window_rows,
        "drift_options": dict(drift_options or {}),
    }
    if is_spark_frame(frame):
        return _monitor_spark(frame, reference, trig, settings, f1_thresholds)
    data = frame.copy()
    data[time] = _as_utc(data[time], time)
    data = data.sort_values(time, kind="stable")
    windows, ref = _split(data, time, window, reference)
    plan = _WindowPlan(
        ref=ref,
        features=feats,
        target=target,
        prediction=prediction,
        triggers=trig,
        min_rows=min_window_rows,
        drift_options=settings["drift_options"],
        f1_thresholds=f1_thresholds,
        ref_perf=_performance(ref, target, prediction, f1_thresholds) if has_perf else {},
    )
    ref_info = {"n": len(ref), "source": _describe_reference(reference), **plan.ref_perf}
    rows: list[dict] = []
    alerts: list[Alert] = []
    for label, (start, end, part) in windows.items():
        row, fired = plan.window(label, start, end, part)
        alerts.extend(fired)
        rows.append(row)
    warnings = [f"window {r['window']}: {r['status']}" for r in rows if r["status"] != "ok"]
    no_time = int(data[time].isna().sum())
    if no_time and isinstance(window, str):
        warnings.append(f"{no_time} rows have no {time!r} and are not monitored")
    return MonitorResult(
        rows, alerts, trig, json_safe(ref_info), settings, warnings, _drift=plan.drift_results
    )


def _checked_triggers(frame, reference, time, target, prediction, triggers) -> list[Trigger]:
    """Refuse what monitor cannot use; the triggers to apply (given or the defaults)."""
    import pandas as pd

    on_spark = is_spark_frame(frame)
    if not on_spark and not isinstance(frame, pd.DataFrame):
        raise InvalidInputError("frame must be a pandas or a Spark DataFrame")
    if not on_spark and is_spark_frame(reference):
        raise InvalidInputError(
            "the reference is a Spark frame but the monitored frame is not: pass both as "
            "Spark frames (spark.createDataFrame(frame)) or both as pandas"
        )
    for name, label in ((time, "time"), (target, "target"), (prediction, "prediction")):
        if name is not None and name not in frame.columns:
            raise InvalidInputError(f"{label} column {name!r} is not in the frame")
    if (target is None) != (prediction is None):
        raise InvalidInputError("give both target and prediction for performance, or neither")
    has_perf = target is not None
    trig = list(triggers) if triggers is not None else _default_triggers(has_perf)
    for t in trig:
        if not isinstance(t, Trigger):
            raise InvalidInputError(f"triggers must be Trigger values, got {t!r}")
        if t.rule not in (Rule.FEATURE_DRIFT, Rule.DATASET_DRIFT) and not has_perf:
            raise InvalidInputError(f"trigger {t.describe()!r} needs target= and prediction=")
    return trig


@dataclass
class _WindowPlan:
    """What every window is compared with and judged by."""

    ref: Any
    features: list
    target: str | None
    prediction: str | None
    triggers: list[Trigger]
    min_rows: int
    drift_options: dict
    f1_thresholds: list
    ref_perf: dict
    drift_results: dict[str, DriftResult] = field(default_factory=dict)

    def window(self, label: str, start: Any, end: Any, part: Any) -> tuple[dict, list[Alert]]:
        """One window's row (drift, performance, status, warnings) and the alerts it fired."""
        import pandas as pd

        row: dict = {"window": label, "start": start, "end": end, "n": len(part), "warnings": []}
        if self.target is not None:
            row["events"] = int(pd.to_numeric(part[self.target], errors="coerce").fillna(0).sum())
        if len(part) < self.min_rows:
            row["status"] = f"too small (< {self.min_rows} rows): not tested"
            return row, []
        row["status"] = "ok"
        if self.features:
            self._drift(label, part, row)
        if self.target is not None:
            perf = _performance(part, self.target, self.prediction, self.f1_thresholds)
            row["warnings"].extend(perf.pop("warnings"))
            row.update(perf)
            if row.get("brier") is not None and self.ref_perf.get("brier") is not None:
                row["brier_rise"] = row["brier"] - self.ref_perf["brier"]
        return row, judge_window(row, self.triggers, self.ref_perf)

    def _drift(self, label: str, part: Any, row: dict) -> None:
        from cmlops.stats.drift import drift

        d = drift(self.ref[self.features], part[self.features], **self.drift_options)
        self.drift_results[label] = d
        row.update(drift_fields(d))


def _features(frame: Any, features: Iterable[str] | None, excluded: set) -> list[str]:
    """The columns to test for drift: those given (each must exist), else all but excluded."""
    if features is None:
        return [c for c in frame.columns if c not in excluded]
    feats = list(features)
    missing = [f for f in feats if f not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"features not in the frame: {', '.join(map(str, missing))}; name columns of the frame"
        )
    return feats


def _monitor_spark(frame, reference, trig, settings, f1_thresholds) -> MonitorResult:
    """The Spark path (:mod:`cmlops.stats.spark_monitor`): same windows, rules and result."""
    from cmlops.stats.spark_monitor import monitor_spark

    got = monitor_spark(
        frame,
        time=settings["time"],
        window=settings["window"],
        reference=reference,
        target=settings["target"],
        prediction=settings["prediction"],
        features=settings["features"],
        triggers=trig,
        min_window_rows=settings["min_window_rows"],
        drift_options=settings["drift_options"],
        f1_thresholds=f1_thresholds,
    )
    rows = got.rows
    warnings = [f"window {r['window']}: {r['status']}" for r in rows if r["status"] != "ok"]
    ref_info = {"source": _describe_reference(reference), **got.reference}
    return MonitorResult(
        rows,
        got.alerts,
        trig,
        json_safe(ref_info),
        {**settings, "engine": got.engine},
        warnings + got.warnings,
        _drift=got.drift,
    )


def _default_triggers(has_perf: bool) -> list[Trigger]:
    return [*(DEFAULT_PERFORMANCE_TRIGGERS if has_perf else ()), *DEFAULT_DRIFT_TRIGGERS]


def _as_utc(s: pd.Series, name: str) -> pd.Series:
    import pandas as pd

    try:
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return s.dt.tz_convert("UTC")
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return s
        return pd.to_datetime(s, utc=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"time column {name!r} is not datetimes: {exc}") from None


def _split(data, time, window, reference):
    """Windows as {label: (start, end, rows)} and the reference rows."""
    import pandas as pd

    ref = None
    if isinstance(reference, pd.DataFrame):
        ref = reference
    elif isinstance(reference, tuple):
        if len(reference) != 2:
            raise InvalidInputError("reference interval must be (start, end)")
        lo, hi = (_stamp(x, data[time]) for x in reference)
        in_ref = (data[time] >= lo) & (data[time] < hi)
        ref = data[in_ref]
        data = data[~in_ref]
        if ref.empty:
            raise InvalidInputError(
                f"no rows of the frame fall in the reference interval {reference}"
            )
    elif reference is not None:
        raise InvalidInputError("reference must be a DataFrame, a (start, end) tuple or None")
    windows: dict[str, tuple] = {}
    if isinstance(window, (int, np.integer)) and not isinstance(window, bool):
        if window < 1:
            raise InvalidInputError(f"window must be a positive number of rows, got {window}")
        for i, lo in enumerate(range(0, len(data), int(window))):
            part = data.iloc[lo : lo + int(window)]
            windows[f"w{i + 1:03d}"] = (_iso(part[time].iloc[0]), _iso(part[time].iloc[-1]), part)
    elif isinstance(window, str):
        try:
            grouper = pd.Grouper(key=time, freq=window)
            groups = data.groupby(grouper, sort=True)
        except (ValueError, TypeError):
            raise InvalidInputError(
                f"window {window!r} is not a pandas offset alias: use e.g. '30D', '12W', 'MS' "
                "or a number of rows per window"
            ) from None
        offset = pd.tseries.frequencies.to_offset(window)
        for label, part in groups:
            b = bin_bounds(label, offset, grouper.closed)
            windows[_iso(label)] = (_iso(b.start), _iso(b.end), part)
    else:
        raise InvalidInputError("window must be an offset alias like '30D' or a number of rows")
    if ref is None:
        if not windows:
            raise InvalidInputError("the frame has no rows to monitor")
        first = next(iter(windows))
        ref = windows.pop(first)[2]
    return windows, ref


def _stamp(x, times):
    """A bound of the reference interval comparable with the time column (UTC if aware)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"reference bound {x!r} is not a time: {exc}") from None
    aware_times = getattr(times.dt, "tz", None) is not None
    if ts.tzinfo is None and aware_times:
        ts = ts.tz_localize("UTC")
    elif ts.tzinfo is not None and not aware_times:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _iso(ts) -> str:
    return ts.isoformat() if hasattr(ts, "isoformat") else str(ts)


def _describe_reference(reference) -> str:
    import pandas as pd

    if isinstance(reference, pd.DataFrame) or is_spark_frame(reference):
        return "given frame"
    if isinstance(reference, tuple):
        return f"interval [{reference[0]}, {reference[1]})"
    return "first window"


def _performance(part, target, prediction, f1_thresholds) -> dict:
    """AUROC (DeLong CI), calibration slope, O/E and Brier of one window.

    The one place monitoring computes performance: it delegates to
    :func:`cmlops.stats.evaluation.evaluate` so the numbers are those of a full
    evaluation.
    """
    from cmlops.stats.evaluation import evaluate

    res = evaluate(
        part[target].to_numpy(),
        part[prediction].to_numpy(dtype=float),
        thresholds=f1_thresholds or None,
    )
    out: dict = {"warnings": list(res.warnings)}
    for key, metric, attr in (
        ("auroc", "auroc", "value"),
        ("auroc_ci_low", "auroc", "ci_low"),
        ("auroc_ci_high", "auroc", "ci_high"),
        ("calibration_slope", "calibration_slope", "value"),
        ("oe_ratio", "oe_ratio", "value"),
        ("brier", "brier", "value"),
    ):
        out[key] = getattr(res.metric(metric), attr)
    if f1_thresholds:
        out["f1_at"] = {str(t): res.value("f1", threshold=t) for t in f1_thresholds}
        out["f1"] = out["f1_at"][str(f1_thresholds[0])]
    return out
