"""The key registry: which public key belongs to which user id, under which name, and when.

The registry is not a table anyone can edit: it is *derived* from records of
the audit chain, read in ``seq`` order, each checked before it counts:

``key.registered`` (object ``signing-key``/key id)
    ``{user_id, name, key_id, public_key, algorithm, valid_from, valid_until,
    registered_by, request}`` — ``request`` is the owner's registration request
    signed by the new key itself (proof of possession, :mod:`cmlops.trust.keys`).
    It counts only when the proof verifies, the fields equal the request's,
    ``registered_by`` is the record's actor, the key id was never registered
    before, and the actor is the user itself or held the *admin* role at that
    point of the chain. A later registration for the same user retires the
    user's earlier key at that point (one active key per user id), and the
    writer also records that retirement explicitly.
``key.retired`` ``{user_id, key_id, replaced_by}`` — by the owner or an admin.
``key.revoked`` ``{user_id, key_id}`` with a non-empty reason — by the owner or
    an admin.

A key is *active* for a record at ``(seq, ts)`` when it was registered at an
earlier seq, ``valid_from <= ts < valid_until`` and it was neither retired nor
revoked at an earlier seq. A record that does not count is kept as a *problem*
(the verifier reports it) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmlops.trust.keys import REQUEST_FIELDS, request_problem

REGISTERED = "key.registered"
RETIRED = "key.retired"
REVOKED = "key.revoked"
KEY_ACTIONS = (REGISTERED, RETIRED, REVOKED)
KEY_OBJECT = "signing-key"

#: ``may_administer(actor, seq)``: did ``actor`` hold the admin role just before ``seq``?
AdminCheck = Callable[[str, int], bool]


@dataclass
class RegisteredKey:
    """One registered key and how its life ended (if it did)."""

    key_id: str
    user_id: str
    name: str
    public_key: str
    valid_from: str
    valid_until: str
    registered_by: str
    seq: int
    hash: str
    ended_seq: int | None = None
    ended_ts: str = ""
    ended_how: str = ""  # "retired" or "revoked"
    ended_reason: str = ""

    def problem_at(self, seq: int, ts: str) -> str:
        """'' when the key was active for a record at ``(seq, ts)``, else why not."""
        if seq <= self.seq:
            return f"key {self.key_id} was not yet registered (registered at seq {self.seq})"
        if self.ended_seq is not None and self.ended_seq < seq:
            why = f": {self.ended_reason}" if self.ended_reason else ""
            when = f"{self.ended_ts} (seq {self.ended_seq})"
            return f"key {self.key_id} was {self.ended_how} at {when}{why}"
        if ts < self.valid_from:
            return f"key {self.key_id} is valid only from {self.valid_from}"
        if ts >= self.valid_until:
            return f"key {self.key_id} expired on {self.valid_until} (registered validity)"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class KeyRegistry:
    """The registry as derived so far; feed it records in seq order with :meth:`apply`."""

    keys: dict[str, RegisteredKey] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def active_key(self, user_id: str, seq: int, ts: str) -> RegisteredKey | None:
        """The user's key that was active for a record at ``(seq, ts)``."""
        for key in self.keys.values():
            if key.user_id == user_id and not key.problem_at(seq, ts):
                return key
        return None

    def current_key(self, user_id: str) -> RegisteredKey | None:
        """The user's registered key that is neither retired nor revoked (it may be expired)."""
        found = [k for k in self.keys.values() if k.user_id == user_id and k.ended_seq is None]
        return max(found, key=lambda k: k.seq) if found else None

    def users(self) -> set[str]:
        return {key.user_id for key in self.keys.values()}

    def apply(self, record: Any, may_administer: AdminCheck) -> None:
        """Take one ``key.*`` record into account (or note why it does not count)."""
        problem = self._apply(record, may_administer)
        if problem:
            self.problems.append(f"seq {record.seq} ({record.action}) does not count: {problem}")

    def _apply(self, record: Any, may_administer: AdminCheck) -> str:
        try:
            payload = record.payload_dict()
        except ValueError:
            return "payload is not JSON"
        if record.action == REGISTERED:
            return self._register(record, payload, may_administer)
        key = self.keys.get(str(payload.get("key_id")))
        if key is None or record.object_id != key.key_id or payload.get("user_id") != key.user_id:
            return "it names a key that is not registered for that user"
        if record.actor != key.user_id and not may_administer(record.actor, record.seq):
            return f"{record.actor!r} is neither the key's owner nor an admin"
        if record.action == REVOKED and not record.reason.strip():
            return "a revocation needs a reason"
        if key.ended_seq is None:
            key.ended_seq, key.ended_ts = record.seq, record.ts
            key.ended_how = "revoked" if record.action == REVOKED else "retired"
            key.ended_reason = record.reason
        elif record.action == REVOKED and key.ended_how == "retired":
            key.ended_how, key.ended_reason = "retired, later revoked", record.reason
        return ""

    def _register(self, record: Any, payload: dict[str, Any], may_administer: AdminCheck) -> str:
        problem = registration_problem(record, payload)
        if problem:
            return problem
        if payload["key_id"] in self.keys:
            return f"key {payload['key_id']} was already registered"
        user = payload["user_id"]
        if record.actor != user and not may_administer(record.actor, record.seq):
            return f"{record.actor!r} may not register a key for {user!r} (only they or an admin)"
        for key in self.keys.values():  # one active key per user id
            if key.user_id == user and key.ended_seq is None:
                key.ended_seq, key.ended_ts, key.ended_how = record.seq, record.ts, "retired"
                key.ended_reason = f"replaced by key {payload['key_id']}"
        self.keys[payload["key_id"]] = RegisteredKey(
            key_id=payload["key_id"],
            user_id=user,
            name=payload["name"],
            public_key=payload["public_key"],
            valid_from=payload["valid_from"],
            valid_until=payload["valid_until"],
            registered_by=record.actor,
            seq=record.seq,
            hash=record.hash,
        )
        return ""


def registration_problem(record: Any, payload: dict[str, Any]) -> str:
    """'' when a ``key.registered`` record is internally consistent, else what is wrong."""
    request = payload.get("request")
    problem = request_problem(request)
    if problem:
        return problem
    for name in ("user_id", "name", "key_id", "public_key", "algorithm"):
        if payload.get(name) != request[name]:
            return f"{name} differs from the signed registration request"
    if record.object_id != payload["key_id"] or record.object_type != KEY_OBJECT:
        return "the record's object is not the registered key"
    if payload.get("registered_by") != record.actor:
        return "registered_by is not the record's actor"
    window = (payload.get("valid_from"), payload.get("valid_until"))
    if not all(isinstance(v, str) for v in window) or not window[0] < window[1]:
        return "the validity window is malformed"
    return ""


def registration_payload(
    request: dict[str, Any], *, registered_by: str, valid_from: str, valid_until: str
) -> dict[str, Any]:
    """The payload of a ``key.registered`` record for a checked request."""
    return {
        "user_id": request["user_id"],
        "name": request["name"],
        "key_id": request["key_id"],
        "public_key": request["public_key"],
        "algorithm": request["algorithm"],
        "valid_from": valid_from,
        "valid_until": valid_until,
        "registered_by": registered_by,
        "request": {k: request[k] for k in (*REQUEST_FIELDS, "proof_of_possession")},
    }
