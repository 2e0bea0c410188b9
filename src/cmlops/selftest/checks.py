"""One selftest check: what was checked, against which requirement, and what was seen.

Every IQ, OQ and PQ step is a :class:`Check`. A check that raises is a failed
check carrying the error, never a crashed selftest: :func:`guarded` runs a step
and turns an unexpected exception into that failure, so one broken step cannot
hide the outcome of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

STAGES = ("IQ", "OQ", "PQ")


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    ``expected`` says what a correct installation gives (a published value, the
    RECORD hash, "verify reports the edit"); ``observed`` what this one gave.
    ``deviations`` are differences that do not fail the check but that a
    reviewer must assess (an untested dependency version).
    """

    id: str
    stage: str
    title: str
    requirements: tuple[str, ...]
    passed: bool
    expected: str
    observed: str
    deviations: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "title": self.title,
            "requirements": list(self.requirements),
            "passed": self.passed,
            "expected": self.expected,
            "observed": self.observed,
            "deviations": list(self.deviations),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            id=data["id"],
            stage=data["stage"],
            title=data["title"],
            requirements=tuple(data["requirements"]),
            passed=bool(data["passed"]),
            expected=data["expected"],
            observed=data["observed"],
            deviations=tuple(data.get("deviations", ())),
        )


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:300]


def guarded(
    step: Callable[[], Iterable[Check]],
    *,
    check_id: str,
    stage: str,
    title: str,
    requirements: tuple[str, ...],
) -> list[Check]:
    """The checks of ``step``, or one failed check naming the error it raised."""
    try:
        return list(step())
    except Exception as error:  # noqa: BLE001 - a broken step is a failed check, not a crash
        return [
            Check(
                id=check_id,
                stage=stage,
                title=title,
                requirements=requirements,
                passed=False,
                expected="the step completes",
                observed=f"the step raised {one_line(error)}",
            )
        ]


def by_requirement(checks: Iterable[Check]) -> dict[str, list[tuple[str, bool]]]:
    """``{"REQ-AUD-003": [("OQ-AUD-02", True), ...]}`` for the traceability matrix."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for check in checks:
        for requirement in check.requirements:
            out.setdefault(requirement, []).append((check.id, check.passed))
    return out
