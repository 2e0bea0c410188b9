"""The signing rules and the policy document, as pure functions (the same ones verify uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmlops.errors import PolicyError
from cmlops.trust.policy import (
    PolicyVersion,
    SigningFacts,
    normalise_policy,
    read_policy_file,
    signing_problem,
)

pytestmark = pytest.mark.req("REQ-SIG-007")

POLICY = PolicyVersion(
    seq=10,
    hash="0" * 64,
    ts="2026-01-01T00:00:00.000000+00:00",
    changed_by="alice",
    policy=normalise_policy(
        {
            "roles": {
                "admin": ["alice"],
                "author": ["carol"],
                "reviewer": ["bob", "dave", "carol"],
                "approver": ["erin", "dave"],
            }
        }
    ),
)


def facts(signer: str, meaning: str, *earlier: tuple[str, str], **kw) -> SigningFacts:
    return SigningFacts(
        signer=signer,
        meaning=meaning,
        run_author=kw.get("author", "carol"),
        run_status=kw.get("status", "EXECUTED"),
        verdict=kw.get("verdict", "PASS"),
        justification=kw.get("justification", ""),
        earlier=tuple(earlier),
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (facts("carol", "authored"), ""),
        (facts("bob", "reviewed"), ""),
        (facts("erin", "approved", ("bob", "reviewed")), ""),
        (facts("mallory", "reviewed"), "'mallory' does not hold the reviewer role"),
        (facts("bob", "authored"), "'bob' does not hold the author role"),
        (facts("bob", "approved", ("dave", "reviewed")), "does not hold the approver role"),
        (facts("carol", "reviewed"), "'carol' ran this report and may not review it"),
        (facts("erin", "approved"), "approval needs an earlier review"),
        (
            facts("dave", "approved", ("dave", "reviewed")),
            "'dave' reviewed this package: reviewer and approver must be different people",
        ),
        (
            facts("dave", "reviewed", ("bob", "reviewed"), ("dave", "approved")),
            "'dave' approved this package: reviewer and approver must be different people",
        ),
        (facts("bob", "reviewed", ("bob", "reviewed")), "already signed this package as reviewed"),
        (
            facts("erin", "approved", ("bob", "reviewed"), verdict="FAIL"),
            "verdict is FAIL: it cannot be approved",
        ),
        (
            facts("erin", "approved", ("bob", "reviewed"), verdict="NOT EVALUATED"),
            "verdict is NOT EVALUATED: it cannot be approved",
        ),
        (
            facts("erin", "approved", ("bob", "reviewed"), status="FAILED"),
            "the run FAILED: it cannot be approved",
        ),
        (
            facts("erin", "approved-with-deviation", ("bob", "reviewed"), verdict="FAIL"),
            "needs a --justification",
        ),
        (
            facts(
                "erin",
                "approved-with-deviation",
                ("bob", "reviewed"),
                status="FAILED",
                justification="accepted by the study board",
            ),
            "",
        ),
        (
            facts("bob", "reviewed", justification="looks fine"),
            "--justification is only for --meaning approved-with-deviation",
        ),
        (
            facts(
                "erin",
                "approved-with-deviation",
                ("bob", "reviewed"),
                status="ABORTED",
                justification="we accept it",
            ),
            "the run was ABORTED: it is never approved",
        ),
        (facts("bob", "reviewed", author=None), "the run's author is unknown"),
        (facts("bob", "signed"), "unknown meaning 'signed'"),
    ],
)
def test_signing_rules(case: SigningFacts, expected: str) -> None:
    problem = signing_problem(POLICY, case)
    assert (expected in problem) if expected else problem == ""


def test_without_a_policy_only_authored_is_possible() -> None:
    assert signing_problem(None, facts("anyone", "authored")) == ""
    problem = signing_problem(None, facts("bob", "reviewed"))
    assert "no signing policy in this store" in problem and "cmlops policy init" in problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: [alice]", "'roles' must map role names"),
        ("roles:\n  admin: alice", "roles.admin must be a list"),
        ("roles:\n  admin: []\n  reviewer: [bob]", "at least one admin"),
        ("roles:\n  admin: [alice]\n  owner: [bob]", "unknown role(s) owner"),
        ("roles:\n  admin: ['']", "user id is empty"),
        ("roles:\n  admin: [alice]\nextra: 1", "unknown key(s) 'extra'"),
        ("roles: {admin: [alice]\n", "cannot be read"),
        ("!!python/object/apply:os.system ['true']", "cannot be read"),
        ("[1, 2]", "a policy is a mapping"),
    ],
)
def test_malformed_policy_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        read_policy_file(path)
    assert "\n" not in str(info.value)


def test_policy_files_are_normalised_and_fifos_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"roles": {"reviewer": ["bob", "bob"], "admin": ["alice"]}}')
    assert read_policy_file(path)["roles"] == {
        "admin": ["alice"],
        "author": [],
        "reviewer": ["bob"],
        "approver": [],
    }
    fifo = tmp_path / "fifo.yaml"
    import os

    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="not a regular file"):
        read_policy_file(fifo)
