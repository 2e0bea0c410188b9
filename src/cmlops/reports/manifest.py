"""The package manifest: a versioned JSON document that names every byte of a package.

``manifest.json`` is written last and lists each other file of the package with
its SHA-256 (except the signature files, which sign the manifest itself). Its
own SHA-256 — the *manifest digest* — is what signatures sign, so any changed
byte anywhere in the package breaks either a file hash or every signature.

Schema versions: ``cmlops.package/1`` (this one). A reader refuses a newer
major version rather than mis-reading it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from cmlops.reports.errors import PackageError

SCHEMA = "cmlops.package/1"
#: a manifest lists a few dozen files; anything this large is not one
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MANIFEST = "manifest.json"
SIGNATURES = "signatures.json"
SIGNATURES_HTML = "signatures.html"
#: files never listed in the manifest (they are checked separately)
UNLISTED = frozenset({MANIFEST, SIGNATURES, SIGNATURES_HTML})

_HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_TEXT = {"type": "string"}
#: a path inside the package: relative, POSIX, no ``..`` (checked again before use)
_REL = {"type": "string", "minLength": 1, "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$))[^\\\\\\x00]+$"}
_HEAD = {
    "type": ["object", "null"],
    "required": ["seq", "hash"],
    "properties": {"seq": {"type": "integer"}, "hash": _HEX},
}

#: JSON Schema of manifest version 1 (documented in docs/reports.md).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "schema",
        "package_id",
        "status",
        "template",
        "plan",
        "parameters",
        "inputs",
        "frames",
        "files",
        "results",
        "environment",
        "kit_version",
        "user",
        "run",
        "audit",
    ],
    "properties": {
        "schema": {"const": SCHEMA},
        "package_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["EXECUTED", "FAILED", "ABORTED"]},
        "error": {"type": ["object", "null"]},
        "template": {
            "type": "object",
            "required": ["name", "sha256", "file"],
            "properties": {"name": _TEXT, "sha256": _HEX, "file": _REL, "title": _TEXT},
        },
        "plan": {
            "type": "object",
            "required": ["sha256", "recorded_at", "source"],
            "properties": {
                "sha256": _HEX,
                "recorded_at": _TEXT,
                "source": _TEXT,
                "file": _REL,
                "plan_id": _TEXT,
                "deviations": {"type": "array"},
            },
        },
        "parameters": {"type": "object"},
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["parameter", "path", "sha256", "fingerprint"],
                "properties": {
                    "parameter": _TEXT,
                    "path": _TEXT,
                    "sha256": _HEX,
                    "fingerprint": _TEXT,
                    "size": {"type": "integer", "minimum": 0},
                },
            },
        },
        "frames": {"type": "array"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "sha256", "size"],
                "properties": {
                    "path": _REL,
                    "sha256": _HEX,
                    "size": {"type": "integer", "minimum": 0},
                },
            },
        },
        "results": {
            "type": "object",
            "required": ["verdict", "criteria"],
            "properties": {
                "verdict": {"type": ["string", "null"]},
                "criteria": {"type": "array", "items": {"type": "object"}},
                "metrics": {"type": ["object", "null"]},
            },
        },
        "environment": {"type": "object", "required": ["python", "packages"]},
        "kit_version": {"type": "string"},
        "user": {"type": "string"},
        "run": {"type": "object", "required": ["activity_id", "started", "ended"]},
        "archival": {
            "type": "object",
            "required": ["file", "embedded_manifest_sha256"],
            "properties": {
                "file": _REL,
                "format": _TEXT,
                "embedded_manifest": _TEXT,
                "embedded_manifest_sha256": _HEX,
            },
        },
        "spark": {
            "type": "object",
            "properties": {
                "spark_version": {"type": ["string", "null"]},
                "tables": {"type": "array", "items": {"type": "object"}},
            },
        },
        "remote_resources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tag", "attribute", "url"],
                "properties": {"tag": _TEXT, "attribute": _TEXT, "url": _TEXT},
            },
        },
        "audit": {
            "type": "object",
            "required": ["head_before", "head_after", "extract", "verify"],
            "properties": {
                "head_before": _HEAD,
                "head_after": _HEAD,
                "extract": _REL,
                "verify": _REL,
            },
        },
    },
}


def sha256_file(path: Path, block: int = 8 * 1024 * 1024) -> str:
    """SHA-256 of a file, read in large blocks (hashlib releases the GIL on them)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(block)
        view = memoryview(buffer)
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def package_files(root: Path) -> list[str]:
    """Every regular file under ``root`` (POSIX relative paths), except the unlisted ones."""
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if rel not in UNLISTED:
            out.append(rel)
    return out


def file_entries(root: Path) -> list[dict[str, Any]]:
    """The manifest's ``files`` list: path, SHA-256 and size of each packaged file."""
    return [
        {"path": rel, "sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size}
        for rel in package_files(root)
    ]


def environment_lock() -> dict[str, Any]:
    """Python, platform and the exact version of every installed distribution."""
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower()] = dist.version
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": dict(sorted(packages.items())),
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    """The exact bytes written as ``manifest.json`` (sorted keys, UTF-8, newline)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def validate_manifest(manifest: Any) -> list[str]:
    """Schema problems of a manifest (empty list when it conforms)."""
    import jsonschema

    if isinstance(manifest, dict):
        schema = str(manifest.get("schema", ""))
        if schema.startswith("cmlops.package/") and schema != SCHEMA:
            return [f"manifest schema {schema} is newer than this cmlops reads ({SCHEMA})"]
    validator = jsonschema.Draft202012Validator(JSON_SCHEMA)
    return [
        f"{'/'.join(map(str, err.absolute_path)) or '(root)'}: {err.message}"
        for err in validator.iter_errors(manifest)
    ]


def read_manifest(root: Path) -> tuple[dict[str, Any], bytes]:
    """Load a package's manifest and its raw bytes; a one-line error if unusable."""
    path = root / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            raise PackageError(f"{root} is not an audit package: {MANIFEST} is not a file")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise PackageError(f"{path} is larger than a manifest can be")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PackageError(f"{root} is not an audit package: no {MANIFEST}") from None
    except OSError as exc:
        raise PackageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError):
        raise PackageError(f"{path} is not valid JSON: the manifest was damaged") from None
    if not isinstance(manifest, dict):
        raise PackageError(f"{path} is not a manifest object")
    return manifest, raw
