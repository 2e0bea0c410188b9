"""The audit and lineage store: hash-chained audit log, PROV lineage, artifacts."""

from cmlops.store.model import (
    Activity,
    Agent,
    Anchor,
    Associated,
    AuditEvent,
    AuditRecord,
    BrokenLink,
    Derived,
    Entity,
    Generated,
    LineageBatch,
    LineageGraph,
    Used,
    VerifyResult,
)

__all__ = [
    "Activity",
    "Agent",
    "Anchor",
    "Associated",
    "AuditEvent",
    "AuditRecord",
    "BrokenLink",
    "Derived",
    "Entity",
    "Generated",
    "LineageBatch",
    "LineageGraph",
    "Used",
    "VerifyResult",
]

from cmlops.store.artifacts import ArtifactStore
from cmlops.store.sql import Store, open_store

__all__ += ["ArtifactStore", "Store", "open_store"]
