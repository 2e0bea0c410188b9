"""The model registry: named models, numbered versions and their status, all from the chain.

Nothing is stored beside the audit log: registering a version, recording a
protocol, validating, approving and retiring are audit records with
``object_type = "model"`` and ``object_id = NAME``, and a model's state is the
replay of its records (:func:`model_state`) — so the history *is* the registry,
and no status can change without a record saying who, when and why.

Statuses: ``candidate`` → ``validated`` → ``approved`` → ``retired`` (a
candidate or validated version may be retired too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import RegistryError
from cmlops.store.model import AuditEvent, AuditRecord, Entity

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
STATUSES = ("candidate", "validated", "approved", "retired")


@dataclass
class VersionState:
    """One version as the chain tells it."""

    version: int
    entity_id: str
    status: str
    facts: dict[str, Any]
    change: dict[str, Any]
    registered: dict[str, Any]
    protocol_sha256: str | None = None
    validation: dict[str, Any] | None = None
    approval: dict[str, Any] | None = None
    retirement: dict[str, Any] | None = None
    impact: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ModelState:
    """A registered model: its versions, the protocol in force, and its records."""

    name: str
    description: str
    versions: dict[int, VersionState] = field(default_factory=dict)
    protocol: dict[str, Any] | None = None
    protocols: list[dict[str, Any]] = field(default_factory=list)
    dossiers: list[dict[str, Any]] = field(default_factory=list)
    history: list[AuditRecord] = field(default_factory=list)

    def version(self, number: int | None = None) -> VersionState:
        """Version ``number`` (the latest when None); a one-line error if there is none."""
        if not self.versions:
            raise RegistryError(f"model {self.name!r} has no version")
        key = max(self.versions) if number is None else number
        if key not in self.versions:
            known = ", ".join(f"v{v}" for v in sorted(self.versions))
            raise RegistryError(f"model {self.name!r} has no version {number} (has {known})")
        return self.versions[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "versions": [v.to_dict() for _k, v in sorted(self.versions.items())],
            "protocol": self.protocol,
            "protocols": self.protocols,
            "dossiers": self.dossiers,
        }


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise RegistryError(
            f"model name {name!r} is not allowed: letters, digits, '.', '_' and '-' "
            "(at most 100, starting with a letter or digit)"
        )
    return name


def _stamp(record: AuditRecord) -> dict[str, Any]:
    return {"seq": record.seq, "ts": record.ts, "actor": record.actor, "reason": record.reason}


def _apply(state: ModelState, record: AuditRecord) -> None:
    payload = record.payload_values()  # as recorded: C=1e16, not its sealed "cmlops:num:1e+16"
    action = record.action
    if action == "model.version.registered":
        state.description = state.description or payload.get("description", "")
        state.versions[payload["version"]] = VersionState(
            version=payload["version"],
            entity_id=payload["entity_id"],
            status="candidate",
            facts=payload.get("facts", {}),
            change=payload.get("change", {}),
            registered=_stamp(record),
            protocol_sha256=payload.get("protocol_sha256"),
        )
        return
    if action == "model.protocol.recorded":
        entry = {**payload, **_stamp(record)}
        state.protocols.append(entry)
        state.protocol = entry
        return
    if action == "model.dossier.generated":
        state.dossiers.append({**payload, **_stamp(record)})
        return
    version = state.versions.get(payload.get("version"))
    if version is None:
        return
    if action == "model.version.validated":
        version.validation, version.status = {**payload, **_stamp(record)}, "validated"
    elif action == "model.version.approved":
        version.approval, version.status = {**payload, **_stamp(record)}, "approved"
    elif action == "model.version.retired":
        version.retirement, version.status = {**payload, **_stamp(record)}, "retired"
    elif action == "model.impact.recorded":
        version.impact.append({**payload, **_stamp(record)})


def replay(name: str, records: list[AuditRecord]) -> ModelState:
    """The state of model ``name`` after ``records`` (its records, oldest first)."""
    state = ModelState(name=name, description="")
    for record in records:
        state.history.append(record)
        _apply(state, record)
    return state


def model_state(store: Any, name: str) -> ModelState:
    """The registered model ``name``; a one-line error when it is not registered."""
    check_name(name)
    records = store.records(object_type="model", object_id=name)
    if not records:
        known = sorted({r.object_id for r in store.records(action="model.version.registered")})
        hint = f" (registered: {', '.join(known)})" if known else ""
        raise RegistryError(f"no model named {name!r} is registered{hint}")
    return replay(name, records)


def list_models(store: Any) -> list[ModelState]:
    names = sorted({r.object_id for r in store.records(action="model.version.registered")})
    return [model_state(store, n) for n in names]


def resolve_model_entity(store: Any, source: Any) -> Entity:
    """The model entity named by ``source``: an entity id, a variable name, or a fitted object."""
    if not isinstance(source, str):
        from cmlops.estimators import is_fitted
        from cmlops.fingerprinting import fingerprint

        if not is_fitted(source):
            raise RegistryError(
                f"a {type(source).__name__} is not a fitted model: register a fitted estimator"
            )
        source = fingerprint(source)
        entity = store.get_entity(source)
        if entity is None:
            raise RegistryError(
                f"this model ({source}) is not in the lineage: fit it in a %%cmlops_track "
                "cell or record it with cmlops.log_model(model) first"
            )
    else:
        entity = store.get_entity(source)
        if entity is None:
            named = store.entities_named(source.removeprefix("variable:"), kind="model")
            if not named:
                raise RegistryError(
                    f"no model entity or model variable {source!r} in the lineage: give the "
                    "entity id (cmlops lineage export) or the variable name of a tracked fit"
                )
            entity = named[-1]
    if entity.kind != "model":
        raise RegistryError(
            f"entity {entity.id} ({entity.name or 'unnamed'}) is a {entity.kind}, not a model: "
            "register the fitted model"
        )
    return entity


def _protocol_event(
    name: str, loaded: tuple[dict[str, Any], str, str], source: str, reason: str, read: Any
) -> list[AuditEvent]:
    protocol, sha, raw_sha = loaded
    previous = read(action="model.protocol.recorded", object_type="model", object_id=name)
    before = previous[-1].payload_values() if previous else None
    if before is not None and before.get("sha256") == sha:
        return []
    if before is not None and not reason.strip():
        raise RegistryError(
            f"model {name!r} already has protocol {before.get('protocol_id')!r} "
            f"(SHA-256 {before.get('sha256', '')[:12]}…): a revision needs --reason"
        )
    payload = {
        "protocol_id": protocol["protocol_id"],
        "sha256": sha,
        "raw_sha256": raw_sha,
        "source": source,
        "protocol": protocol,
        "previous_sha256": before.get("sha256") if before else None,
        "previous_seq": previous[-1].seq if previous else None,
    }
    return [AuditEvent("model.protocol.recorded", "model", name, payload, reason)]


def record_protocol(store: Any, name: str, path: str | Path, *, reason: str = "") -> dict[str, Any]:
    """Record (or revise) the change protocol of model ``name``; returns the protocol in force."""
    from cmlops.lifecycle.protocol import load_protocol

    check_name(name)
    loaded = load_protocol(path, name)
    source = str(Path(path).resolve())
    store.append_decided(lambda read: _protocol_event(name, loaded, source, reason, read))
    return model_protocol(store, name) or {}


def model_protocol(store: Any, name: str) -> dict[str, Any] | None:
    records = store.records(action="model.protocol.recorded", object_type="model", object_id=name)
    return {**records[-1].payload_values(), "seq": records[-1].seq} if records else None


def _registration(
    name: str, entity: Entity, facts: dict[str, Any], description: str, reason: str, read: Any
) -> list[AuditEvent]:
    from cmlops.lifecycle.protocol import classify_change

    state = replay(name, read(object_type="model", object_id=name))
    for version in state.versions.values():
        if version.entity_id == entity.id:
            raise RegistryError(
                f"this model ({entity.id[:20]}…) is already {name} v{version.version}: "
                "register a new fit as a new version"
            )
    previous = state.versions[max(state.versions)] if state.versions else None
    protocol = state.protocol["protocol"] if state.protocol else None
    change = classify_change(previous.facts if previous else None, facts, protocol)
    number = (max(state.versions) + 1) if state.versions else 1
    payload = {
        "name": name,
        "version": number,
        "entity_id": entity.id,
        "description": description,
        "facts": facts,
        "change": {**change, "previous_version": previous.version if previous else None},
        "protocol_sha256": state.protocol["sha256"] if state.protocol else None,
    }
    return [AuditEvent("model.version.registered", "model", name, payload, reason)]


def register_version(
    store: Any,
    name: str,
    source: Any,
    *,
    description: str = "",
    protocol: str | Path | None = None,
    reason: str = "",
) -> VersionState:
    """Register ``source`` (entity id, variable name or fitted model) as the next version."""
    from cmlops.lifecycle.facts import model_facts
    from cmlops.lifecycle.protocol import load_protocol

    check_name(name)
    entity = resolve_model_entity(store, source)
    facts = model_facts(entity, store.ancestors(entity.id))
    loaded = load_protocol(protocol, name) if protocol is not None else None
    source_text = str(Path(protocol).resolve()) if protocol is not None else ""

    def decide(read: Any) -> list[AuditEvent]:
        events = _protocol_event(name, loaded, source_text, reason, read) if loaded else []
        replayed = [*read(object_type="model", object_id=name), *_as_records(events)]
        return events + _registration(
            name, entity, facts, description, reason, lambda **_f: replayed
        )

    store.append_decided(decide)
    return model_state(store, name).version()


def _as_records(events: list[AuditEvent]) -> list[AuditRecord]:
    """Unsealed stand-ins for events about to be appended (so a decision can see them);
    their payload text is the sealed form, so they read back like the records they become."""
    from cmlops.store.values import canonical_payload

    return [
        AuditRecord(
            seq=0,
            ts="",
            actor="",
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            payload=canonical_payload(e.payload),
            reason=e.reason,
            prev_hash="",
            hash="",
        )
        for e in events
    ]


def retire_version(store: Any, name: str, version: int, *, reason: str) -> VersionState:
    """Retire a version (any status but retired); the reason is required."""
    if not reason.strip():
        raise RegistryError("retiring a version needs a reason (--reason)")

    def decide(read: Any) -> list[AuditEvent]:
        state = replay(name, read(object_type="model", object_id=name))
        current = state.version(version)
        if current.status == "retired":
            raise RegistryError(f"{name} v{version} is already retired")
        payload = {"version": version, "previous_status": current.status}
        return [AuditEvent("model.version.retired", "model", name, payload, reason)]

    model_state(store, name)
    store.append_decided(decide)
    return model_state(store, name).version(version)
