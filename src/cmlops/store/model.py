"""The records the store keeps: audit records and the W3C PROV lineage model.

Lineage follows W3C PROV so that export is a mapping, not a translation:
entities (datasets, models, files, reports, results), activities (a tracked
cell, a report run), agents (people and software) and the relations
used / generated / derived / associated. Every lineage fact is written through
the audit log, so each has an audit record whose ``seq`` it keeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cmlops.errors import InvalidInputError

#: actions whose records must say why (Part 11 / Annex 11 "reason for change"):
#: exact names, and prefixes ending in "."
REASON_REQUIRED = (
    "audit.correction",
    "policy.",
    "signature.",
    "package.signed",
    "plan.deviation",
)


def reason_required(action: str) -> bool:
    """True for corrections, deviations, policy changes and signings.

    Besides the names in :data:`REASON_REQUIRED`, any action whose last dotted
    part names a deviation (``plan.deviation``, ``report.deviation_accepted``)
    needs a reason.
    """
    for rule in REASON_REQUIRED:
        if action == rule or (rule.endswith(".") and action.startswith(rule)):
            return True
    return "deviation" in action.rpartition(".")[2]


@dataclass(frozen=True)
class AuditRecord:
    """One link of the hash chain, exactly as stored.

    ``payload`` is the canonical JSON text (RFC 8785) of the record's payload
    and ``context`` that of its context object (who, where, with what; None in
    records sealed before record format 2);
    ``hash = sha256(prev_hash || canonical(record without hash))``.
    """

    seq: int
    ts: str
    actor: str
    action: str
    object_type: str
    object_id: str
    payload: str
    reason: str
    prev_hash: str
    hash: str
    context: str | None = None

    def payload_dict(self) -> dict[str, Any]:
        """The payload as sealed (tagged values stay tagged: see ``payload_values``)."""
        return json.loads(self.payload)

    def payload_values(self) -> dict[str, Any]:
        """The payload with tagged numbers and text decoded to their original values."""
        from cmlops.store.values import decode_value

        return decode_value(self.payload_dict())

    def context_dict(self) -> dict[str, Any]:
        """The record's context (empty for a format-1 record)."""
        return json.loads(self.context) if self.context is not None else {}

    @property
    def record_format(self) -> int:
        return 1 if self.context is None else 2

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON object, payload and context parsed (the JSON Lines form).

        A format-1 record has no ``context`` member, so that RFC 8785 of the
        object without ``hash`` is exactly what was hashed.
        """
        out = {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "payload": self.payload_dict(),
            "reason": self.reason,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
        if self.context is not None:
            out["context"] = json.loads(self.context)
        return out


@dataclass(frozen=True)
class AuditEvent:
    """What a caller asks to append; the store adds seq, ts, actor, context and hashes.

    The actor is never the caller's to choose: the store records who is
    authenticated. ``claimed_actor`` overrides the claimed name (``CMLOPS_USER``)
    recorded beside it for this one record.
    """

    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    claimed_actor: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.action, str) and reason_required(self.action):
            if not isinstance(self.reason, str) or not self.reason.strip():
                raise InvalidInputError(
                    f"a {self.action!r} record needs a reason: say why (corrections, "
                    "deviations, policy changes and signatures must give one)"
                )


@dataclass(frozen=True)
class Entity:
    """A dataset, model, file, report or result, identified by its content fingerprint.

    ``id`` is stable for identical content (the capture layer derives it from
    the fingerprint); ``schema`` is a summary (columns, dtypes, rows, missing).
    """

    id: str
    kind: str
    name: str = ""
    fingerprint: str = ""
    location: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Activity:
    """One tracked cell execution or one report run (UTC ISO 8601 times)."""

    id: str
    kind: str
    name: str = ""
    code: str = ""
    code_hash: str = ""
    notebook: str = ""
    session: str = ""
    started: str = ""
    ended: str = ""
    status: str = ""
    error: str = ""
    environment_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Agent:
    """A person (``kind='person'``) or a piece of software (``kind='software'``)."""

    id: str
    kind: str
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Used:
    activity_id: str
    entity_id: str
    role: str = ""


@dataclass(frozen=True)
class Generated:
    entity_id: str
    activity_id: str
    role: str = ""


@dataclass(frozen=True)
class Derived:
    entity_id: str
    source_id: str
    activity_id: str = ""


@dataclass(frozen=True)
class Associated:
    activity_id: str
    agent_id: str
    role: str = ""


@dataclass
class LineageBatch:
    """Lineage facts written in one transaction (one audit record per new fact).

    Entities, agents and environments already in the store are not written
    again: identical content has one identity.
    """

    entities: list[Entity] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: list[Used] = field(default_factory=list)
    generated: list[Generated] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    associated: list[Associated] = field(default_factory=list)
    reason: str = ""


@dataclass
class LineageGraph:
    """A lineage subgraph: nodes keyed by id, PROV relations as edges."""

    entities: dict[str, Entity] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    used: list[Used] = field(default_factory=list)
    generated: list[Generated] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    associated: list[Associated] = field(default_factory=list)

    def merge(self, other: LineageGraph) -> None:
        self.entities.update(other.entities)
        self.activities.update(other.activities)
        self.agents.update(other.agents)
        for name in ("used", "generated", "derived", "associated"):
            mine = getattr(self, name)
            seen = set(mine)
            mine.extend(edge for edge in getattr(other, name) if edge not in seen)


@dataclass(frozen=True)
class Anchor:
    """The chain head as kept elsewhere to detect a truncated tail later."""

    seq: int
    hash: str


@dataclass(frozen=True)
class BrokenLink:
    """The first record where the chain stops being valid, and why."""

    seq: int
    reason: str


@dataclass
class VerifyResult:
    """Outcome of recomputing the chain; ``ok`` is False at the first broken link."""

    ok: bool
    records: int
    head: Anchor | None
    broken: BrokenLink | None = None
    anchor: Anchor | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            head = f"head seq {self.head.seq} {self.head.hash}" if self.head else "empty chain"
            anchored = f"; anchor seq {self.anchor.seq} found" if self.anchor else ""
            return f"OK: {self.records} records verified, {head}{anchored}"
        assert self.broken is not None
        return f"BROKEN at seq {self.broken.seq}: {self.broken.reason}"
