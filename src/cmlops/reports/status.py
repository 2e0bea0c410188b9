"""A package's status — the one place its rules live — and supersession.

Status is never written into the package (that would change signed bytes): it
is derived from the verification result, the run status, the *valid*
signatures and the audit chain's ``package.superseded`` records, so everyone
computes the same status from the same evidence:

* ``INVALID`` — the package fails verification (nothing else is claimed for it);
* ``superseded`` — a verified successor was recorded in the chain;
* ``ABORTED`` — the run was stopped (never approved, whatever is signed);
* ``approved`` — a valid approval of a run that executed;
  ``approved-with-deviation`` — a valid approval with deviation;
* ``FAILED`` — the run failed (and no approval with deviation exists);
* ``reviewed`` — a valid review; otherwise ``executed``.

A package is superseded only by a successor that verifies (against the store),
whose run did not fail, from the same template — or, for another template,
with a recorded justification. A refused supersession is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cmlops.reports.errors import PackageError
from cmlops.reports.manifest import read_manifest
from cmlops.reports.package import opened_package
from cmlops.reports.verify import PackageVerification, verify_folder
from cmlops.trust.ledger import load_ledger
from cmlops.trust.policy import DEVIATION
from cmlops.trust.refusals import recorded_refusal

SUPERSEDED = "package.superseded"
INVALID = "INVALID"


def package_status(
    run_status: str, verified: bool, meanings: Iterable[str], superseded_by: str | None = None
) -> str:
    """The status for these facts (see the module docstring for the order of the rules)."""
    meanings = set(meanings)
    if not verified:
        return INVALID
    if superseded_by:
        return "superseded"
    if run_status == "ABORTED":
        return run_status  # never approved, whatever signatures claim
    if "approved" in meanings and run_status == "EXECUTED":
        return "approved"
    if DEVIATION in meanings:
        return DEVIATION
    if run_status in ("FAILED", "ABORTED"):
        return run_status
    return "reviewed" if "reviewed" in meanings else "executed"


def status_of(result: PackageVerification, superseded_by: str | None = None) -> str:
    """The status of a verified (or not) package."""
    meanings = (s["meaning"] for s in result.signatures if s["valid"])
    return package_status(result.status, result.ok, meanings, superseded_by)


def superseded_by(store: Any, package_id: str) -> str | None:
    """The successor recorded in the chain for ``package_id`` (the latest), if any."""
    if store is None:
        return None
    found = store.records(
        action=SUPERSEDED, object_type="package", object_id=package_id, newest_first=True, limit=1
    )
    return found[0].payload_dict().get("superseded_by") if found else None


def package_state(path: str | Path, *, store: Any = None) -> dict[str, Any]:
    """Status, template, verification and valid signatures of a package (folder or zip)."""
    with opened_package(Path(path)) as root:
        manifest, _raw = read_manifest(root)
        result = verify_folder(root, label=str(path), store=store)
    successor = superseded_by(store, result.package_id)
    return {
        "package_id": result.package_id,
        "template": manifest.get("template", {}).get("name", ""),
        "status": status_of(result, successor),
        "run_status": result.status,
        "verdict": (manifest.get("results") or {}).get("verdict"),
        "verified": result.ok,
        "problems": result.lines(),
        "signatures": [s for s in result.signatures if s["valid"]],
        "superseded_by": successor,
    }


def _check_successor(old: dict[str, Any], root: Path, store: Any, justification: str) -> str:
    """The successor's problem as a one-line refusal, '' when it may supersede ``old``."""
    new, _raw = read_manifest(root)
    result = verify_folder(root, store=store)
    if new["package_id"] == old["package_id"]:
        return "a package cannot supersede itself"
    if not result.ok:
        return f"the successor fails verification ({result.lines()[0]}): it cannot supersede"
    if result.status != "EXECUTED":
        return f"the successor's run {result.status}: only a run that executed can supersede"
    if superseded_by(store, new["package_id"]):
        return "the successor is itself superseded"
    same = new["template"]["name"] == old["template"]["name"]
    if not same and not justification.strip():
        return (
            f"the successor comes from template {new['template']['name']!r}, not "
            f"{old['template']['name']!r}: pass --justification to record why"
        )
    return ""


def supersede(
    old: str | Path, new: str | Path, *, store: Any, reason: str = "", justification: str = ""
) -> None:
    """Record in the audit log that package ``new`` supersedes package ``old`` (checked)."""
    with opened_package(Path(old)) as root:
        old_manifest, _ = read_manifest(root)
    attempt = {"superseded_by": None, "path": str(new)}
    package_id = old_manifest["package_id"]
    with recorded_refusal(store, "package.supersede_refused", "package", package_id, attempt):
        with opened_package(Path(new)) as root:
            attempt["superseded_by"] = read_manifest(root)[0].get("package_id")
            problem = _check_successor(old_manifest, root, store, justification)
        if not problem and superseded_by(store, package_id):
            problem = f"package {package_id} is already superseded"
        if not problem:
            problem = _authority_problem(store)
        if problem:
            raise PackageError(problem)
    store.append(
        SUPERSEDED,
        "package",
        package_id,
        {
            "superseded_by": attempt["superseded_by"],
            "path": str(new),
            "justification": justification.strip(),
        },
        reason=reason.strip() or justification.strip() or "superseded by a newer package",
    )


def _authority_problem(store: Any) -> str:
    """With a signing policy, superseding is for approvers and admins."""
    policy = load_ledger(store).policies.current
    if policy is None or any(policy.holds(store.actor, r) for r in ("approver", "admin")):
        return ""
    return f"{store.actor!r} holds neither the approver nor the admin role: ask an approver"
