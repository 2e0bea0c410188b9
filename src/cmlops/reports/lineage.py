"""The report run as W3C PROV lineage, and its export into the package.

A run is one activity (kind ``report``) that *used* the template, the plan and
every input file, was *associated* with the user and with cmlops, and
*generated* the executed notebook, the HTML report and the results. Entities of
files are identified by their SHA-256, so the same data file used by two runs
is one entity. The export itself is the capture layer's
(:func:`cmlops.capture.export.export_lineage`); a minimal built-in PROV-JSON /
OpenLineage writer is used only when that layer is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmlops.store.model import (
    Activity,
    Agent,
    Associated,
    Entity,
    Generated,
    LineageBatch,
    LineageGraph,
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


def _fallback_prov(graph: LineageGraph) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "prefix": {"cmlops": "https://cmlops.dev/ns#"},
        "entity": {
            f"cmlops:{k}": {"prov:label": v.name, "cmlops:kind": v.kind}
            for k, v in graph.entities.items()
        },
        "activity": {
            f"cmlops:{k}": {"prov:startTime": v.started, "prov:endTime": v.ended}
            for k, v in graph.activities.items()
        },
        "agent": {f"cmlops:{k}": {"prov:label": v.name} for k, v in graph.agents.items()},
        "used": {
            f"_:u{i}": {
                "prov:activity": f"cmlops:{u.activity_id}",
                "prov:entity": f"cmlops:{u.entity_id}",
                "prov:role": u.role,
            }
            for i, u in enumerate(graph.used)
        },
        "wasGeneratedBy": {
            f"_:g{i}": {
                "prov:entity": f"cmlops:{g.entity_id}",
                "prov:activity": f"cmlops:{g.activity_id}",
            }
            for i, g in enumerate(graph.generated)
        },
        "wasAssociatedWith": {
            f"_:a{i}": {
                "prov:activity": f"cmlops:{a.activity_id}",
                "prov:agent": f"cmlops:{a.agent_id}",
            }
            for i, a in enumerate(graph.associated)
        },
    }
    return doc


def _fallback_openlineage(graph: LineageGraph) -> list[dict[str, Any]]:
    events = []
    for act in graph.activities.values():
        inputs = [graph.entities[u.entity_id] for u in graph.used if u.entity_id in graph.entities]
        outputs = [
            graph.entities[g.entity_id] for g in graph.generated if g.entity_id in graph.entities
        ]
        events.append(
            {
                "eventType": "COMPLETE" if act.status == "ok" else "FAIL",
                "eventTime": act.ended,
                "run": {"runId": act.id},
                "job": {"namespace": "cmlops", "name": act.name},
                "inputs": [{"namespace": "cmlops", "name": e.name or e.id} for e in inputs],
                "outputs": [{"namespace": "cmlops", "name": e.name or e.id} for e in outputs],
                "producer": "https://github.com/cmlops/cmlops",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            }
        )
    return events


def export_run_lineage(store: Any, activity_id: str, folder: Path) -> None:
    """Write ``lineage.prov.json`` and ``lineage.openlineage.json`` for the run."""
    try:
        from cmlops.capture.export import export_lineage
    except ImportError:
        export_lineage = None
    graph = store.activity_lineage(activity_id)
    if export_lineage is not None:
        prov = json.loads(export_lineage(graph, format="prov"))
        ol = [
            json.loads(line)
            for line in export_lineage(graph, format="openlineage").splitlines()
            if line.strip()
        ]
    else:
        prov, ol = _fallback_prov(graph), _fallback_openlineage(graph)
    for name, doc in (("lineage.prov.json", prov), ("lineage.openlineage.json", ol)):
        text = doc if isinstance(doc, str) else json.dumps(doc, indent=2, sort_keys=True)
        (folder / name).write_text(text, encoding="utf-8")
