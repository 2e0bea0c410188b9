"""Approving a version for use: evidence first, then authority; every refusal is recorded.

Approval needs the version's *validating* package (the one recorded when it was
validated: same package id and manifest digest), still verifying, and itself
*approved* — signed ``reviewed`` and ``approved`` under the package rules of
:mod:`cmlops.reports.status`. Who may approve is decided by
:func:`authority_problems`: the *approver* role of the signing policy kept in
the audit chain, and the separation-of-duty rules.
A refused approval leaves an audit record (``model.approval.refused``: who,
what, why) and no approval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import ApprovalError, RegistryError
from cmlops.lifecycle.packages import checked_package
from cmlops.lifecycle.registry import VersionState, model_state, replay
from cmlops.store.model import AuditEvent
from cmlops.trust.ledger import load_ledger
from cmlops.trust.policy import INIT_HINT, PolicyVersion


def authority_problems(
    actor: str,
    version: VersionState,
    package: dict[str, Any],
    signatures: list[dict[str, Any]],
    policy: PolicyVersion | None,
) -> list[str]:
    """Why ``actor`` may not approve ``version`` for use (empty when they may).

    Authority comes from the signing policy in the audit chain (``policy``, the
    one in force now; see :mod:`cmlops.trust.policy`): the actor must hold the
    *approver* role. Separation of duties: whoever registered the version, ran
    its validation, or signed its validation package as reviewer may not approve
    it for use (reviewer and approver are different people).
    """
    out = []
    if policy is None:
        out.append(
            f"no signing policy in this store: {INIT_HINT}; approval needs the approver role"
        )
    elif not policy.holds(actor, "approver"):
        out.append(
            f"{actor} does not hold the approver role in the policy: an admin grants it with "
            f"`cmlops policy grant approver {actor}`"
        )
    if actor == version.registered.get("actor"):
        out.append(f"{actor} registered this version and may not also approve it")
    if actor == package["user"]:
        out.append(f"{actor} ran its validation and may not also approve it")
    if any(s.get("meaning") == "reviewed" and s.get("user_id") == actor for s in signatures):
        out.append(f"{actor} reviewed its validation package: reviewer and approver must differ")
    return out


def _evidence_problems(
    version: VersionState, package: dict[str, Any], state: dict[str, Any]
) -> list[str]:
    out = []
    if version.status != "validated":
        out.append(f"the version is {version.status}, not validated")
        return out
    recorded = version.validation or {}
    if package["package_id"] != recorded.get("package_id"):
        out.append(
            f"package {package['package_id']} is not the one that validated it "
            f"({recorded.get('package_id')})"
        )
    elif package["manifest_sha256"] != recorded.get("manifest_sha256"):
        out.append("the package's manifest changed since it validated the version")
    if state["status"] != "approved":
        out.append(f"its validation package is {state['status']}, not approved (signed)")
    return out


def approve_version(
    store: Any, name: str, version: int, package_path: str | Path, *, reason: str = ""
) -> VersionState:
    """Approve ``name`` v``version`` for use, or record the refusal and raise ApprovalError."""
    from cmlops.reports.status import package_state

    current = model_state(store, name).version(version)
    actor = store.actor
    try:
        package = checked_package(package_path)
    except RegistryError as exc:
        _refuse(store, name, version, [str(exc)], str(package_path))
    state = package_state(package_path, store=store)
    problems = _evidence_problems(current, package, state)
    policy = load_ledger(store).policies.current
    problems += authority_problems(actor, current, package, state["signatures"], policy)
    if problems:
        _refuse(store, name, version, problems, package["package_id"])
    payload = {
        "version": version,
        "entity_id": current.entity_id,
        "package_id": package["package_id"],
        "manifest_sha256": package["manifest_sha256"],
        "package_signatures": [
            {k: s.get(k) for k in ("meaning", "user_id", "name", "signed_at", "key_id")}
            for s in state["signatures"]
        ],
    }

    def decide(read: Any) -> list[AuditEvent]:
        again = replay(name, read(object_type="model", object_id=name)).version(version)
        if again.status != "validated":
            raise ApprovalError(f"{name} v{version} is {again.status}, not validated")
        return [AuditEvent("model.version.approved", "model", name, payload, reason)]

    store.append_decided(decide)
    return model_state(store, name).version(version)


def _refuse(store: Any, name: str, version: int, problems: list[str], package: str) -> None:
    store.append(
        "model.approval.refused",
        "model",
        name,
        {"version": version, "package": package, "reasons": problems},
        reason="approval refused",
    )
    raise ApprovalError(f"approval of {name} v{version} refused: " + "; ".join(problems))
