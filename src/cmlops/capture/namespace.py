"""Namespace diffing: which data objects a cell used, created or changed.

Why names from the code: fingerprinting every frame in the namespace after
every cell would cost seconds on large data. A cell can only read or change
what it names (directly; aliases and functions that mutate globals are a
documented limit), so the candidates are the names in the cell's syntax tree
plus any name that is new or re-bound after the cell.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from typing import Any

from cmlops.estimators import is_estimator, is_fitted
from cmlops.fingerprint_schema import schema_summary
from cmlops.fingerprinting import FingerprintOptions, fingerprint
from cmlops.json_safe import json_safe
from cmlops.spark_frames import is_spark_frame
from cmlops.spark_sources import plan_identity, shared_digests
from cmlops.store import Entity


def referenced_names(code: str) -> set[str]:
    """Every identifier the code mentions (loads, stores, attribute bases, deletes)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            names.update(node.names)
    return names


def kind_of(obj: Any) -> str | None:
    """The entity kind of a namespace object, or None when it is not tracked."""
    if isinstance(obj, type):
        return None
    result_kind = getattr(type(obj), "_cmlops_result_kind", None)
    if isinstance(result_kind, str) and callable(getattr(obj, "to_dict", None)):
        return "result"
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame | pd.Series):
        return "dataset"
    if is_spark_frame(obj):
        return "dataset"
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray) and obj.size > 0:
        return "array"
    if is_estimator(obj):
        return "model" if is_fitted(obj) else None
    if type(obj).__name__ == "generator" or _is_gpu_tensor(obj):
        return "unsupported"
    return None


def _is_gpu_tensor(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] in {"torch", "cupy", "jax", "tensorflow"}


@dataclass
class Observed:
    """A fingerprinted namespace object."""

    name: str
    entity: Entity
    obj_id: int


@dataclass
class Snapshot:
    """What the referenced names held before the cell, and every name's object id."""

    ids: dict[str, int] = field(default_factory=dict)
    before: dict[str, Observed] = field(default_factory=dict)


def result_content(obj: Any, options: FingerprintOptions) -> tuple[dict[str, Any], str]:
    """A cmlops result as recorded: its JSON-safe ``to_dict()`` and that content's fingerprint.

    The fingerprint is the result's entity id in the lineage (and the object of
    its ``monitor.alert`` records), whoever records it.
    """
    content = json_safe(obj.to_dict())
    return content, fingerprint(content, options=options)


def describe(name: str, obj: Any, options: FingerprintOptions, notes: list[str]) -> Observed | None:
    """Fingerprint ``obj`` into an entity; a one-line note instead when it cannot be."""
    kind = kind_of(obj)
    if kind is None:
        return None
    if kind == "unsupported":
        notes.append(f"skipped {name}: a {type(obj).__name__} has no stable content to fingerprint")
        return None
    try:
        if kind == "result":
            content, fp = result_content(obj, options)
            schema: dict[str, Any] = {"kind": "result"}
            attributes: dict[str, Any] = {
                "result_kind": type(obj)._cmlops_result_kind,
                "class": type(obj).__name__,
                "result": content,
            }
        elif is_spark_frame(obj):  # lazy: named by its derivation, no Spark job per cell
            fp, attributes = plan_identity(obj, shared_digests())
            schema = schema_summary(obj)
            attributes["type"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        else:
            fp = fingerprint(obj, options=options)
            schema = json_safe(schema_summary(obj))
            attributes = {"type": f"{type(obj).__module__}.{type(obj).__qualname__}"}
            if kind == "model":
                attributes["class"] = schema.get("class", "")
                attributes["params"] = schema.get("params", {})
    except Exception as exc:  # noqa: BLE001 - never an error in the user's cell
        notes.append(f"skipped {name}: {exc}".splitlines()[0])
        return None
    entity = Entity(
        id=fp,
        kind=kind,
        name=name,
        fingerprint=fp,
        location=f"variable:{name}",
        schema=schema,
        attributes=attributes,
    )
    return Observed(name, entity, id(obj))


class NamespaceTracker:
    """Remembers the fingerprint of each tracked variable between cells.

    A variable whose object id is unchanged since it was last fingerprinted is
    trusted (``trust_cache``) in autotrack mode, where every cell is seen; with
    explicit ``%%cmlops_track`` cells an untracked cell may have changed it in
    place, so referenced variables are fingerprinted again.
    """

    def __init__(self, options: FingerprintOptions | None = None) -> None:
        self.options = options or FingerprintOptions.from_env()
        self.known: dict[str, Observed] = {}

    def before(
        self, ns: dict[str, Any], names: set[str], notes: list[str], trust_cache: bool
    ) -> Snapshot:
        snap = Snapshot(ids={k: id(v) for k, v in ns.items() if not k.startswith("_")})
        for name in names:
            if name not in ns or name.startswith("_"):
                continue
            obj = ns[name]
            cached = self.known.get(name)
            if trust_cache and cached is not None and cached.obj_id == id(obj):
                snap.before[name] = cached
                continue
            observed = describe(name, obj, self.options, notes)
            if observed is not None:
                snap.before[name] = observed
        return snap

    def after(
        self, ns: dict[str, Any], names: set[str], snap: Snapshot, notes: list[str]
    ) -> tuple[list[Observed], list[Observed]]:
        """Return ``(used, generated)`` variables of the cell and update the memory."""
        candidates = set(names)
        candidates.update(
            k for k, v in ns.items() if not k.startswith("_") and snap.ids.get(k) != id(v)
        )
        used = [snap.before[n] for n in sorted(names) if n in snap.before]
        generated: list[Observed] = []
        for name in sorted(candidates):
            if name.startswith("_") or name not in ns:
                self.known.pop(name, None)
                continue
            observed = describe(name, ns[name], self.options, notes)
            if observed is None:
                continue
            previous = snap.before.get(name)
            if previous is None or previous.entity.id != observed.entity.id:
                generated.append(observed)
            self.known[name] = observed
        used_ids = {o.entity.id for o in used}
        generated = [g for g in generated if g.entity.id not in used_ids]
        return used, generated
