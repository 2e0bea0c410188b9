"""Changing the trust facts: registering and revoking keys, changing the policy.

Each change is checked against the ledger derived from the chain (the same
rules a verifier applies later, :mod:`cmlops.trust.ledger`), written as one
audit record by the store's authenticated actor, and a refusal is recorded too
(:mod:`cmlops.trust.refusals`). Nothing here trusts what a key file says about
its owner: authority comes from the actor and the policy in the chain.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cmlops.errors import PolicyError, SigningError
from cmlops.store.chain import utc_timestamp
from cmlops.store.model import AuditEvent, AuditRecord
from cmlops.trust.ed25519 import sign_document
from cmlops.trust.keys import (
    KeyFile,
    generate_key_file,
    request_problem,
    unlock,
)
from cmlops.trust.ledger import TrustLedger, load_ledger
from cmlops.trust.policy import (
    CHANGE_CONTEXT,
    CHANGED,
    INIT_HINT,
    POLICY_OBJECT,
    POLICY_SCHEMA,
    change_document,
    normalise_policy,
)
from cmlops.trust.refusals import recorded_refusal
from cmlops.trust.registry import (
    KEY_OBJECT,
    REGISTERED,
    RETIRED,
    REVOKED,
    RegisteredKey,
    registration_payload,
)

MAX_VALID_DAYS = 3650
FAR = 2**62  # a seq after every record: "now" for ledger queries


def _registration_refusal(ledger: TrustLedger, actor: str, user_id: str) -> str:
    if actor == user_id or ledger.may_administer(actor, FAR):
        return ""
    return (
        f"{actor!r} may not register a key for {user_id!r}: only {user_id!r} itself or an "
        "admin of the signing policy may"
    )


def _check_days(valid_days: int) -> None:
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise SigningError(f"--valid-days must be between 1 and {MAX_VALID_DAYS}")


def register_key(
    store: Any,
    request: dict[str, Any],
    *,
    user_id: str | None = None,
    valid_days: int = 730,
    reason: str = "",
) -> AuditRecord:
    """Register the key of a checked registration request; retire the user's previous key."""
    attempt = {"user_id": request.get("user_id"), "key_id": request.get("key_id")}
    with recorded_refusal(store, "key.register_refused", KEY_OBJECT, "", attempt) as details:
        details["object_id"] = str(request.get("key_id") or "")
        problem = request_problem(request)
        if problem:
            raise SigningError(f"key registration refused: {problem}")
        if user_id is not None and user_id != request["user_id"]:
            raise SigningError(
                f"the key request is for user {request['user_id']!r}, not {user_id!r}: "
                "ask the user for their own request"
            )
        _check_days(valid_days)
        ledger = load_ledger(store)
        refusal = _registration_refusal(ledger, store.actor, request["user_id"])
        if refusal:
            raise SigningError(refusal)
        if request["key_id"] in ledger.registry.keys:
            raise SigningError(f"key {request['key_id']} is already registered")
    start = store.clock()
    payload = registration_payload(
        request,
        registered_by=store.actor,
        valid_from=utc_timestamp(start),
        valid_until=utc_timestamp(start + timedelta(days=valid_days)),
    )
    events = []
    previous = ledger.registry.current_key(request["user_id"])
    if previous is not None:
        events.append(
            AuditEvent(
                RETIRED,
                KEY_OBJECT,
                previous.key_id,
                {
                    "user_id": previous.user_id,
                    "key_id": previous.key_id,
                    "replaced_by": request["key_id"],
                },
                reason=f"rotated: replaced by key {request['key_id']}",
            )
        )
    why = reason.strip() or f"signing key of {request['user_id']} ({request['name']})"
    events.append(AuditEvent(REGISTERED, KEY_OBJECT, request["key_id"], payload, reason=why))
    return store.append_many(events)[-1]


def generate_keys(
    user_id: str,
    passphrase: str,
    *,
    name: str,
    path: str | Path | None = None,
    valid_days: int = 730,
    force: bool = False,
    store: Any = None,
    register: bool = True,
) -> KeyFile:
    """Write a new key file and register its key in the store's chain (unless ``register=False``).

    Only the owner generates a registered key (``user_id`` is the store's actor):
    an admin registers a key a user generated with :func:`register_key`, and so
    never holds anyone's private key. A key file whose registration fails is
    removed again.
    """
    if not register:
        return generate_key_file(user_id, passphrase, name=name, path=path, force=force)
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    attempt = {"user_id": user_id, "name": name}
    with recorded_refusal(store, "key.register_refused", KEY_OBJECT, "", attempt):
        _check_days(valid_days)
        if user_id != store.actor:  # a private key is made only by its owner
            raise SigningError(
                f"{store.actor!r} may not generate a key for {user_id!r}: {user_id!r} generates "
                "it (`cmlops keys generate --no-register`, `cmlops keys export`) and an admin "
                "registers it (`cmlops keys register`)"
            )
        key = generate_key_file(user_id, passphrase, name=name, path=path, force=force)
    try:
        register_key(store, key.request, valid_days=valid_days)
    except BaseException:
        os.unlink(key.path)
        raise
    return key


def revoke_key(store: Any, key_id: str, *, reason: str) -> AuditRecord:
    """Revoke a registered key (its owner or an admin); the reason is mandatory."""
    attempt = {"key_id": key_id}
    with recorded_refusal(store, "key.revoke_refused", KEY_OBJECT, key_id, attempt) as details:
        if not reason.strip():
            raise SigningError("a revocation needs a reason: pass --reason")
        ledger = load_ledger(store)
        key = ledger.registry.keys.get(key_id)
        if key is None:
            raise SigningError(f"no registered key {key_id}: see `cmlops keys list`")
        details["user_id"] = key.user_id
        if store.actor != key.user_id and not ledger.may_administer(store.actor, FAR):
            raise SigningError(
                f"{store.actor!r} may not revoke key {key_id} of {key.user_id!r}: only its "
                "owner or an admin may"
            )
        if "revoked" in key.ended_how:
            raise SigningError(f"key {key_id} is already revoked")
    return store.append(
        REVOKED, KEY_OBJECT, key_id, {"user_id": key.user_id, "key_id": key_id}, reason=reason
    )


def signer_key(ledger: TrustLedger, actor: str, key: KeyFile, now: datetime) -> RegisteredKey:
    """The registry's record of ``key`` when it is ``actor``'s active key now, else refuse."""
    registered = ledger.registry.keys.get(key.key_id)
    if registered is None:
        raise SigningError(
            f"key {key.key_id} in {key.path} is not registered: run `cmlops keys generate` "
            "(or have an admin run `cmlops keys register`)"
        )
    if registered.user_id != actor:
        raise SigningError(
            f"key {key.key_id} is registered for {registered.user_id!r}, not for you "
            f"({actor!r}): use your own key"
        )
    problem = registered.problem_at(FAR, utc_timestamp(now))
    if problem:
        raise SigningError(f"{problem}: generate and register a new key")
    return registered


def change_policy(
    store: Any,
    policy: dict[str, Any] | None,
    *,
    key: KeyFile,
    passphrase: str,
    reason: str,
) -> AuditRecord:
    """Put ``policy`` in force, signed with an admin's key; ``None`` initialises the store's policy.

    The first policy names its signer as the only admin. Later changes need an
    admin of the policy in force, a reason, and user ids that have registered keys.
    """
    actor = store.actor
    attempt = {"user_id": actor, "key_id": key.key_id, "policy": policy}
    with recorded_refusal(store, "policy.change_refused", POLICY_OBJECT, "policy", attempt):
        ledger = load_ledger(store)
        current = ledger.policies.current
        if policy is None:
            if current is not None:
                raise PolicyError(
                    "this store already has a policy: change it with `cmlops policy grant` "
                    "or `cmlops policy apply`"
                )
            policy = normalise_policy({"schema": POLICY_SCHEMA, "roles": {"admin": [actor]}})
        else:
            _check_change(ledger, actor, policy, reason)
        signer_key(ledger, actor, key, store.clock())
        private = unlock(key, passphrase)
    previous = None if current is None else {"seq": current.seq, "hash": current.hash}
    change = change_document(policy, store_id=store.store_id, previous=previous)
    payload = {
        "change": change,
        "user_id": actor,
        "key_id": key.key_id,
        "signature": sign_document(private, CHANGE_CONTEXT, change),
    }
    record = store.append(
        CHANGED, POLICY_OBJECT, "policy", payload, reason=reason.strip() or "policy initialised"
    )
    after = load_ledger(store).policies.current
    if after is None or after.seq != record.seq:
        raise PolicyError(
            f"the policy change at seq {record.seq} did not take effect (another change was "
            "recorded at the same time): check `cmlops policy show` and run it again"
        )
    return record


def _check_change(ledger: TrustLedger, actor: str, policy: dict[str, Any], reason: str) -> None:
    current = ledger.policies.current
    if current is None:
        raise PolicyError(f"this store has no policy yet: {INIT_HINT}")
    if not current.holds(actor, "admin"):
        raise PolicyError(f"{actor!r} is not an admin of the signing policy: ask an admin")
    if not reason.strip():
        raise PolicyError("a policy change needs a reason: pass --reason")
    known = ledger.registry.users()
    for role, users in policy["roles"].items():
        for user in users:
            if user not in known:
                raise PolicyError(
                    f"unknown user id {user!r} (role {role}): nobody registered a key for it; "
                    "the user runs `cmlops keys generate` first"
                )
    if policy == current.policy:
        raise PolicyError("the policy would not change: nothing to record")
