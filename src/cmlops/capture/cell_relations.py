"""What one execution used and generated, as PROV relations with cell-level lineage.

A cell is the unit of lineage: every output is derived from every input, an
object both used and generated counts as used, and the same entity noticed
twice (a file read by a hook and logged by hand) is one entity. Files and
Spark datasets are identified by the digest their hook computed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from cmlops.store.model import Derived, Entity, Generated, Used


@dataclass
class CellRelations:
    """The entities of one execution and how the activity used or generated them."""

    activity_id: str
    entities: dict[str, Entity] = field(default_factory=dict)
    used: list[Used] = field(default_factory=list)
    generated: list[Generated] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)

    def add(self, entity: Entity, used: bool, role: str, output_role: str = "") -> None:
        self.entities.setdefault(entity.id, entity)
        if used:
            self.used.append(Used(self.activity_id, entity.id, role))
        else:
            self.generated.append(Generated(entity.id, self.activity_id, output_role or role))

    def close(self) -> CellRelations:
        """Duplicates dropped; what was used is not also generated; each output derives from
        each input (cell-level lineage)."""
        self.used = _unique(self.used)
        inputs = {u.entity_id for u in self.used}
        self.generated = _unique([g for g in self.generated if g.entity_id not in inputs])
        self.derived = _unique(
            [
                Derived(g.entity_id, u.entity_id, self.activity_id)
                for g in self.generated
                for u in self.used
            ]
        )
        return self


def file_entity(event: Any) -> Entity:
    """The entity of a file (or Spark dataset) a hook noted, identified by its digest."""
    attributes = {"via": event.via, **event.attributes}
    if event.kind == "file":
        attributes["size"] = _size(event.path)
    return Entity(
        id=event.digest,
        kind=event.kind,
        name=os.path.basename(event.path.rstrip("/")) or event.path,
        fingerprint=event.digest,
        location=event.path,
        attributes=attributes,
    )


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
