"""The records the store keeps: audit records and the W3C PROV lineage model.

Lineage follows W3C PROV so that export is a mapping, not a translation:
entities (datasets, models, files, reports, results), activities (a tracked
cell, a report run), agents (people and software) and the relations
used / generated / derived / associated. Every lineage fact is written through
the audit log, so each has an audit record whose ``seq`` it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditRecord:
    """One link of the hash chain, exactly as stored.

    ``payload`` is the canonical JSON text (RFC 8785) of the record's payload;
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

    def payload_dict(self) -> dict[str, Any]:
        import json

        return json.loads(self.payload)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON object, payload parsed (the JSON Lines export form)."""
        return {
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


@dataclass(frozen=True)
class AuditEvent:
    """What a caller asks to append; the store adds seq, ts, prev_hash and hash."""

    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    actor: str | None = None


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
