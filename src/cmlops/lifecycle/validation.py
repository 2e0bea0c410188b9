"""Marking a version validated: the package must be the validation its change requires.

* the first version and any change outside the protocol need the protocol's
  **full validation** (its template, its plan — by SHA-256 — and its subgroups),
  and an out-of-scope change also an **updated protocol** recorded after the
  version was registered;
* a change within a pre-specified modification needs that modification's
  **re-validation** package (its template, plan and subgroups);
* either way the package verifies, EXECUTED with verdict PASS, and validated
  data that descend from this version's model in the lineage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import RegistryError
from cmlops.lifecycle.packages import checked_package, descends_from, scored_input
from cmlops.lifecycle.registry import ModelState, VersionState, model_state, replay
from cmlops.store.model import AuditEvent


def required_validation(state: ModelState, version: VersionState) -> tuple[str, dict[str, Any]]:
    """('full' | 'revalidation', the protocol's spec of it) for ``version``; refusals explain."""
    if state.protocol is None:
        raise RegistryError(
            f"model {state.name!r} has no change protocol: record one with "
            f"`cmlops model protocol {state.name} FILE` before validating"
        )
    protocol = state.protocol["protocol"]
    scope = version.change.get("scope")
    if scope == "in":
        mod = next(
            (m for m in protocol["modifications"] if m["id"] == version.change["modification"]),
            None,
        )
        if mod is not None:
            return "revalidation", mod["revalidation"]
    if scope == "out" and state.protocol["seq"] < version.registered["seq"]:
        reasons = "; ".join(version.change.get("reasons") or []) or "outside the protocol"
        raise RegistryError(
            f"{state.name} v{version.version} is out of the protocol's scope ({reasons}): it "
            "needs an updated protocol (`cmlops model protocol … --reason`) and full validation"
        )
    return "full", protocol["full_validation"]


def _problems(
    store: Any, version: VersionState, package: dict[str, Any], spec: dict[str, Any]
) -> list[str]:
    out = []
    if package["status"] != "EXECUTED":
        out.append(f"the run {package['status']}")
    if package["verdict"] != "PASS":
        out.append(f"its acceptance verdict is {package['verdict']}, not PASS")
    if package["template"] != spec["template"]:
        out.append(f"template {package['template']!r}, the protocol requires {spec['template']!r}")
    if package["plan_sha256"] != spec["plan_sha256"]:
        out.append(
            f"plan {package['plan_id']!r} (SHA-256 {package['plan_sha256'][:12]}…) is not the "
            f"protocol's plan {spec['plan'].get('plan_id')!r} ({spec['plan_sha256'][:12]}…)"
        )
    covered = set(package["parameters"].get("subgroups") or [])
    missing = [s for s in spec["subgroups"] if s not in covered]
    if missing:
        out.append(f"subgroups {missing} required by the protocol were not analysed")
    scored = scored_input(package)
    if not descends_from(store, scored["sha256"], version.entity_id):
        out.append(
            f"its data {Path(scored['path']).name} do not descend from this version's model "
            "in the lineage (score them with this model in a tracked cell)"
        )
    return out


def validate_version(
    store: Any, name: str, version: int, package_path: str | Path, *, reason: str = ""
) -> VersionState:
    """Record that ``package_path`` validates ``name`` v``version`` (or say why it does not)."""
    state = model_state(store, name)
    current = state.version(version)
    if current.status != "candidate":
        raise RegistryError(f"{name} v{version} is {current.status}, not a candidate")
    kind, spec = required_validation(state, current)
    package = checked_package(package_path)
    problems = _problems(store, current, package, spec)
    if problems:
        raise RegistryError(
            f"package {package['package_id']} does not validate {name} v{version} "
            f"({kind} validation): " + "; ".join(problems)
        )
    payload = {
        "version": version,
        "validation": kind,
        **{
            k: package[k]
            for k in (
                "package_id",
                "path",
                "manifest_sha256",
                "template",
                "plan_id",
                "plan_sha256",
                "verdict",
                "metrics",
            )
        },
        "data_sha256": scored_input(package)["sha256"],
    }

    def decide(read: Any) -> list[AuditEvent]:
        again = replay(name, read(object_type="model", object_id=name)).version(version)
        if again.status != "candidate":
            raise RegistryError(f"{name} v{version} is {again.status}, not a candidate")
        return [AuditEvent("model.version.validated", "model", name, payload, reason)]

    store.append_decided(decide)
    return model_state(store, name).version(version)
