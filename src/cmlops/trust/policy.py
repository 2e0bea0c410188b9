"""Who may sign what: roles held by user ids, and the separation-of-duty rules.

The policy lives in the audit chain as ``policy.changed`` records. Each carries
the whole new policy inside a *change* document
``{schema, store_id, previous: {seq, hash} | null, policy}`` signed (context
``cmlops-policy-v1``) with the registered key of an admin of the policy in force
before it — or, for the very first policy of a store, by the one admin it names
(``cmlops policy init --admin U``, run by U). ``previous`` names the policy
record it replaces, so an old policy record replayed later does not count.

A policy document::

    {"schema": "cmlops.policy/1",
     "roles": {"admin": [...], "author": [...], "reviewer": [...], "approver": [...]}}

Signing rules (:func:`signing_problem`, the same function refuses a signing and
judges a signature when a package is verified):

* ``authored`` needs the *author* role (when a policy exists); ``reviewed`` the
  *reviewer* role; ``approved`` and ``approved-with-deviation`` the *approver*
  role. Without a policy only ``authored`` can be signed.
* The run's author (the actor of its ``report.started`` record) may not review
  or approve it; the reviewers and the approvers of a package are different
  people; approval needs an earlier review; nobody signs the same meaning twice.
* A package whose run FAILED or whose acceptance verdict is not PASS cannot be
  ``approved``; it can be ``approved-with-deviation`` with a justification text
  that the signature covers. An ABORTED run is never approved.

The rules are fixed in this version (not switchable by a policy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.errors import PolicyError, SigningError
from cmlops.trust.ed25519 import verify_document
from cmlops.trust.keys import check_text
from cmlops.trust.registry import KeyRegistry

POLICY_SCHEMA = "cmlops.policy/1"
CHANGE_SCHEMA = "cmlops.policy-change/1"
CHANGE_CONTEXT = "cmlops-policy-v1"
CHANGED = "policy.changed"
POLICY_OBJECT = "policy"
ROLES = ("admin", "author", "reviewer", "approver")
DEVIATION = "approved-with-deviation"
MEANINGS = ("authored", "reviewed", "approved", DEVIATION)
ROLE_FOR = {"authored": "author", "reviewed": "reviewer", "approved": "approver"}
ROLE_FOR[DEVIATION] = "approver"
MAX_POLICY_BYTES = 1_000_000
INIT_HINT = "an admin creates one with `cmlops policy init --admin USER` (run by that user)"


def normalise_policy(doc: Any, where: str = "policy") -> dict[str, Any]:
    """The canonical policy for ``doc`` (sorted, de-duplicated), or a one-line PolicyError."""
    if not isinstance(doc, dict):
        raise PolicyError(f"{where}: a policy is a mapping with a 'roles' mapping")
    unknown = sorted(set(doc) - {"schema", "roles"})
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}: use 'roles'")
    if doc.get("schema", POLICY_SCHEMA) != POLICY_SCHEMA:
        raise PolicyError(f"{where}: schema must be {POLICY_SCHEMA!r}")
    roles = doc.get("roles")
    if not isinstance(roles, dict):
        raise PolicyError(f"{where}: 'roles' must map role names to lists of user ids")
    bad = sorted(str(r) for r in roles if r not in ROLES)
    if bad:
        raise PolicyError(
            f"{where}: unknown role(s) {', '.join(bad)}: roles are {', '.join(ROLES)}"
        )
    out: dict[str, list[str]] = {}
    for role in ROLES:
        users = roles.get(role, [])
        if not isinstance(users, list):
            raise PolicyError(f"{where}: roles.{role} must be a list of user ids")
        try:
            out[role] = sorted({check_text("user id", u) for u in users})
        except SigningError as exc:
            raise PolicyError(f"{where}: roles.{role}: {exc}") from None
    if not out["admin"]:
        raise PolicyError(f"{where}: a policy needs at least one admin")
    return {"schema": POLICY_SCHEMA, "roles": out}


def read_policy_file(path: str | Path) -> dict[str, Any]:
    """A policy from a JSON or YAML file, checked; a one-line PolicyError otherwise."""
    target = Path(path)
    if not target.is_file():
        raise PolicyError(f"policy file {target} is not a regular file: give a JSON or YAML file")
    if target.stat().st_size > MAX_POLICY_BYTES:
        raise PolicyError(f"policy file {target} is larger than {MAX_POLICY_BYTES} bytes")
    try:
        text = target.read_text("utf-8")
        if target.suffix.lower() in (".yaml", ".yml"):
            import yaml

            doc = yaml.safe_load(text)
        else:
            doc = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError, UnicodeError, ValueError: one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PolicyError(f"policy file {target} cannot be read ({first}): fix the file") from None
    return normalise_policy(doc, where=str(target))


def change_document(
    policy: dict[str, Any], *, store_id: str, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The document an admin signs to put ``policy`` in force after ``previous``."""
    return {"schema": CHANGE_SCHEMA, "store_id": store_id, "previous": previous, "policy": policy}


@dataclass
class PolicyVersion:
    """A policy in force from the record at ``seq`` on."""

    seq: int
    hash: str
    ts: str
    changed_by: str
    policy: dict[str, Any]

    def holds(self, user_id: str, role: str) -> bool:
        return user_id in self.policy["roles"].get(role, [])


@dataclass
class PolicyHistory:
    """Every policy that counted, in chain order; feed it records with :meth:`apply`."""

    versions: list[PolicyVersion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def at(self, seq: int) -> PolicyVersion | None:
        """The policy in force just before the record at ``seq``."""
        found = None
        for version in self.versions:
            if version.seq >= seq:
                break
            found = version
        return found

    @property
    def current(self) -> PolicyVersion | None:
        return self.versions[-1] if self.versions else None

    def holds(self, user_id: str, role: str, seq: int) -> bool:
        version = self.at(seq)
        return version is not None and version.holds(user_id, role)

    def apply(self, record: Any, registry: KeyRegistry, store_id: str) -> None:
        problem = self._problem(record, registry, store_id)
        if problem:
            self.problems.append(f"seq {record.seq} ({record.action}) does not count: {problem}")

    def _problem(self, record: Any, registry: KeyRegistry, store_id: str) -> str:
        try:
            payload = record.payload_dict()
            change = payload["change"]
            policy = normalise_policy(change["policy"])
        except (ValueError, KeyError, TypeError, PolicyError) as exc:
            return f"malformed policy record ({exc})"
        before = self.current
        expected = None if before is None else {"seq": before.seq, "hash": before.hash}
        if change != change_document(policy, store_id=store_id, previous=expected):
            return "it does not follow the policy in force (stale, replayed or from another store)"
        if payload.get("user_id") != record.actor:
            return "the signer is not the record's actor"
        if before is None and policy["roles"]["admin"] != [record.actor]:
            return "the first policy must name exactly its signer as admin"
        if before is not None and not before.holds(record.actor, "admin"):
            return f"{record.actor!r} was not an admin"
        key = registry.keys.get(str(payload.get("key_id")))
        if key is None or key.user_id != record.actor:
            return f"key {payload.get('key_id')} is not registered for {record.actor!r}"
        why = key.problem_at(record.seq, record.ts)
        if why:
            return why
        if not verify_document(key.public_key, CHANGE_CONTEXT, change, payload.get("signature")):
            return "the admin's signature does not verify"
        version = PolicyVersion(record.seq, record.hash, record.ts, record.actor, policy)
        self.versions.append(version)
        return ""


@dataclass(frozen=True)
class SigningFacts:
    """What the signing rules look at, the same whether signing or verifying."""

    signer: str
    meaning: str
    run_author: str | None
    run_status: str
    verdict: str
    justification: str
    earlier: tuple[tuple[str, str], ...]  # (user id, meaning) of earlier valid signatures


def signing_problem(policy: PolicyVersion | None, facts: SigningFacts) -> str:
    """'' when ``facts.signer`` may sign ``facts.meaning`` under ``policy``, else why not."""
    meaning, signer = facts.meaning, facts.signer
    if meaning not in MEANINGS:
        return f"unknown meaning {meaning!r}: one of {', '.join(MEANINGS)}"
    if policy is None:
        if meaning != "authored":
            return f"no signing policy in this store: {INIT_HINT}; {meaning} signatures need it"
    elif not policy.holds(signer, ROLE_FOR[meaning]):
        role = ROLE_FOR[meaning]
        return (
            f"{signer!r} does not hold the {role} role in the policy: an admin grants it with "
            f"`cmlops policy grant {role} {signer}`"
        )
    if (signer, meaning) in facts.earlier:
        return f"{signer!r} already signed this package as {meaning}"
    return _duty_problem(facts) or _verdict_problem(facts)


def _duty_problem(facts: SigningFacts) -> str:
    meaning, signer = facts.meaning, facts.signer
    if meaning == "authored":
        return ""
    if facts.run_author is None:
        return "the run's author is unknown (no report.started record): cannot check duties"
    if signer == facts.run_author:
        verb = "review" if meaning == "reviewed" else "approve"
        return f"{signer!r} ran this report and may not {verb} it"
    reviewers = {u for u, m in facts.earlier if m == "reviewed"}
    approvers = {u for u, m in facts.earlier if m in ("approved", DEVIATION)}
    if meaning == "reviewed" and signer in approvers:
        return f"{signer!r} approved this package: reviewer and approver must be different people"
    if meaning in ("approved", DEVIATION):
        if not reviewers:
            return "approval needs an earlier review: a reviewer signs --meaning reviewed first"
        if signer in reviewers:
            return (
                f"{signer!r} reviewed this package: reviewer and approver must be different people"
            )
    return ""


def _verdict_problem(facts: SigningFacts) -> str:
    if facts.meaning in ("approved", DEVIATION) and facts.run_status == "ABORTED":
        return "the run was ABORTED: it is never approved; run the report again"
    clean = facts.run_status == "EXECUTED" and facts.verdict == "PASS"
    if facts.meaning == "approved" and not clean:
        what = "the run FAILED" if facts.run_status != "EXECUTED" else f"verdict is {facts.verdict}"
        return (
            f"{what}: it cannot be approved; sign --meaning {DEVIATION} with a --justification "
            "if the organisation accepts it anyway"
        )
    if facts.meaning == DEVIATION and not facts.justification.strip():
        return f"{DEVIATION} needs a --justification text (it is part of the signature)"
    if facts.meaning != DEVIATION and facts.justification:
        return f"--justification is only for --meaning {DEVIATION}"
    return ""
