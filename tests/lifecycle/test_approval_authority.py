"""Who may approve a model version for use: the approver role of the chain's policy, and
separation of duties (the rules alone; tests/lifecycle/test_registry_story.py runs them
end to end, with roles granted by an admin's signed policy records)."""

from __future__ import annotations

import pytest

from cmlops.lifecycle.approval import authority_problems
from cmlops.lifecycle.registry import VersionState
from cmlops.trust.policy import PolicyVersion, normalise_policy

POLICY = PolicyVersion(
    seq=5,
    hash="0" * 64,
    ts="2026-01-01T00:00:00Z",
    changed_by="ada",
    policy=normalise_policy(
        {"roles": {"admin": ["ada"], "reviewer": ["rita"], "approver": ["alan", "rita", "tess"]}}
    ),
)
VERSION = VersionState(1, "e1", "validated", {}, {}, {"actor": "reg"})
PACKAGE = {"user": "tess", "package_id": "p1"}
SIGNED = [
    {"meaning": "reviewed", "user_id": "rita"},
    {"meaning": "approved", "user_id": "alan"},
]


@pytest.mark.req("REQ-SIG-007")
@pytest.mark.parametrize(
    ("actor", "policy", "expected"),
    [
        ("alan", POLICY, []),
        ("ada", POLICY, ["ada does not hold the approver role"]),
        ("reg", POLICY, ["does not hold the approver role", "reg registered this version"]),
        ("tess", POLICY, ["tess ran its validation"]),
        ("rita", POLICY, ["rita reviewed its validation package"]),
        ("alan", None, ["no signing policy in this store"]),
    ],
)
def test_approval_authority(actor: str, policy: PolicyVersion | None, expected: list[str]) -> None:
    problems = authority_problems(actor, VERSION, PACKAGE, SIGNED, policy)
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


@pytest.mark.req("REQ-SIG-007")
def test_an_approver_need_not_have_signed_the_package() -> None:
    """The authority is the role, not a signature on the evidence (that is the package's)."""
    unsigned = [{"meaning": "reviewed", "user_id": "rita"}]
    assert authority_problems("alan", VERSION, PACKAGE, unsigned, POLICY) == []
