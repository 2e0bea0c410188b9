"""The report run as W3C PROV lineage, and its export into the package.

A run is one activity (kind ``report``) that *used* the template, the plan and
every input file, was *associated* with the user and with cmlops, and
*generated* the executed notebook, the HTML report and the results. Entities of
files are identified by their SHA-256, so the same data file used by two runs
is one entity. The export itself is the capture layer's
(:func:`cmlops.capture.export.export_lineage`), part of every install.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.store.model import (
    Activity,
    Agent,
    Associated,
    Entity,
    Generated,
    LineageBatch,
    Used,
)


def file_entity(kind: str, name: str, sha256: str, location: str, **attrs: Any) -> Entity:
    return Entity(
        id=f"sha256:{sha256}",
        kind=kind,
        name=name,
        fingerprint=f"sha256:{sha256}",
        location=location,
        attributes=attrs,
    )


def run_batch(
    activity: Activity,
    *,
    user: str,
    kit_version: str,
    used: list[tuple[Entity, str]],
    generated: list[tuple[Entity, str]],
    environment_id: str,
    environment: dict[str, Any],
) -> LineageBatch:
    """All lineage facts of one report run, for ``store.record_lineage``."""
    person = Agent(id=f"user:{user}", kind="person", name=user)
    software = Agent(
        id=f"software:cmlops/{kit_version}",
        kind="software",
        name="cmlops",
        attributes={"version": kit_version},
    )
    return LineageBatch(
        entities=[e for e, _ in used] + [e for e, _ in generated],
        activities=[activity],
        agents=[person, software],
        environments={environment_id: environment},
        used=[Used(activity.id, e.id, role) for e, role in used],
        generated=[Generated(e.id, activity.id, role) for e, role in generated],
        associated=[
            Associated(activity.id, person.id, "operator"),
            Associated(activity.id, software.id, "runner"),
        ],
        reason=f"report run {activity.id}",
    )


def export_run_lineage(store: Any, activity_id: str, folder: Path) -> None:
    """Write ``lineage.prov.json`` and ``lineage.openlineage.json`` for the run."""
    from cmlops.capture.export import export_lineage

    graph = store.activity_lineage(activity_id)
    prov = json.loads(export_lineage(graph, format="prov"))
    events = [
        json.loads(line)
        for line in export_lineage(graph, format="openlineage").splitlines()
        if line.strip()
    ]
    for name, doc in (("lineage.prov.json", prov), ("lineage.openlineage.json", events)):
        write_atomic(folder / name, json.dumps(doc, indent=2, sort_keys=True))
