"""Pre-specified acceptance criteria on result rows: ``{key: (op, bound)}`` parsed and judged.

The one home of criteria for :func:`cmlops.evaluate` and :func:`cmlops.compare`.
A criterion names a row field through its key (``auroc_difference_ci_high``), an
operator (``>=``, ``>``, ``<=``, ``<``) with one bound or ``"between"`` with two
(inclusive). Judging marks every matching row (``passed``, ``criterion``) by these
rules:

- an undefined value fails its criterion — a decision cannot rest on a number that
  does not exist;
- a value that exists but cannot support a decision (the row's ``not_evaluable``
  says why: too few events, a degenerate interval, a fit that did not converge)
  leaves the criterion *not evaluated*: ``passed`` None, and a warning;
- the verdict over rows is :func:`all_of`: False if any failed, else None if any was
  not evaluated, else True. None is never a pass.

A criterion that matches no row is an error (a typo must not pass silently).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

__all__ = [
    "OPS",
    "CriteriaVerdict",
    "Criterion",
    "all_of",
    "apply_criteria",
    "as_given",
    "parse_criterion",
]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Criterion:
    """One criterion: the rows of ``metric`` must have ``field`` within ``op``/``bounds``."""

    key: str
    metric: str
    field: str
    op: str
    bounds: tuple[float, ...]

    @property
    def text(self) -> str:
        return f"{self.key} {self.op} {' and '.join(f'{b:g}' for b in self.bounds)}"

    def judge(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.op == "between":
            return self.bounds[0] <= value <= self.bounds[1]
        return bool(OPS[self.op](value, self.bounds[0]))


def parse_criterion(
    key: str, spec: Any, metric: str, field: str, error: type[Exception]
) -> Criterion:
    """Check ``spec`` is ``(op, bound)`` or ``("between", low, high)``; ``error`` if not."""
    if not isinstance(spec, (tuple, list)) or len(spec) < 2:
        raise error(f"criterion {key!r} must be (op, bound) or ('between', low, high)")
    op = str(spec[0])
    try:
        bounds = tuple(float(b) for b in spec[1:])
    except (TypeError, ValueError):
        raise error(f"criterion {key!r}: bounds must be numbers, got {tuple(spec)!r}") from None
    if not ((op in OPS and len(bounds) == 1) or (op == "between" and len(bounds) == 2)):
        raise error(
            f"criterion {key!r}: op must be one of >=, >, <=, < with one bound or "
            f"'between' with two, got {tuple(spec)!r}"
        )
    return Criterion(key, metric, field, op, bounds)


def all_of(outcomes: Iterable[bool | None]) -> bool | None:
    """False if any failed, else None if any was not evaluated, else True."""
    outcomes = list(outcomes)
    if any(o is False for o in outcomes):
        return False
    return None if any(o is None for o in outcomes) else True


def apply_criteria(
    rows: Iterable[Any],
    criteria: Mapping[str, Criterion],
    in_scope: Callable[[Any], bool],
    error: type[Exception],
    warnings: list[str],
) -> bool | None:
    """Judge every in-scope row of each criterion's metric; the overall verdict.

    Returns None without criteria, else :func:`all_of` the judged rows.
    """
    rows = list(rows)
    verdicts: list[bool | None] = []
    for crit in criteria.values():
        matched = [r for r in rows if r.metric == crit.metric and in_scope(r)]
        if not matched:
            raise error(
                f"criterion {crit.key!r} matches no reported metric (is a threshold, a score "
                "scale that reports it, or a group missing?)"
            )
        for r in matched:
            value = getattr(r, crit.field)
            weak = getattr(r, "not_evaluable", "")
            ok: bool | None = crit.judge(value)
            if value is not None and weak:
                ok = None
                warnings.append(f"criterion {crit.text} on {r.subgroup}: not evaluated ({weak})")
            first = r.criterion is None
            r.criterion = crit.text if first else f"{r.criterion}; {crit.text}"
            r.passed = ok if first else all_of([r.passed, ok])
            verdicts.append(ok)
    return None if not verdicts else all_of(verdicts)


def as_given(parsed: Mapping[str, Criterion]) -> dict[str, list[Any]]:
    """The criteria as a result records them: ``{key: [op, bound, ...]}``."""
    return {k: [c.op, *c.bounds] for k, c in parsed.items()}


class CriteriaVerdict:
    """Verdict and consistency of a result whose ``passed`` is :func:`all_of` its criterion
    rows (:class:`~cmlops.stats.evaluation_result.EvaluationResult`,
    :class:`~cmlops.stats.comparison_result.ComparisonResult`).

    ``_judged_rows`` names the field holding the rows (each with ``criterion`` and
    ``passed``); the result has a ``passed`` field.
    """

    _judged_rows: ClassVar[str]
    if TYPE_CHECKING:  # pragma: no cover - a field of the dataclass using this
        passed: bool | None

    @property
    def verdict(self) -> str:
        """``"pass"``/``"fail"`` from the criteria; ``"not evaluable"`` without criteria or
        when a criterion could not be evaluated and none failed."""
        return {True: "pass", False: "fail", None: "not evaluable"}[self.passed]

    def _consistent(self) -> bool:
        """``passed`` follows from the rows' criteria (checked when reading a stored dict)."""
        rows = getattr(self, self._judged_rows)
        judged = [r.passed for r in rows if r.criterion is not None]
        return self.passed == (all_of(judged) if judged else None)
