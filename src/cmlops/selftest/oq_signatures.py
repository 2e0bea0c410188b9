"""OQ: forged signatures are refused, on the installed copy.

Two levels. The signature primitive (:mod:`cmlops.trust.ed25519`): a signature
verifies, and is refused for an altered document, another key, another context
(a replay) and a flipped bit, while malformed keys and signatures are simply
invalid. The package: the OQ's sample package is signed with a key generated
and registered in the OQ's throwaway store; the signature verifies, and is
reported broken after the results are edited and the manifest re-hashed, after
the signer's name is changed, and after the entry is re-signed with a throwaway
key that was never registered (each forgery with the signature page rebuilt to
match, as a careful forger would). Signing with an unregistered key file is
refused before anything is written.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmlops.selftest.checks import Check
from cmlops.selftest.oq_packages import forgers_copy


def primitive_check() -> Check:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cmlops.trust.ed25519 import public_key_text, sign_document, verify_document

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public, context = public_key_text(key), "cmlops-signature-v2"
    document = {"package_id": "p", "manifest_sha256": "0" * 64, "meaning": "approved"}
    signature = sign_document(key, context, document)
    raw = bytearray(base64.b64decode(signature))
    raw[0] ^= 0x01
    flipped = base64.b64encode(bytes(raw)).decode()
    refused = {
        "an altered document": verify_document(
            public, context, {**document, "meaning": "x"}, signature
        ),
        "another key": verify_document(public_key_text(other), context, document, signature),
        "another context (replay)": verify_document(
            public, "cmlops-checkpoint-v1", document, signature
        ),
        "a flipped bit": verify_document(public, context, document, flipped),
        "a malformed signature": verify_document(public, context, document, "not base64!"),
        "a malformed key": verify_document("AAAA", context, document, signature),
    }
    accepted = [name for name, ok in refused.items() if ok]
    valid = verify_document(public, context, document, signature)
    return Check(
        "OQ-SIG-01",
        "OQ",
        "Ed25519 signatures verify, and forged ones are refused",
        ("REQ-SIG-004",),
        valid and not accepted,
        "the genuine signature verifies; " + ", ".join(refused) + " are refused",
        ("genuine: verifies" if valid else "genuine: REFUSED")
        + ("; all forgeries refused" if not accepted else "; ACCEPTED: " + ", ".join(accepted)),
    )


def sign_sample(package: Path, store: Any, work: Path) -> dict[str, Any]:
    """Sign the sample package with a key generated and registered in the OQ store."""
    from cmlops.reports.signing import sign_package
    from cmlops.trust.admin import generate_keys

    passphrase = secrets.token_urlsafe(16)
    key = work / "oq-signing-key.json"
    generate_keys(store.actor, passphrase, name="OQ signer", path=key, store=store)
    return sign_package(
        package, meaning="authored", passphrase=passphrase, key_path=key, store=store
    )


def forge_signatures(package: Path, forge: Callable[[dict[str, Any]], None]) -> None:
    """Edit the first signature entry with ``forge`` and rebuild the page to match."""
    from cmlops.reports.manifest import read_manifest
    from cmlops.reports.signature_page import signature_page

    path = package / "signatures.json"
    document = json.loads(path.read_text("utf-8"))
    forge(document["signatures"][0])
    path.write_text(json.dumps(document, indent=2, sort_keys=True), "utf-8")
    manifest, _raw = read_manifest(package)
    (package / "signatures.html").write_text(
        signature_page(manifest, document["signatures"]), "utf-8"
    )


def _rename_signer(package: Path) -> None:
    forge_signatures(package, lambda entry: entry.update(name="Mallory Forger"))


def _resign_with_throwaway_key(package: Path) -> None:
    """Re-sign the entry with a fresh key, named by its own key id: never registered."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cmlops.reports.signatures import CONTEXT, signed_document
    from cmlops.trust.ed25519 import key_id_of, public_key_text, sign_document

    throwaway = Ed25519PrivateKey.generate()

    def resign(entry: dict[str, Any]) -> None:
        entry["key_id"] = key_id_of(public_key_text(throwaway))
        entry["signature"] = sign_document(throwaway, CONTEXT, signed_document(entry))

    forge_signatures(package, resign)


def unregistered_signing_check(work: Path, package: Path, store: Any) -> Check:
    """Signing with a key file whose key was never registered is refused; nothing is written."""
    from cmlops.errors import SigningError
    from cmlops.reports.signing import sign_package
    from cmlops.trust.admin import generate_keys

    copy = forgers_copy(package, work / "unregistered")
    before = (copy / "signatures.json").read_bytes()
    passphrase = secrets.token_urlsafe(16)
    key = work / "unregistered-key.json"
    generate_keys(store.actor, passphrase, name="OQ signer", path=key, store=store, register=False)
    try:
        sign_package(copy, meaning="authored", passphrase=passphrase, key_path=key, store=store)
        refusal = ""
    except SigningError as exc:
        refusal = str(exc)
    unchanged = (copy / "signatures.json").read_bytes() == before
    return Check(
        "OQ-SIG-06",
        "OQ",
        "signing with an unregistered key is refused and writes nothing",
        ("REQ-SIG-002",),
        "not registered" in refusal and unchanged,
        "refused: the key is not registered; signatures.json unchanged",
        (f"refused: {refusal}" if refusal else "SIGNED")
        + ("" if unchanged else "; signatures.json CHANGED"),
    )


def package_signature_checks(work: Path, package: Path, store: Any) -> list[Check]:
    from cmlops.reports.verify import verify_package
    from cmlops.selftest.oq_packages import flip_verdict

    sign_sample(package, store, work)
    signed = verify_package(package)
    valid = [s for s in signed.signatures if s["valid"]]
    checks = [
        Check(
            "OQ-SIG-02",
            "OQ",
            "a signed package verifies with its signature valid",
            ("REQ-SIG-001",),
            signed.ok and len(valid) == 1 and valid[0]["name"] == "OQ signer",
            "verify passes; one valid 'authored' signature by 'OQ signer'",
            f"verify {'passed' if signed.ok else 'FAILED'}; "
            + "; ".join(
                f"{s['meaning']} by {s['name']}: {'valid' if s['valid'] else s['problem']}"
                for s in signed.signatures
            ),
        )
    ]
    #: forgery -> (what is done to a copy, words the broken signature's problem must hold)
    forgeries = {
        "results edited and the manifest re-hashed after signing": (flip_verdict, ""),
        "the signer's name changed after signing": (_rename_signer, "not the registered name"),
        "a re-signature with a throwaway key that was never registered": (
            _resign_with_throwaway_key,
            "was never registered",
        ),
    }
    for n, (name, (forge, words)) in enumerate(forgeries.items(), start=3):
        copy = forgers_copy(package, work / f"signed-{n}")
        forge(copy)
        result = verify_package(copy)
        broken = [s for s in result.signatures if not s["valid"]]
        checks.append(
            Check(
                f"OQ-SIG-{n:02d}",
                "OQ",
                f"a signature is broken by {name}",
                ("REQ-SIG-002",),
                not result.ok and any(words in s["problem"] for s in broken),
                "verify fails and reports the signature broken"
                + (f" ({words!r})" if words else ""),
                "verify passed"
                if result.ok
                else "; ".join(f"broken: {s['problem']}" for s in broken)
                or "; ".join(result.lines()[:2]),
            )
        )
    return [*checks, unregistered_signing_check(work, package, store)]
