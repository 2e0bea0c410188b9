"""A run's inputs: files and Spark folders hashed before it, hashed again after it.

The manifest must name the data the results come from. Every ``path`` and
``dataset`` parameter is hashed before the kernel starts; after the run each is
hashed again, and one whose digest changed makes the run FAILED. Spark tables
cannot be hashed by the runner (it has no Spark): they are listed with the
content fingerprint the kernel computed for the frame of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmlops.reports.catalogue import Template
from cmlops.reports.data_inputs import current_digest, dataset_entry, table_name
from cmlops.reports.manifest import sha256_file


def hashed_inputs(template: Template, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each input file or Spark folder a run's parameters name, with its SHA-256 now."""
    out = []
    for spec in template.parameters:
        value = values.get(spec.name)
        if spec.type == "dataset" and value and (table_name(value) or Path(value).is_dir()):
            entry = dataset_entry(spec.name, value)  # a Spark folder (a table: see frames)
            out.extend([entry] if entry else [])
        elif spec.type in ("path", "dataset") and value:
            path = Path(value)
            digest = sha256_file(path)
            out.append(
                {
                    "parameter": spec.name,
                    "path": str(path),
                    "sha256": digest,
                    "size": path.stat().st_size,
                    "fingerprint": f"sha256:{digest}",
                }
            )
    return out


def changed_inputs(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inputs whose file is no longer what was hashed before the run (digest or size)."""
    changed = []
    for item in inputs:
        after = current_digest(item)
        if after != item["sha256"]:
            changed.append(
                {
                    "parameter": item["parameter"],
                    "path": item["path"],
                    "sha256_before": item["sha256"],
                    "sha256_after": after,
                }
            )
    return changed


def spark_tables(
    template: Template, values: Mapping[str, Any], results: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each ``table:NAME`` parameter with the fingerprint of the frame of the same name."""
    prints = {f.get("name"): f.get("fingerprint") for f in results.get("frames") or []}
    return [
        {"parameter": spec.name, "table": name, "fingerprint": prints.get(spec.name)}
        for spec in template.parameters
        if spec.type == "dataset" and (name := table_name(values.get(spec.name)))
    ]
