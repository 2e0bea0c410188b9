"""Result objects of a drift comparison: plain dataclasses under the result protocol.

Why plain dataclasses: widgets, capture and reports consume them without
knowing how they were computed, and ``to_dict()`` is what gets stored as
evidence, so it records the tests, thresholds and correction actually used.
Display, export and the exact round trip come from :class:`cmlops.stats.result.Result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from cmlops.stats.result import DictOf, ListOf, Record, Result

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class ColumnDrift(Record):
    """Drift of one column: the test used, its outcome and both samples' summaries."""

    column: str
    kind: str  # numeric | categorical | binary | unsupported
    test: str
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    threshold: float | None
    correction: str
    effect_size: float | None
    effect_size_name: str | None
    drifted: bool
    status: str = "ok"  # ok | skipped
    reference: dict = field(default_factory=dict)
    current: dict = field(default_factory=dict)
    missing_share_reference: float | None = None
    missing_share_current: float | None = None
    missing_drifted: bool = False
    unseen_categories: list = field(default_factory=list)
    unseen_share: float | None = None
    unseen_drifted: bool = False
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    #: half-width of the interval holding the exact statistic (sketch-based results; 0 exact)
    error_bound: float | None = None
    #: the interval of the statistic (or of the adjusted p-value) straddles the threshold
    uncertain: bool = False


#: stratum label of the rows computed on all rows of a stratified result.
OVERALL = "(all)"

FRAME_COLUMNS = [
    "column",
    "kind",
    "test",
    "statistic",
    "p_value",
    "p_value_adjusted",
    "threshold",
    "correction",
    "effect_size",
    "effect_size_name",
    "drifted",
    "error_bound",
    "uncertain",
    "status",
    "n_reference",
    "n_current",
    "missing_share_reference",
    "missing_share_current",
    "missing_drifted",
    "unseen_share",
    "unseen_drifted",
    "warnings",
]


@dataclass
class DriftResult(Result):
    """Per-column drift, a dataset-level verdict and, if stratified, one result per stratum.

    ``dataset_drift`` is True when ``share_drifted >= drift_share`` (Evidently's
    rule; default 0.5). Skipped columns are listed with their reason and do not
    count in the share.

    ``verdict``: ``"fail"`` with dataset drift, ``"warn"`` when some columns drifted
    below the dataset threshold, ``"pass"`` when none did, ``"not evaluable"`` when no
    column could be tested or the dataset verdict is ``uncertain`` (``passed`` None).
    """

    _cmlops_result_kind: ClassVar[str] = "drift"
    _nested: ClassVar[dict] = {}  # set below the class: it refers to the class itself
    _title: ClassVar[str] = "Data drift"

    columns: list[ColumnDrift]
    correction: str
    alpha: float
    drift_share: float
    n_tested: int
    n_drifted: int
    share_drifted: float
    dataset_drift: bool
    n_reference: int
    n_current: int
    settings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    by: str | None = None
    strata: dict[str, DriftResult] = field(default_factory=dict)
    strata_skipped: list[dict] = field(default_factory=list)
    #: the error bounds of sketch-based statistics could change the dataset verdict
    uncertain: bool = False

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def uncertain_columns(self) -> list[str]:
        """Columns whose verdict the statistic's error bound could reverse."""
        return [c.column for c in self.columns if c.uncertain]

    def _rows(self, stratum: str | None) -> list[dict]:
        rows = []
        for c in self.columns:
            row = {
                "column": c.column,
                "kind": c.kind,
                "test": c.test,
                "statistic": c.statistic,
                "p_value": c.p_value,
                "p_value_adjusted": c.p_value_adjusted,
                "threshold": c.threshold,
                "correction": c.correction,
                "effect_size": c.effect_size,
                "effect_size_name": c.effect_size_name,
                "drifted": c.drifted,
                "error_bound": c.error_bound,
                "uncertain": c.uncertain,
                "status": c.status,
                "n_reference": c.reference.get("n"),
                "n_current": c.current.get("n"),
                "missing_share_reference": c.missing_share_reference,
                "missing_share_current": c.missing_share_current,
                "missing_drifted": c.missing_drifted,
                "unseen_share": c.unseen_share,
                "unseen_drifted": c.unseen_drifted,
                "warnings": "; ".join(c.warnings),
            }
            if self.by is not None:
                row = {"stratum": stratum, **row}
            rows.append(row)
        return rows

    def to_frame(self) -> pd.DataFrame:
        """One row per column (if stratified, also per stratum; overall rows: stratum "(all)")."""
        import pandas as pd

        rows = self._rows(OVERALL)
        for name, sub in self.strata.items():
            sub_rows = sub._rows(name)
            if self.by is not None:
                for r in sub_rows:
                    r.setdefault("stratum", name)
            rows.extend(sub_rows)
        cols = (["stratum"] if self.by is not None else []) + FRAME_COLUMNS
        return pd.DataFrame(rows, columns=cols)

    @property
    def passed(self) -> bool | None:
        """False with dataset drift, else True; None when no column was tested or the
        dataset verdict is ``uncertain`` (a sketch's error bounds could flip it)."""
        if self.n_tested == 0 or self.uncertain:
            return None
        return not self.dataset_drift

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "not evaluable"
        if self.dataset_drift:
            return "fail"
        return "warn" if self.n_drifted else "pass"

    def _summary(self) -> str:
        head = "dataset drift" if self.dataset_drift else "no dataset drift"
        if self.uncertain:
            head += " (uncertain within the error bounds)"
        strata = f", {len(self.strata)} strata by {self.by!r}" if self.by is not None else ""
        return (
            f"{head}, {self.n_drifted} of {self.n_tested} tested columns drifted "
            f"(correction={self.correction}, alpha={self.alpha:g}){strata}"
        )


DriftResult._nested = {"columns": ListOf(ColumnDrift), "strata": DictOf(DriftResult)}
