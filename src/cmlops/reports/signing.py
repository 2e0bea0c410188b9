"""Signing an audit package: the workflow (21 CFR 11.50, 11.70, 11.100, 11.200).

1. Everything is checked before the passphrase is used: the signer is the
   store's authenticated actor (``--user`` may only confirm it); the package
   verifies against the store; it is not superseded; the key file's key is the
   signer's *registered*, active key; the printed name is the registered name;
   the policy gives the signer the role for the meaning and the duty rules hold
   (:func:`cmlops.trust.policy.signing_problem`). Any refusal is recorded
   (``package.sign_refused``) and nothing is written to the package.
2. The passphrase unlocks the key (second component of 11.200(a)); the
   signature covers the fields of :data:`~cmlops.reports.signatures.SIGNED_FIELDS`.
3. A ``package.signed`` record is appended; its ``ts`` is the trusted signing
   time (the store's clock, not the signer's).
4. ``signatures.json`` (entries + evidence for offline verification) and
   ``signatures.html`` are written atomically and read-only (the read-only
   package folder is opened for them only), under an exclusive lock on the
   package folder so two signers never lose each other's entry; the zip is
   rewritten. If the files cannot be written, a ``package.sign_withdrawn``
   record says so, and the signing is not reported as stripped.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.errors import SigningError
from cmlops.reports.manifest import SIGNATURES, SIGNATURES_HTML, read_manifest
from cmlops.reports.package import writable_folder, zip_package
from cmlops.reports.signature_anchor import seal_evidence
from cmlops.reports.signature_page import signature_page
from cmlops.reports.signatures import (
    CONTEXT,
    RUN_STARTED,
    SIG_SCHEMA,
    SIGNED,
    WITHDRAWN,
    read_signatures_file,
    signed_payload,
)
from cmlops.reports.status import superseded_by
from cmlops.reports.verify import PackageVerification, verify_folder
from cmlops.trust.admin import signer_key
from cmlops.trust.ed25519 import ALGORITHM, sign_document
from cmlops.trust.keys import read_key_file, unlock
from cmlops.trust.ledger import TrustLedger, load_ledger, trust_records
from cmlops.trust.policy import MEANINGS, SigningFacts, signing_problem
from cmlops.trust.refusals import recorded_refusal


@contextmanager
def package_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on the package folder itself (no lock file inside the package)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass
class _Approved:
    """What the checks established, ready to sign."""

    entry: dict[str, Any]
    private_key: Any
    manifest: dict[str, Any]


def _run_facts(store: Any, package_id: str, manifest: dict[str, Any]) -> tuple[str, str]:
    """The run's author and verdict as the chain recorded them (refuse if unknown)."""
    started = store.records(action=RUN_STARTED, object_type="report", object_id=package_id)
    if len(started) != 1:
        raise SigningError(
            f"this store has no record of run {package_id}: sign with the store that ran it "
            "(CMLOPS_HOME or CMLOPS_STORE_URL)"
        )
    verdict = str((manifest.get("results") or {}).get("verdict", ""))
    finished = store.records(action="report.finished", object_type="report", object_id=package_id)
    if finished and finished[-1].payload_dict().get("verdict") != verdict:
        raise SigningError("the manifest's verdict is not the verdict the chain recorded")
    return started[0].actor, verdict


def _signer(store: Any, request: dict[str, Any]) -> str:
    actor = store.actor
    if request["user_id"] not in (None, actor):
        raise SigningError(
            f"you act as {actor!r} in this store, not {request['user_id']!r}: "
            "sign as yourself, with your own key"
        )
    if request["meaning"] not in MEANINGS:
        raise SigningError(f"unknown meaning {request['meaning']!r}: one of {', '.join(MEANINGS)}")
    return actor


def _verified(root: Path, store: Any, details: dict[str, Any]) -> PackageVerification:
    result = verify_folder(root, store=store)
    details["object_id"] = result.package_id
    if not result.ok:
        raise SigningError(f"package fails verification ({result.lines()[0]}): not signing it")
    if superseded_by(store, result.package_id):
        raise SigningError(f"package {result.package_id} was superseded: sign its successor")
    return result


def _printed_name(registered_name: str, given: str | None) -> str:
    if given is not None and given != registered_name:
        raise SigningError(
            f"printed name {given!r} is not your registered name {registered_name!r}: "
            "sign with your registered name"
        )
    return registered_name


def _check(root: Path, store: Any, request: dict[str, Any], details: dict[str, Any]) -> _Approved:
    """Every check before signing, in the order of the module docstring; refuse on the first."""
    actor = _signer(store, request)
    key = read_key_file(request["key_path"])
    details["key_id"] = key.key_id
    result = _verified(root, store, details)
    manifest, _raw = read_manifest(root)
    ledger = load_ledger(store)
    registered = signer_key(ledger, actor, key, store.clock())
    name = _printed_name(registered.name, request["name"])
    author, verdict = _run_facts(store, result.package_id, manifest)
    earlier = tuple((s["user_id"], s["meaning"]) for s in result.signatures if s["valid"])
    facts = SigningFacts(
        actor, request["meaning"], author, result.status, verdict, request["justification"], earlier
    )
    problem = signing_problem(ledger.policies.current, facts)
    if problem:
        raise SigningError(problem)
    private = unlock(key, request["passphrase"])
    entry = {
        "package_id": result.package_id,
        "manifest_sha256": result.manifest_sha256,
        "user_id": actor,
        "name": name,
        "meaning": request["meaning"],
        "justification": request["justification"],
        "key_id": key.key_id,
    }
    return _Approved(entry, private, manifest)


def collect_evidence(store: Any, package_id: str, private_key: Any) -> dict[str, Any]:
    """The records an offline verifier needs to judge the package's signatures."""
    signed = store.records(action=SIGNED, object_type="package", object_id=package_id)
    trust = trust_records(store)
    ledger = TrustLedger.from_records(store.store_id, trust)
    users = {r.actor for r in signed} | {v.changed_by for v in ledger.policies.versions}
    needed = [
        r for r in trust if r.action == "policy.changed" or r.payload_dict().get("user_id") in users
    ]
    records = {
        r.seq: r
        for r in (
            *store.records(limit=1),
            *store.records(action=RUN_STARTED, object_type="report", object_id=package_id),
            *signed,
            *store.records(action=WITHDRAWN, object_type="package", object_id=package_id),
            *needed,
        )
    }
    return {
        "records": [records[seq].to_dict() for seq in sorted(records)],
        "anchor": seal_evidence(store, sorted(records), private_key),
    }


def _write(root: Path, store: Any, approved: _Approved, entry: dict[str, Any]) -> None:
    doc = read_signatures_file(root)
    entries = [*doc.get("signatures", []), entry]
    package_id = entry["package_id"]
    document = {
        "schema": SIG_SCHEMA,
        "package_id": package_id,
        "signatures": entries,
        "evidence": collect_evidence(store, package_id, approved.private_key),
    }
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    page = signature_page(approved.manifest, entries)
    with writable_folder(root):  # the package stays read-only around these two files
        write_atomic(root / SIGNATURES, text, read_only=True)
        write_atomic(root / SIGNATURES_HTML, page, read_only=True)


def sign_package(
    path: str | Path,
    *,
    meaning: str,
    passphrase: str,
    name: str | None = None,
    justification: str = "",
    key_path: str | Path | None = None,
    user_id: str | None = None,
    store: Any = None,
) -> dict[str, Any]:
    """Sign a package folder; returns the new signature entry. See the module docstring."""
    root = Path(path)
    if not root.is_dir():
        raise SigningError(f"sign the package folder, not {root}: unzip it first")
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    request = {
        "meaning": meaning,
        "name": name,
        "justification": justification.strip(),
        "key_path": key_path,
        "user_id": user_id,
        "passphrase": passphrase,
    }
    attempt = {"meaning": meaning, "user_id": store.actor, "name": name}
    with package_lock(root):
        with recorded_refusal(store, "package.sign_refused", "package", "", attempt) as details:
            approved = _check(root, store, request, details)
        entry = dict(approved.entry)
        entry["signature"] = sign_document(approved.private_key, CONTEXT, entry)
        reason = entry["justification"] or f"{meaning} by {entry['name']}"
        record = store.append(
            SIGNED, "package", entry["package_id"], signed_payload(entry), reason=reason
        )
        entry["signed_at"] = record.ts
        entry["record"] = {"seq": record.seq, "hash": record.hash}
        entry["algorithm"] = ALGORITHM
        try:
            _write(root, store, approved, entry)
        except BaseException as exc:
            store.append(
                WITHDRAWN,
                "package",
                entry["package_id"],
                {"seq": record.seq, "error": f"{type(exc).__name__}: {exc}"},
                reason="the signature could not be written into the package",
            )
            raise
    zip_package(root)
    return entry
