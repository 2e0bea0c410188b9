"""Electronic signatures on audit packages (21 CFR 11.50 / 11.70) and package status.

A signature binds the *manifest digest* and the *package id* together with the
signer's printed name, user id, the UTC time and the meaning (authored,
reviewed, approved) — 11.50 requires all three of name, time and meaning to be
part of the signed record. The signed bytes follow :mod:`cmlops.trust.ed25519`
(context ``cmlops-signature-v1``), verified with the Ed25519 public key stored
beside them. Because the manifest digest covers
every file's hash, a signature copied to another package, or any byte changed
after signing, fails verification (11.70: signatures cannot be transferred).

``signatures.json`` holds the signatures; ``signatures.html`` is the
human-readable signature page, rebuilt from it on every signing and checked by
verify. Status follows executed → reviewed → approved (→ superseded, recorded
in the audit log). Approval is refused for a FAILED run, for a package whose
verification fails, and before a review.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.reports.errors import SigningError
from cmlops.reports.manifest import SIGNATURES, SIGNATURES_HTML
from cmlops.trust.ed25519 import sign_document, verify_document
from cmlops.trust.keys import key_id_of, read_key, unlock

MEANINGS = ("authored", "reviewed", "approved")
SIG_SCHEMA = "cmlops.signatures/1"
CONTEXT = "cmlops-signature-v1"
SIGNED_FIELDS = (
    "package_id",
    "manifest_sha256",
    "name",
    "user_id",
    "meaning",
    "signed_at",
    "key_id",
    "key_expires",
)


def signed_document(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in SIGNED_FIELDS}


def read_signatures(root: Path) -> list[dict[str, Any]]:
    path = root / SIGNATURES
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text("utf-8"))
        return list(doc["signatures"])
    except (ValueError, KeyError, TypeError):
        raise SigningError(f"{path} is damaged: not a signatures file") from None


def signatures_html(package_id: str, entries: list[dict[str, Any]]) -> str:
    """The signature page (every value escaped); byte-stable for the same entries."""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(e.get(k, '')))}</td>"
            for k in ("meaning", "name", "user_id", "signed_at", "key_id", "manifest_sha256")
        )
        + "</tr>"
        for e in entries
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Signatures — {html.escape(package_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
        "padding:4px 8px;font-size:13px}table{border-collapse:collapse}</style></head><body>"
        f"<h1>Electronic signatures</h1><p>Package <code>{html.escape(package_id)}</code>. "
        "Each signature signs the manifest digest below with the signer's name, user id, "
        "UTC time and meaning (21 CFR 11.50). Check them with "
        "<code>cmlops package verify</code>.</p>"
        "<table><thead><tr><th>meaning</th><th>printed name</th><th>user id</th>"
        "<th>signed (UTC)</th><th>key id</th><th>manifest SHA-256</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>\n"
    )


def _valid(entry: dict[str, Any]) -> str:
    """'' when the Ed25519 signature verifies, else why not."""
    try:
        if key_id_of(base64.b64decode(entry["public_key"], validate=True)) != entry["key_id"]:
            return "key id does not match its public key"
        if datetime.fromisoformat(entry["signed_at"]) >= datetime.fromisoformat(
            entry["key_expires"]
        ):
            return "signed after its key expired"
        document = signed_document(entry)
    except (KeyError, ValueError, TypeError):
        return "signature entry is malformed"
    if not verify_document(entry["public_key"], CONTEXT, document, entry.get("signature")):
        return "signature does not match the signed fields"
    return ""


def check_signatures(
    root: Path, package_id: str, manifest_sha256: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each signature with its validity, and the problems found (for verify)."""
    problems: list[str] = []
    try:
        entries = read_signatures(root)
    except SigningError as exc:
        return [], [str(exc)]
    if not (root / SIGNATURES).is_file():
        problems.append(f"{SIGNATURES_HTML} present without {SIGNATURES}")
    report = []
    for i, entry in enumerate(entries, 1):
        why = _valid(entry)
        if not why and entry.get("package_id") != package_id:
            why = "signature belongs to another package"
        if not why and entry.get("manifest_sha256") != manifest_sha256:
            why = "manifest changed after signing"
        label = f"{entry.get('meaning', '?')} by {entry.get('name', '?')} ({entry.get('user_id')})"
        if why:
            problems.append(f"broken signature {i}: {label}: {why}")
        report.append(
            {**{k: entry.get(k) for k in SIGNED_FIELDS}, "valid": not why, "problem": why}
        )
    page = root / SIGNATURES_HTML
    if entries and (
        not page.is_file() or page.read_text("utf-8") != signatures_html(package_id, entries)
    ):
        problems.append(f"modified: {SIGNATURES_HTML} does not match {SIGNATURES}")
    return report, problems


def package_status(
    manifest: dict[str, Any], entries: list[dict[str, Any]], superseded_by: str | None = None
) -> str:
    """FAILED, or the furthest of executed → reviewed → approved, or superseded."""
    if superseded_by:
        return "superseded"
    if manifest.get("status") in ("FAILED", "ABORTED"):
        return str(manifest["status"])
    meanings = {e.get("meaning") for e in entries}
    if "approved" in meanings:
        return "approved"
    if "reviewed" in meanings:
        return "reviewed"
    return "executed"


def sign_package(
    path: str | Path,
    *,
    meaning: str,
    name: str,
    passphrase: str,
    key_path: str | Path | None = None,
    user_id: str | None = None,
    store: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sign a package folder; returns the new signature entry. See the module docstring."""
    from cmlops.reports.package import writable_folder, zip_package
    from cmlops.reports.verify import verify_folder

    root = Path(path)
    if not root.is_dir():
        raise SigningError(f"sign the package folder, not {root}: unzip it first")
    if meaning not in MEANINGS:
        raise SigningError(f"unknown meaning {meaning!r}: one of {', '.join(MEANINGS)}")
    if not name.strip():
        raise SigningError("a signature needs the signer's full printed name: pass --name")
    info, doc = read_key(key_path)
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    signer = user_id or store.actor
    if signer != info.user_id:
        raise SigningError(
            f"key {info.key_id} belongs to user {info.user_id!r}, not {signer!r}: use your own key"
        )
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    if datetime.fromisoformat(info.expires) <= moment:
        raise SigningError(
            f"signing key {info.key_id} expired on {info.expires}: generate a new one"
        )
    result = verify_folder(root)
    if not result.ok:
        raise SigningError(f"package fails verification ({result.lines()[0]}): not signing it")
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    entries = read_signatures(root)
    superseded = store.records(
        action="package.superseded", object_type="package", object_id=result.package_id, limit=1
    )
    if superseded:
        raise SigningError(f"package {result.package_id} was superseded: sign its successor")
    if meaning == "approved":
        if manifest["status"] != "EXECUTED":
            raise SigningError(
                f"refusing to approve a {manifest['status']} run: re-run the report first"
            )
        if not any(e.get("meaning") == "reviewed" for e in entries):
            raise SigningError("refusing to approve before a review: sign --meaning reviewed first")
    private = unlock(doc, passphrase)
    entry = {
        "package_id": result.package_id,
        "manifest_sha256": result.manifest_sha256,
        "name": name.strip(),
        "user_id": signer,
        "meaning": meaning,
        "signed_at": moment.isoformat(),
        "key_id": info.key_id,
        "key_expires": info.expires,
        "public_key": info.public_key,
        "algorithm": "Ed25519",
    }
    entry["signature"] = sign_document(private, CONTEXT, signed_document(entry))
    entries.append(entry)
    document = {"schema": SIG_SCHEMA, "package_id": result.package_id, "signatures": entries}
    with writable_folder(root):  # the package stays read-only around these two files
        write_atomic(
            root / SIGNATURES, json.dumps(document, indent=2, sort_keys=True), read_only=True
        )
        write_atomic(
            root / SIGNATURES_HTML, signatures_html(result.package_id, entries), read_only=True
        )
    store.append(
        "package.signed",
        "package",
        result.package_id,
        {k: entry[k] for k in (*SIGNED_FIELDS, "signature")},
        reason=f"{meaning} by {entry['name']}",
    )
    zip_package(root)
    return entry
