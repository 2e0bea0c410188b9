"""OQ: the known-answer checks pass on a sound cmlops and fail on a broken one.

The whole OQ (with its real report run and signed package) runs on the installed
wheel in tests/selftest/test_selftest_wheel.py; here each family of checks is run
in-process and then against a deliberately broken implementation, to show that
the check can fail — a check that cannot fail proves nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cmlops.selftest import oq_audit, oq_signatures, oq_statistics
from cmlops.selftest.checks import guarded

pytestmark = pytest.mark.req("REQ-CSV-003")


def _outcomes(checks) -> dict[str, bool]:
    return {c.id: c.passed for c in checks}


def test_audit_checks_pass_and_fail_when_verify_stops_checking_anchors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = oq_audit.audit_checks(tmp_path / "sound")
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert len(checks) == 10 and {r for c in checks for r in c.requirements} == {
        "REQ-AUD-001",
        "REQ-AUD-003",
        "REQ-AUD-004",
        "REQ-AUD-005",
        "REQ-AUD-006",
    }
    from cmlops.store.sql import Store

    original = Store.verify
    monkeypatch.setattr(Store, "verify", lambda self, anchor=None, **kw: original(self, **kw))
    blind = _outcomes(oq_audit.audit_checks(tmp_path / "blind"))
    assert not blind["OQ-AUD-08"] and not blind["OQ-AUD-09"]  # truncation, re-chaining missed
    assert blind["OQ-AUD-02"]


def test_audit_checks_fail_when_verify_finds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmlops.store.sql import Store

    original = Store.verify

    def lenient(self, anchor=None, **kw):
        return dataclasses.replace(original(self, **kw), ok=True, broken=None)

    monkeypatch.setattr(Store, "verify", lenient)
    outcomes = _outcomes(oq_audit.audit_checks(tmp_path))
    assert [k for k, ok in outcomes.items() if not ok] == [f"OQ-AUD-{n:02d}" for n in range(2, 10)]


def test_statistics_checks_pass_and_fail_on_a_wrong_variance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks = oq_statistics.auroc_checks() + oq_statistics.drift_checks()
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert "area 0.8932" in checks[0].observed
    from cmlops.stats import delong

    original = delong.auroc_delong

    def biased(y, s, level=0.95):  # the classic slip: a population (ddof=0) variance
        result = original(y, s, level)
        return dataclasses.replace(result, se=result.se * 0.99)

    monkeypatch.setattr(delong, "auroc_delong", biased)
    outcomes = _outcomes(oq_statistics.auroc_checks())
    assert not outcomes["OQ-STA-02"] and outcomes["OQ-STA-03"]


def test_drift_checks_fail_when_a_statistic_drifts_from_scipy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cmlops.stats import _drift_numeric as numeric

    original = numeric.ks_statistic
    monkeypatch.setattr(numeric, "ks_statistic", lambda *samples: original(*samples) + 1e-6)
    assert not _outcomes(oq_statistics.drift_checks())["OQ-STA-04"]


def test_signature_checks_fail_when_verification_accepts_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert oq_signatures.primitive_check().passed
    import cmlops.trust.ed25519 as ed25519

    monkeypatch.setattr(ed25519, "verify_document", lambda *args, **kwargs: True)
    check = oq_signatures.primitive_check()
    assert not check.passed and "ACCEPTED: an altered document" in check.observed


def test_a_step_that_raises_is_a_failed_check_not_a_crash() -> None:
    def broken():
        raise RuntimeError("disk\nfull")

    (check,) = guarded(broken, check_id="OQ-X", stage="OQ", title="t", requirements=("R",))
    assert not check.passed and check.observed == "the step raised RuntimeError: disk full"


def test_package_signature_checks_fail_when_the_key_registry_is_not_consulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verifier that trusts the key an entry names, and a signer that takes any key file."""
    from types import SimpleNamespace

    from cmlops.reports import signatures, signing
    from cmlops.selftest.operation import _packages

    monkeypatch.setattr(signatures, "_key_problem", lambda *args: "")
    monkeypatch.setattr(
        signing, "signer_key", lambda ledger, actor, key, now: SimpleNamespace(name=key.name)
    )
    outcomes = _outcomes(_packages(tmp_path))
    assert outcomes["OQ-SIG-02"] and outcomes["OQ-SIG-03"]  # the genuine signature still verifies
    assert not outcomes["OQ-SIG-04"]  # a renamed signer is no longer named a forgery
    assert not outcomes["OQ-SIG-05"]  # a throwaway key is not refused as unregistered
    assert not outcomes["OQ-SIG-06"]  # an unregistered key file signs
