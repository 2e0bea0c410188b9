"""Compiling a dossier's evidence from the store: one deterministic JSON document.

The evidence of a dossier is everything its document may say, gathered from the
registry (the version, its change, validation, approval, the other versions),
the change protocol, the validation package (verified again now, with its
valid signatures), independence results in the lineage of the training data,
and the user's answers. It holds no clock reading, so the same evidence has
the same SHA-256 — that is how a living dossier knows whether anything is new.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cmlops.lifecycle.facts import entity_values
from cmlops.lifecycle.registry import ModelState, VersionState

SCHEMA = "cmlops.dossier-evidence/1"


def evidence_sha256(evidence: dict[str, Any]) -> str:
    from cmlops.store.chain import canonical_json

    return hashlib.sha256(canonical_json(evidence)).hexdigest()


def _package(store: Any, version: VersionState) -> dict[str, Any]:
    """The validating package as evidence (re-verified); the recorded facts if it is gone."""
    from cmlops.lifecycle.errors import RegistryError
    from cmlops.lifecycle.packages import checked_package
    from cmlops.reports.manifest import read_manifest
    from cmlops.reports.package import opened_package
    from cmlops.reports.status import package_state

    recorded = version.validation
    if not recorded:
        return {}
    try:
        pkg = checked_package(recorded["path"])
        state = package_state(recorded["path"], store=store)
        with opened_package(Path(recorded["path"])) as root:
            manifest, _raw = read_manifest(root)
    except (RegistryError, OSError) as exc:
        return {
            "package_id": recorded["package_id"],
            "problem": str(exc),
            "results": {"metrics": recorded.get("metrics", {})},
        }
    return {
        **{
            k: pkg[k]
            for k in (
                "package_id",
                "manifest_sha256",
                "status",
                "template",
                "parameters",
                "inputs",
                "user",
                "run",
            )
        },
        "plan": {**manifest["plan"], "criteria": manifest["results"]["criteria"]},
        "results": {k: manifest["results"].get(k) for k in ("verdict", "criteria", "metrics")},
        "frames": manifest.get("frames", []),
        "package_status": state["status"],
        "signatures": [
            {k: s.get(k) for k in ("meaning", "name", "user_id", "signed_at", "key_id")}
            for s in state["signatures"]
        ],
    }


def _independence(store: Any, version: VersionState) -> list[dict[str, Any]]:
    found = {}
    for data_id in version.facts.get("training_ids") or []:
        graph = store.descendants(data_id)
        for entity in graph.entities.values():
            attributes = entity_values(entity)[1] if entity.kind == "result" else {}
            if attributes.get("result_kind") == "independence":
                result = attributes.get("result", {})
                found[entity.id] = {
                    "entity_id": entity.id,
                    **{
                        k: result.get(k)
                        for k in (
                            "shared_subjects",
                            "duplicate_rows",
                            "near_duplicates",
                            "verdict",
                            "salt_id",
                        )
                    },
                }
    return [found[k] for k in sorted(found)]


def _version_summary(v: VersionState) -> dict[str, Any]:
    out = v.to_dict()
    out.pop("facts", None)
    return out


def model_evidence(
    store: Any, state: ModelState, version: VersionState, answers: dict[str, Any]
) -> dict[str, Any]:
    """The evidence of the model-level dossiers (card, TRIPOD+AI, credibility, Annex IV)."""
    protocol = state.protocol or {}
    return {
        "schema": SCHEMA,
        "model": {
            "name": state.name,
            "description": state.description,
            "versions": [_version_summary(v) for _k, v in sorted(state.versions.items())],
        },
        "version": version.to_dict(),
        "protocol": {k: protocol.get(k) for k in ("protocol_id", "sha256", "seq", "protocol")}
        if protocol
        else {},
        "validation": _package(store, version),
        "independence": _independence(store, version),
        "answers": answers,
    }


def _recorded_entity(entity: Any) -> dict[str, Any]:
    schema, attributes = entity_values(entity)
    return {**asdict(entity), "schema": schema, "attributes": attributes}


def dataset_evidence(
    store: Any, state: ModelState, entity_id: str, answers: dict[str, Any]
) -> dict[str, Any]:
    """The evidence of one dataset's datasheet: composition, provenance, uses."""
    entity = store.get_entity(entity_id)
    up, down = store.ancestors(entity_id), store.descendants(entity_id)
    producers = {g.activity_id for g in up.generated if g.entity_id == entity_id}
    users = {u.activity_id for u in down.used if u.entity_id == entity_id}

    def activity(a: Any) -> dict[str, Any]:
        return {k: getattr(a, k) for k in ("id", "kind", "name", "started", "code_hash")}

    models = [
        f"{state.name} v{v.version}"
        for _k, v in sorted(state.versions.items())
        if entity_id in (v.facts.get("training_ids") or [])
    ]
    return {
        "schema": SCHEMA,
        "model": {"name": state.name},
        "dataset": {
            "entity": _recorded_entity(entity) if entity else {"id": entity_id},
            "produced_by": [
                activity(up.activities[a]) for a in sorted(producers) if a in up.activities
            ],
            "sources": [
                {"id": e.id, "name": e.name, "kind": e.kind}
                for k, e in sorted(up.entities.items())
                if k != entity_id
            ],
            "used_by": [
                activity(down.activities[a]) for a in sorted(users) if a in down.activities
            ],
            "models": models,
        },
        "answers": answers,
    }
