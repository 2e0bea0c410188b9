"""Operational qualification: the bundled known-answer checks, run on the installed copy.

Everything happens in a throwaway folder with its own throwaway store — the
user's audit trail is never attacked, only the OQ's own. A step that raises is a
failed check naming the error (:func:`cmlops.selftest.checks.guarded`).
"""

from __future__ import annotations

from pathlib import Path

from cmlops.selftest.checks import Check, guarded
from cmlops.selftest.oq_audit import audit_checks
from cmlops.selftest.oq_packages import package_checks, sample_package
from cmlops.selftest.oq_signatures import package_signature_checks, primitive_check
from cmlops.selftest.oq_statistics import auroc_checks, drift_checks


def _packages(work: Path) -> list[Check]:
    """The sample package, its edited copies, then its signature and forged copies."""
    from cmlops.store import open_store

    home = work / "store" / ".cmlops"
    store = open_store(f"sqlite:///{home / 'store.sqlite'}", home=home)
    try:
        run = sample_package(work, store)
        checks = package_checks(work, run)
        checks += guarded(
            lambda: package_signature_checks(work, run.package, store),
            check_id="OQ-SIG-02",
            stage="OQ",
            title="a signed package verifies, and forged signatures are refused",
            requirements=("REQ-SIG-001", "REQ-SIG-002"),
        )
        return checks
    finally:
        store.close()


def qualify_operation(work: Path) -> list[Check]:
    """Every OQ check, in ``work`` (an empty folder the caller removes afterwards)."""
    work.mkdir(parents=True, exist_ok=True)
    steps = [
        (
            "OQ-AUD-01",
            "audit chain tamper classes",
            ("REQ-AUD-003",),
            lambda: audit_checks(work / "audit"),
        ),
        ("OQ-STA-01", "AUROC known answers", ("REQ-STA-001",), auroc_checks),
        ("OQ-STA-04", "drift against SciPy", ("REQ-STA-003",), drift_checks),
        ("OQ-SIG-01", "Ed25519 forgeries", ("REQ-SIG-004",), lambda: [primitive_check()]),
        (
            "OQ-PKG-01",
            "package verification",
            ("REQ-PKG-001",),
            lambda: _packages(work / "packages"),
        ),
    ]
    checks: list[Check] = []
    for check_id, title, requirements, step in steps:
        checks += guarded(
            step, check_id=check_id, stage="OQ", title=title, requirements=requirements
        )
    return checks
