"""Pre-specified alert rules of :func:`cmlops.monitor`: small frozen values, not free strings.

Why pre-specified: post-market monitoring (FDA/MHRA GMLP, EU AI Act) asks that
what counts as degradation is fixed before the data arrive, so a rule is a
value recorded with the result, and an alert names the rule, the observed
value and the bound it crossed.

Why no F1 rule by default: F1 depends on a decision threshold and on
prevalence and ignores true negatives; for a clinical risk model whose output
is a probability, discrimination (AUROC), calibration (slope, O/E) and the
Brier score are the proper measures. ``Trigger.f1_drop`` exists for classifiers
that are used at a fixed threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.stats.result import Record


class Rule(str, Enum):
    """What a trigger watches."""

    AUROC_CI_LOW_BELOW = "auroc_ci_low_below"
    CALIBRATION_SLOPE_OUTSIDE = "calibration_slope_outside"
    OE_RATIO_OUTSIDE = "oe_ratio_outside"
    BRIER_RISE_ABOVE = "brier_rise_above"
    FEATURE_DRIFT = "feature_drift"
    DATASET_DRIFT = "dataset_drift"
    F1_DROP_ABOVE = "f1_drop_above"


@dataclass(frozen=True)
class Trigger(Record):
    """One alert rule. Build it with the class methods, e.g. ``Trigger.auroc_below(0.70)``.

    Fields: ``rule``; ``low``/``high`` the bound(s); ``column`` for feature drift
    (None: any column); ``decision_threshold`` for the F1 rule.
    """

    rule: Rule
    low: float | None = None
    high: float | None = None
    column: str | None = None
    decision_threshold: float | None = None

    #: ``to_dict`` adds the rule in words (``from_dict`` ignores it)
    _derived = ("description",)

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            object.__setattr__(self, "rule", Rule(self.rule))
        except ValueError:
            valid = ", ".join(r.value for r in Rule)
            raise InvalidInputError(
                f"unknown trigger rule {self.rule!r}: use one of {valid}"
            ) from None
        r = self.rule
        if r in (Rule.CALIBRATION_SLOPE_OUTSIDE, Rule.OE_RATIO_OUTSIDE):
            if self.low is None or self.high is None or not self.low < self.high:
                raise InvalidInputError(
                    f"{r.value} needs a band low < high, got {self.low}, {self.high}"
                )
        elif r in (Rule.AUROC_CI_LOW_BELOW, Rule.BRIER_RISE_ABOVE, Rule.F1_DROP_ABOVE):
            if self.low is None:
                raise InvalidInputError(f"{r.value} needs a bound (low=...)")
        if r == Rule.F1_DROP_ABOVE and not (
            self.decision_threshold is not None and 0 < self.decision_threshold < 1
        ):
            raise InvalidInputError("f1_drop_above needs decision_threshold in (0, 1)")

    @classmethod
    def auroc_below(cls, floor: float) -> Trigger:
        """Alert when the lower bound of the AUROC's DeLong 95 % CI falls below ``floor``."""
        return cls(Rule.AUROC_CI_LOW_BELOW, low=float(floor))

    @classmethod
    def calibration_slope_outside(cls, low: float = 0.8, high: float = 1.2) -> Trigger:
        """Alert when the calibration slope leaves ``[low, high]``."""
        return cls(Rule.CALIBRATION_SLOPE_OUTSIDE, low=float(low), high=float(high))

    @classmethod
    def oe_outside(cls, low: float = 0.8, high: float = 1.2) -> Trigger:
        """Alert when the observed/expected event ratio leaves ``[low, high]``."""
        return cls(Rule.OE_RATIO_OUTSIDE, low=float(low), high=float(high))

    @classmethod
    def brier_rise(cls, max_increase: float) -> Trigger:
        """Alert when the Brier score exceeds the reference's by more than ``max_increase``."""
        return cls(Rule.BRIER_RISE_ABOVE, low=float(max_increase))

    @classmethod
    def feature_drift(cls, column: str | None = None) -> Trigger:
        """Alert when ``column`` (None: any column) drifts against the reference."""
        return cls(Rule.FEATURE_DRIFT, column=column)

    @classmethod
    def dataset_drift(cls) -> Trigger:
        """Alert when the window's drift result gives the dataset-drift verdict."""
        return cls(Rule.DATASET_DRIFT)

    @classmethod
    def f1_drop(cls, max_drop: float, decision_threshold: float) -> Trigger:
        """Alert when F1 at ``decision_threshold`` falls by more than ``max_drop`` (not default)."""
        return cls(Rule.F1_DROP_ABOVE, low=float(max_drop), decision_threshold=decision_threshold)

    def describe(self) -> str:
        r = self.rule
        if r == Rule.AUROC_CI_LOW_BELOW:
            return f"AUROC 95% CI lower bound < {self.low:g}"
        if r == Rule.CALIBRATION_SLOPE_OUTSIDE:
            return f"calibration slope outside [{self.low:g}, {self.high:g}]"
        if r == Rule.OE_RATIO_OUTSIDE:
            return f"O/E ratio outside [{self.low:g}, {self.high:g}]"
        if r == Rule.BRIER_RISE_ABOVE:
            return f"Brier score rise over reference > {self.low:g}"
        if r == Rule.FEATURE_DRIFT:
            return f"drift in {self.column!r}" if self.column else "drift in any feature"
        if r == Rule.DATASET_DRIFT:
            return "dataset drift verdict"
        return f"F1 at {self.decision_threshold:g} drops by > {self.low:g}"

    @property
    def description(self) -> str:
        """The rule in words, as alerts and reports show it."""
        return self.describe()

    def to_dict(self) -> dict:
        return {**super().to_dict(), "rule": self.rule.value}


#: rules used when ``triggers`` is not given: calibration bands from the clinical
#: prediction literature, a Brier rise, and drift of any feature. No AUROC floor:
#: it is model-specific and must be pre-specified by the user.
DEFAULT_PERFORMANCE_TRIGGERS = (
    Trigger.calibration_slope_outside(0.8, 1.2),
    Trigger.oe_outside(0.8, 1.2),
    Trigger.brier_rise(0.02),
)
DEFAULT_DRIFT_TRIGGERS = (Trigger.feature_drift(None),)


@dataclass(frozen=True)
class Alert(Record):
    """One fired rule in one window."""

    window: str
    rule: str
    observed: float | list | None
    threshold: float | list | None
    message: str
    column: str | None = None


def evaluate_trigger(trig: Trigger, win: dict, ref_perf: dict) -> tuple[list[Alert], str | None]:
    """Alerts fired by one trigger in one window, and a note if it could not be evaluated."""
    label = win["window"]
    desc = trig.describe()

    def missing(metric: str) -> tuple[list[Alert], str]:
        return [], f"{desc}: not evaluable in window {label} ({metric} undefined)"

    if trig.rule in (Rule.FEATURE_DRIFT, Rule.DATASET_DRIFT):
        return _drift_alerts(trig, win, missing)
    return _performance_alerts(trig, win, ref_perf, missing)


def _drift_alerts(trig: Trigger, win: dict, missing: Any) -> tuple[list[Alert], str | None]:
    """A drifted feature (one alert per column) or dataset drift, in one window."""
    label, r = win["window"], trig.rule
    if r == Rule.FEATURE_DRIFT:
        cols = win.get("drifted_columns")
        if cols is None:
            return missing("drift")
        hit = [c for c in cols if trig.column is None or c == trig.column]
        stats = win.get("drift_statistics", {})
        return [
            Alert(label, r.value, stats.get(c), None, f"window {label}: {c!r} drifted", c)
            for c in hit
        ], None
    if r == Rule.DATASET_DRIFT:
        if win.get("dataset_drift") is None:
            return missing("drift")
        if win["dataset_drift"]:
            share = win["drift_share"]
            msg = f"window {label}: dataset drift ({share:.0%} of columns drifted)"
            return [Alert(label, r.value, share, win.get("drift_share_threshold"), msg)], None
    return [], None


def _performance_alerts(
    trig: Trigger, win: dict, ref_perf: dict, missing: Any
) -> tuple[list[Alert], str | None]:
    """AUROC floor, calibration slope and O/E range, Brier rise and F1 drop, in one window."""
    label, r = win["window"], trig.rule
    if r == Rule.AUROC_CI_LOW_BELOW:
        v = win.get("auroc_ci_low")
        if v is None:
            return missing("AUROC")
        if v < trig.low:
            msg = f"window {label}: AUROC 95% CI lower bound {v:.3f} < {trig.low:g}"
            return [Alert(label, r.value, v, trig.low, msg)], None
        return [], None
    if r in (Rule.CALIBRATION_SLOPE_OUTSIDE, Rule.OE_RATIO_OUTSIDE):
        key = "calibration_slope" if r == Rule.CALIBRATION_SLOPE_OUTSIDE else "oe_ratio"
        v = win.get(key)
        if v is None:
            return missing(key)
        if not trig.low <= v <= trig.high:
            name = key.replace("_", " ")
            msg = f"window {label}: {name} {v:.3f} outside [{trig.low:g}, {trig.high:g}]"
            return [Alert(label, r.value, v, [trig.low, trig.high], msg)], None
        return [], None
    if r == Rule.BRIER_RISE_ABOVE:
        v, ref = win.get("brier"), ref_perf.get("brier")
        if v is None or ref is None:
            return missing("Brier score")
        rise = v - ref
        if rise > trig.low:
            msg = f"window {label}: Brier {v:.4f} is {rise:.4f} above reference {ref:.4f}"
            return [Alert(label, r.value, rise, trig.low, msg)], None
        return [], None
    key = str(trig.decision_threshold)
    v, ref = win.get("f1_at", {}).get(key), ref_perf.get("f1_at", {}).get(key)
    if v is None or ref is None:
        return missing("F1")
    drop = ref - v
    if drop > trig.low:
        msg = f"window {label}: F1 {v:.3f} dropped {drop:.3f} from reference {ref:.3f}"
        return [Alert(label, r.value, drop, trig.low, msg)], None
    return [], None
