"""What the registry needs to know about an audit package, checked rather than believed.

A package counts for a model version only when it verifies offline, its run
EXECUTED, and the data it validated *descends from that version's model entity
in the lineage* (the scored file was produced from the model): a package's own
parameters (a model name typed in) are claims, the lineage is evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import RegistryError


def checked_package(path: str | Path) -> dict[str, Any]:
    """Manifest facts of a package that verifies; a one-line error naming the first problem."""
    from cmlops.reports.manifest import read_manifest
    from cmlops.reports.package import opened_package
    from cmlops.reports.verify import verify_package

    path = Path(path)
    result = verify_package(path)
    if not result.ok:
        raise RegistryError(f"package {path} fails verification ({result.lines()[0]})")
    with opened_package(path) as root:
        manifest, _raw = read_manifest(root)
    return {
        "package_id": manifest["package_id"],
        "path": str(path.resolve()),
        "manifest_sha256": result.manifest_sha256,
        "status": manifest["status"],
        "template": manifest["template"]["name"],
        "plan_id": manifest["plan"].get("plan_id", ""),
        "plan_sha256": manifest["plan"]["sha256"],
        "verdict": manifest["results"]["verdict"],
        "criteria": manifest["results"]["criteria"],
        "metrics": manifest["results"].get("metrics", {}),
        "parameters": manifest["parameters"],
        "inputs": manifest["inputs"],
        "user": manifest["user"],
        "run": manifest["run"],
    }


def descends_from(store: Any, input_sha256: str, entity_id: str) -> bool:
    """True when the file ``sha256:<input_sha256>`` has ``entity_id`` among its ancestors."""
    file_id = f"sha256:{input_sha256}"
    if store.get_entity(file_id) is None:
        return False
    return entity_id in store.ancestors(file_id).entities


def scored_input(package: dict[str, Any], parameter: str = "data") -> dict[str, Any]:
    for item in package["inputs"]:
        if item["parameter"] == parameter:
            return item
    raise RegistryError(
        f"package {package['package_id']} has no {parameter!r} input: it cannot show which "
        "scored data it validated"
    )
