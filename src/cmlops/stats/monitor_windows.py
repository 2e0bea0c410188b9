"""What both paths of ``cmlops.monitor`` share: time bins, a window's drift fields, its alerts.

Time bins are pandas' own: a Spark frame's windows are the bins ``pandas.Grouper``
makes between the first and the last time, so a monitoring run gives the same
windows on pandas and on Spark. A bin is closed on the side pandas closes it: most
aliases (``"30D"``, ``"MS"``, ``"QS"``) give ``[start, end)``, the end-anchored ones
(``"W"``, ``"ME"``, ``"QE"``, ``"YE"``) ``(start, end]`` with the label at the end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.stats._monitor_triggers import Alert, Rule, Trigger, evaluate_trigger

__all__ = ["TimeBin", "bin_bounds", "drift_fields", "judge_window", "time_bins"]


#: offsets whose right-closed bins pandas extends to the end of the label's day
_END_OF_DAY = ("BME", "ME", "W", "BQE", "BYE", "QE", "YE")


@dataclass(frozen=True)
class TimeBin:
    """One window: its label (a pandas Timestamp), bounds and the side it is closed on."""

    label: Any
    start: Any
    end: Any
    closed: str  # "left": [start, end); "right": (start, end]


def _grouper(time: str, window: str) -> Any:
    import pandas as pd

    try:
        return pd.Grouper(key=time, freq=window), pd.tseries.frequencies.to_offset(window)
    except (ValueError, TypeError):
        raise InvalidInputError(
            f"window {window!r} is not a pandas offset alias: use e.g. '30D', '12W', 'MS' "
            "or a number of rows per window"
        ) from None


def bin_bounds(label: Any, offset: Any, closed: str | None) -> TimeBin:
    """The bin pandas labels ``label`` (pandas' ``TimeGrouper`` rules).

    Left-closed aliases: ``[label, label + offset)``. End-anchored ones (``W``, ``ME``,
    ``QE``, ``YE`` and their business variants) are closed on the right *day*: pandas
    moves their edges to the last moment of the label's day, so the bin is
    ``[label - offset + 1 day, label + 1 day)``. Any other right-closed bin is
    ``(label - offset, label]``.
    """
    import pandas as pd

    if closed != "right":
        return TimeBin(label, label, label + offset, "left")
    base = str(getattr(offset, "rule_code", "")).split("-")[0]
    if base in _END_OF_DAY:
        day = pd.Timedelta(days=1)
        return TimeBin(label, label - offset + day, label + day, "left")
    return TimeBin(label, label - offset, label, "right")


def time_bins(first: Any, last: Any, window: str) -> list[TimeBin]:
    """Every bin pandas makes for ``window`` from ``first`` to ``last`` (empty ones included)."""
    import pandas as pd

    grouper, offset = _grouper("t", window)
    frame = pd.DataFrame({"t": [first, last]})
    try:
        labels = [key for key, _ in frame.groupby(grouper, sort=True)]
    except (ValueError, TypeError):
        raise InvalidInputError(
            f"window {window!r} is not a pandas offset alias: use e.g. '30D', '12W', 'MS' "
            "or a number of rows per window"
        ) from None
    return [bin_bounds(label, offset, grouper.closed) for label in labels]


def drift_fields(d: Any) -> dict:
    """A window's drift columns: verdicts, drifted columns and their statistics.

    Sketch statistics (Spark) add whether the window's verdict is uncertain, which
    columns are, and the error bound of each drifted or uncertain column.
    """
    fields = {
        "n_drifted": d.n_drifted,
        "drift_share": d.share_drifted,
        "drift_share_threshold": d.drift_share,
        "dataset_drift": d.dataset_drift,
        "drifted_columns": d.drifted_columns,
        "drift_statistics": {c.column: c.statistic for c in d.columns if c.drifted},
    }
    if any(c.error_bound is not None for c in d.columns):
        fields["drift_uncertain"] = bool(d.uncertain)
        fields["uncertain_columns"] = [c.column for c in d.columns if c.uncertain]
        fields["drift_error_bounds"] = {
            c.column: c.error_bound for c in d.columns if c.drifted or c.uncertain
        }
    return fields


def judge_window(row: dict, triggers: Sequence[Trigger], ref_perf: dict) -> list[Alert]:
    """The alerts ``triggers`` fire in one window; notes go to the row's warnings.

    An alert on a column (or a dataset verdict) the sketches left uncertain says so, so a
    reviewer knows the alert could go away with ``drift_options={"exact": True}``.
    """
    fired: list[Alert] = []
    uncertain = set(row.get("uncertain_columns") or [])
    for t in triggers:
        got, note = evaluate_trigger(t, row, ref_perf)
        for alert in got:
            doubt = (alert.rule == Rule.FEATURE_DRIFT.value and alert.column in uncertain) or (
                alert.rule == Rule.DATASET_DRIFT.value and row.get("drift_uncertain")
            )
            if doubt:
                alert = dataclasses.replace(
                    alert, message=alert.message + " (uncertain within the sketch error bounds)"
                )
            fired.append(alert)
        if note:
            row["warnings"].append(note)
    for column in sorted(uncertain):
        row["warnings"].append(
            f"drift of {column!r} uncertain within the sketch error bounds: "
            "drift_options={'exact': True} decides it"
        )
    row["n_alerts"] = len(fired)
    return fired
