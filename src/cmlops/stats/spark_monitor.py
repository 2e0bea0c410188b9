"""``cmlops.monitor`` on a Spark frame: the same windows, drift, performance and alerts.

The frame never leaves Spark. A fixed number of Spark jobs, whatever the number of
windows:

1. the time range (first and last time, rows without a time, reference rows): the
   windows are then pandas' own bins over that range (:mod:`.monitor_windows`), and
   each row's window is a binary search over the bin edges in the JVM;
2. drift: one grouped job profiles every window (and the reference, when it is part
   of the frame) — KLL sketches and counts as for ``cmlops.drift`` on Spark — and one
   grouped job counts categories; each window is then compared by the public
   ``drift(reference, window_frame, **drift_options)`` with those profiles
   prefetched (:func:`cmlops.stats.spark_drift.prefetched_profiles`), so a window's
   drift result *is* ``cmlops.drift`` of that window's rows, sketch error bounds and
   uncertain verdicts included;
3. performance: exact, by grouped sums and a distributed rank computation
   (:mod:`.spark_performance`).

Windows are calendar windows (``window="30D"``, ``"MS"``, ``"QS"`` ...). Windows of N
rows are refused: a Spark frame has no row order, so "the next N rows" is not
defined where times tie (the pandas path takes the frame's order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.spark_frames import is_spark_frame, spark_errors, spark_version
from cmlops.stats.monitor_windows import TimeBin, drift_fields, judge_window, time_bins
from cmlops.stats.spark_drift import Side, needs_counts, prefetched_profiles, unsupported
from cmlops.stats.spark_performance import GroupedPerformance
from cmlops.stats.spark_profile import (
    DEFAULT_SKETCH_K,
    CategoricalProfile,
    count_categories,
    empty_profiles,
    grouped_profiles,
)
from cmlops.stats.spark_ranges import searchsorted

__all__ = ["SparkMonitor", "monitor_spark"]

WINDOW = "__cmlops_window"
#: the group of the reference rows when they are part of the monitored frame
REF = -1
_TIME_TYPES = ("timestamp", "timestamp_ntz", "date")


@dataclass
class SparkMonitor:
    """What :func:`cmlops.monitor` wraps into a ``MonitorResult``."""

    rows: list[dict]
    alerts: list
    reference: dict
    engine: dict
    warnings: list[str] = field(default_factory=list)
    drift: dict = field(default_factory=dict)


def _micros(name: str, type_name: str) -> Any:
    """The time column as integer microseconds since 1970-01-01 (UTC for instants)."""
    from pyspark.sql import functions as F

    quoted = "`" + name.replace("`", "``") + "`"
    if type_name == "timestamp":
        return F.unix_micros(F.col(quoted))
    if type_name == "timestamp_ntz":
        return F.expr(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', {quoted})")
    return F.unix_date(F.col(quoted)).cast("long") * F.lit(86_400_000_000)


def _stamp_micros(x: Any, aware: bool, ceil: bool = True) -> int:
    """A time bound as microseconds comparable with the column (UTC for instants)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(x)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"reference bound {x!r} is not a time: {exc}") from None
    if ts.tzinfo is None and aware:
        ts = ts.tz_localize("UTC")
    elif ts.tzinfo is not None and not aware:
        ts = ts.tz_convert("UTC").tz_localize(None)
    nanos = int(ts.value)
    return -((-nanos) // 1000) if ceil else nanos // 1000


def _timestamp(micros: int, aware: bool) -> Any:
    import pandas as pd

    return pd.Timestamp(micros, unit="us", tz="UTC" if aware else None)


@dataclass
class _Layout:
    """How the frame's rows fall into the reference and the windows."""

    framed: Any  # the frame with the WINDOW column (null: not monitored)
    bins: dict[int, TimeBin]  # window index -> bin (the reference's bin excluded)
    ref_group: int | None  # group of the reference rows in ``framed``, None when given
    no_time: int


def _layout(frame: Any, time: str, window: Any, reference: Any) -> _Layout:
    """Job 1: the time range; then each row's window (or the reference) as a column."""
    from pyspark.sql import functions as F

    if not isinstance(window, str):
        raise InvalidInputError(
            "windows of N rows are not defined on a Spark frame (it has no row order): "
            "use a calendar window such as '30D', 'MS' or 'QS'"
        )
    type_name = {f.name: f.dataType.typeName() for f in frame.schema.fields}[time]
    if type_name not in _TIME_TYPES:
        raise InvalidInputError(
            f"time column {time!r} is {type_name} in the Spark frame: cast it to a timestamp "
            "(pyspark.sql.functions.to_timestamp) or a date"
        )
    aware = type_name == "timestamp"
    t = _micros(time, type_name)
    in_ref = F.lit(False)
    if isinstance(reference, tuple):
        if len(reference) != 2:
            raise InvalidInputError("reference interval must be (start, end)")
        lo, hi = (_stamp_micros(x, aware) for x in reference)
        in_ref = t.isNotNull() & (t >= F.lit(lo)) & (t < F.lit(hi))
    rest = F.when(~in_ref, t)
    with spark_errors("finding the time range of the Spark frame"):
        first, last, no_time, n_ref = frame.agg(
            F.min(rest), F.max(rest), F.count_if(t.isNull()), F.count_if(in_ref)
        ).first()
    if isinstance(reference, tuple) and not n_ref:
        raise InvalidInputError(f"no rows of the frame fall in the reference interval {reference}")
    if first is None:
        raise InvalidInputError("the frame has no rows to monitor")
    bins = time_bins(_timestamp(first, aware), _timestamp(last, aware), window)
    edges = [_edge(b.start, b.closed) for b in bins] + [_edge(bins[-1].end, bins[-1].closed)]
    closed = bins[0].closed
    index = searchsorted(t, edges, "right" if closed == "left" else "left") - F.lit(1)
    group = F.when(in_ref, F.lit(REF)).when(t.isNotNull(), index)
    framed = frame.withColumn(WINDOW, group)
    numbered = dict(enumerate(bins))
    ref_group: int | None = REF if isinstance(reference, tuple) else None
    if reference is None:
        numbered.pop(0)
        ref_group = 0
    return _Layout(framed, numbered, ref_group, int(no_time))


def _edge(ts: Any, closed: str) -> int:
    """A bin edge in microseconds: rounded so integer times compare as pandas' nanoseconds."""
    nanos = int(ts.value)
    return -((-nanos) // 1000) if closed == "left" else nanos // 1000


def _group_frame(layout: _Layout, group: int, columns: list[str]) -> Any:
    from pyspark.sql import functions as F

    return layout.framed.where(F.col(WINDOW) == F.lit(group)).select(*columns)


@dataclass
class _DriftPlan:
    """The reference and each window as frames for ``drift``, with their profiles prefetched."""

    reference: Any
    windows: dict[int, Any]
    rows: dict[int, int]
    entries: list[tuple] = field(default_factory=list)


def _drift_plan(
    layout: _Layout, reference: Any, feats: list[str], opts: dict, min_rows: int
) -> _DriftPlan:
    """Jobs 2 and 3: every window's profile, then the category counts the tests need."""
    given = reference is not None and not isinstance(reference, tuple)
    ref_frame = reference if given else _group_frame(layout, layout.ref_group, feats)
    if given and not is_spark_frame(reference):
        ref_frame = reference[feats] if all(f in reference.columns for f in feats) else reference
    windows = {i: _group_frame(layout, i, feats) for i in layout.bins}
    plan = _DriftPlan(ref_frame, windows, {})
    k = opts.get("sketch_k", DEFAULT_SKETCH_K)
    if not windows or isinstance(k, bool) or not isinstance(k, int) or not 8 <= k <= 65535:
        return plan  # drift() itself refuses a bad sketch_k, in its own words
    forced = set(opts.get("categorical", ()))
    if any(f not in getattr(ref_frame, "columns", ()) for f in feats):
        return plan  # drift() names the columns that are not in both frames
    ref_side, cur_side = Side(ref_frame, "reference"), Side(windows[min(windows)], "current")
    for side in (ref_side, cur_side):
        side.classify(feats, forced)
    names = [n for n in feats if unsupported(n, ref_side, cur_side) is None]
    specs = {n: (cur_side.kinds[n], cur_side.types[n]) for n in names}
    from pyspark.sql import functions as F

    grouped = grouped_profiles(layout.framed, F.col(WINDOW), specs, k, "monitored")
    if given:
        ref_side.profile(names, k)
        ref_profile = (ref_side.rows, ref_side.profiles)
    else:
        ref_profile = grouped.get(layout.ref_group, (0, empty_profiles(specs)))
    profiles = {i: grouped.get(i, (0, empty_profiles(specs))) for i in windows}
    plan.rows = {i: rows for i, (rows, _) in profiles.items()}
    if not given:
        plan.rows[layout.ref_group] = ref_profile[0]
    tested = [i for i in windows if plan.rows[i] >= min_rows]
    _count(layout, specs, ref_side, cur_side, ref_profile, profiles, tested, given)
    plan.entries = [(ref_frame, k, *ref_profile)] + [(windows[i], k, *profiles[i]) for i in tested]
    return plan


def _count(layout, specs, ref_side, cur_side, ref_profile, profiles, tested, given) -> None:
    """Exact category counts of every (window, column) pair a drift test will need."""
    from pyspark.sql import functions as F

    ref_side.rows, ref_side.profiles = ref_profile
    wanted: dict[str, list[int]] = {}
    for i in tested:
        cur_side.rows, cur_side.profiles = profiles[i]
        for name in specs:
            if needs_counts(name, ref_side, cur_side):
                wanted.setdefault(name, []).append(i)
    if not wanted:
        return
    if given:
        ref_side.count(list(wanted))
    else:
        for name in wanted:
            wanted[name].append(layout.ref_group)
    counted = count_categories(
        layout.framed, {n: specs[n] for n in wanted}, "monitored", F.col(WINDOW), wanted
    )
    for name, groups in wanted.items():
        for g in groups:
            prof = ref_profile[1][name] if g == layout.ref_group and not given else None
            prof = prof or profiles[g][1][name]
            got = counted.get(g, {}).get(name, {})
            if isinstance(prof, CategoricalProfile):
                prof.counts = got
            else:
                prof.exact_counts = {float(v): c for v, c in got.items()}


def monitor_spark(
    frame: Any,
    *,
    time: str,
    window: Any,
    reference: Any,
    target: str | None,
    prediction: str | None,
    features: list[str],
    triggers: list,
    min_window_rows: int,
    drift_options: dict,
    f1_thresholds: list[float],
) -> SparkMonitor:
    """Windows, drift, performance and alerts of a Spark frame (see the module docstring)."""
    layout = _layout(frame, time, window, reference)
    plan = (
        _drift_plan(layout, reference, features, drift_options, min_window_rows)
        if features
        else _DriftPlan(None, {}, {})
    )
    perf = _Performance(layout, reference, target, prediction, f1_thresholds)
    sizes = plan.rows or perf.sizes(min_window_rows) or _sizes(layout)
    perf.compute(sizes, min_window_rows)
    out = SparkMonitor([], [], {}, _engine(frame))
    ref_n = _reference_rows(layout, reference, plan, perf, sizes)
    out.reference = {"n": ref_n, **perf.reference}
    if layout.no_time:
        out.warnings.append(f"{layout.no_time} rows have no {time!r} and are not monitored")
    for i, b in layout.bins.items():
        row = _window_row(i, b, sizes.get(i, 0), perf, min_window_rows)
        if row["status"] == "ok":
            if features:
                d = _window_drift(plan, i, drift_options)
                out.drift[row["window"]] = d
                row.update(drift_fields(d))
            perf.fill(i, row)
            out.alerts.extend(judge_window(row, triggers, perf.reference))
        out.rows.append(row)
    if out.drift:
        out.engine["drift"] = next(iter(out.drift.values())).settings.get("engine")
    return out


def _window_drift(plan: _DriftPlan, i: int, opts: dict) -> Any:
    from cmlops.stats.drift import drift

    with prefetched_profiles(plan.entries):
        return drift(plan.reference, plan.windows[i], **opts)


def _iso(ts: Any) -> str:
    return ts.isoformat()


def _window_row(i: int, b: TimeBin, n: int, perf: _Performance, min_rows: int) -> dict:
    row: dict = {
        "window": _iso(b.label),
        "start": _iso(b.start),
        "end": _iso(b.end),
        "n": int(n),
        "warnings": [],
    }
    if perf.target is not None:
        row["events"] = perf.events.get(i, 0)
    row["status"] = "ok" if n >= min_rows else f"too small (< {min_rows} rows): not tested"
    return row


def _sizes(layout: _Layout) -> dict[int, int]:
    from pyspark.sql import functions as F

    with spark_errors("counting the rows of each window"):
        rows = layout.framed.groupBy(WINDOW).count().where(F.col(WINDOW).isNotNull()).collect()
    return {r[0]: int(r[1]) for r in rows}


def _reference_rows(layout, reference, plan, perf, sizes) -> int:
    if reference is None or isinstance(reference, tuple):
        return int(sizes.get(layout.ref_group, 0))
    if plan.entries:
        return int(plan.entries[0][2])
    if perf.ref_size is not None:
        return perf.ref_size
    if is_spark_frame(reference):
        with spark_errors("counting the reference rows"):
            return int(reference.count())
    return len(reference)


def _engine(frame: Any) -> dict:
    return {
        "engine": "spark",
        "spark_version": spark_version(frame),
        "windows": "pandas bins over the time range; rows assigned in Spark",
        "performance": (
            "exact: sums per window; AUROC and DeLong interval from counts per distinct "
            "score (distributed); calibration slope by Newton-Raphson in Spark"
        ),
    }


class _Performance:
    """The windows' performance (and the reference's), from :class:`GroupedPerformance`."""

    def __init__(self, layout: _Layout, reference: Any, target, prediction, thresholds) -> None:
        self.layout, self.target = layout, target
        self.reference: dict = {}
        self.results: dict[int, dict] = {}
        self.events: dict[int, int] = {}
        self.ref_size: int | None = None
        if target is None:
            return
        from pyspark.sql import functions as F

        self.windows = GroupedPerformance(
            layout.framed, F.col(WINDOW), target, prediction, thresholds
        )
        self.events = self.windows.events
        self.given = None
        if reference is not None and not isinstance(reference, tuple):
            ref = reference
            if not is_spark_frame(ref):
                session = layout.framed.sparkSession
                with spark_errors("passing the pandas reference to Spark"):
                    ref = session.createDataFrame(reference[[target, prediction]])
            self.given = GroupedPerformance(ref, F.lit(REF), target, prediction, thresholds)
            self.ref_size = self.given.sizes.get(REF, 0)

    def sizes(self, min_rows: int) -> dict[int, int]:
        return self.windows.sizes if self.target is not None else {}

    def compute(self, sizes: dict[int, int], min_rows: int) -> None:
        """Evaluate the reference and every window large enough to be tested."""
        if self.target is None:
            return
        tested = {
            i: _iso(b.label) for i, b in self.layout.bins.items() if sizes.get(i, 0) >= min_rows
        }
        if self.given is None:
            tested[self.layout.ref_group] = "reference"
            self.results = self.windows.evaluate(tested)
            self.reference = self.results.pop(self.layout.ref_group)
        else:
            self.results = self.windows.evaluate(tested)
            self.reference = self.given.evaluate({REF: "reference"})[REF]
        self.reference = {k: v for k, v in self.reference.items() if k != "warnings"} | {
            "warnings": self.reference.get("warnings", [])
        }

    def fill(self, i: int, row: dict) -> None:
        """The window's performance into its row, with the Brier rise over the reference."""
        if self.target is None:
            return
        perf = dict(self.results[i])
        row["warnings"].extend(perf.pop("warnings"))
        row.update(perf)
        if row.get("brier") is not None and self.reference.get("brier") is not None:
            row["brier_rise"] = row["brier"] - self.reference["brier"]
