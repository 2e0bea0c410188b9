"""Key files: an Ed25519 key pair whose private half is encrypted with the owner's passphrase.

21 CFR 11.200(a)(1) asks for two distinct identification components for a
non-biometric signature. In cmlops they are the user id — the store's
authenticated actor, which must be the user the key is *registered* for — and
the passphrase that decrypts the private key (PKCS#8 with the library's best
available encryption). The key file is written with mode 0600 and never
overwritten silently.

A key file asserts nothing a verifier relies on. Its ``user_id`` and ``name``
are the owner's *request* (the defaults for registration); who the key belongs
to, the printed name and the validity window live in the key's registration
record in the audit chain (:mod:`cmlops.trust.registry`). Editing a key file
changes no verification result.

The file also carries a *registration request*: the public key with the
requested user id and name, signed by the key itself (proof of possession), so
an administrator can register a key its owner generated without ever seeing
the private key (``cmlops keys export`` writes it to its own file).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.errors import SigningError
from cmlops.trust.ed25519 import (
    ALGORITHM,
    key_id_of,
    public_key_text,
    sign_document,
    verify_document,
)

KEY_SCHEMA = "cmlops.signing-key/2"
OLD_KEY_SCHEMA = "cmlops.signing-key/1"
REQUEST_SCHEMA = "cmlops.key-request/1"
REQUEST_CONTEXT = "cmlops-key-request-v1"
ENV_KEY = "CMLOPS_SIGNING_KEY"
MIN_PASSPHRASE = 8
MAX_TEXT = 200
REQUEST_FIELDS = ("schema", "user_id", "name", "algorithm", "key_id", "public_key", "created")


def default_key_path() -> Path:
    """``$CMLOPS_SIGNING_KEY``, else ``~/.cmlops-keys/signing-key.json``."""
    env = os.environ.get(ENV_KEY)
    return Path(env).expanduser() if env else Path.home() / ".cmlops-keys" / "signing-key.json"


@dataclass(frozen=True)
class KeyFile:
    """A key file as read: its public part, the request it carries, the encrypted private key."""

    path: Path
    key_id: str
    public_key: str
    request: dict[str, Any]
    private_key_pem: str

    @property
    def user_id(self) -> str:
        return str(self.request.get("user_id", ""))

    @property
    def name(self) -> str:
        return str(self.request.get("name", ""))


def check_text(label: str, value: Any) -> str:
    """A user id or printed name: non-empty, one line, at most 200 characters."""
    if not isinstance(value, str) or not value.strip():
        raise SigningError(f"{label} is empty: give a non-empty {label}")
    if len(value) > MAX_TEXT or any(ch in value for ch in "\r\n\t\x00"):
        raise SigningError(
            f"{label} {value[:40]!r} must be one line of at most {MAX_TEXT} characters"
        )
    return value.strip()


def make_request(private_key: Any, user_id: str, name: str, created: str) -> dict[str, Any]:
    """A registration request for ``private_key``'s public key, signed by that key."""
    public = public_key_text(private_key)
    request = {
        "schema": REQUEST_SCHEMA,
        "user_id": check_text("user id", user_id),
        "name": check_text("printed name", name),
        "algorithm": ALGORITHM,
        "key_id": key_id_of(public),
        "public_key": public,
        "created": created,
    }
    return {**request, "proof_of_possession": sign_document(private_key, REQUEST_CONTEXT, request)}


def request_problem(request: Any) -> str:
    """'' when ``request`` is a well-formed request signed by its own key, else what is wrong."""
    if not isinstance(request, dict) or request.get("schema") != REQUEST_SCHEMA:
        return f"not a cmlops key registration request ({REQUEST_SCHEMA})"
    if any(not isinstance(request.get(k), str) for k in REQUEST_FIELDS):
        return "the registration request lacks " + ", ".join(
            k for k in REQUEST_FIELDS if not isinstance(request.get(k), str)
        )
    if request["algorithm"] != ALGORITHM:
        return f"unsupported key algorithm {request['algorithm']!r} (only {ALGORITHM})"
    try:
        if key_id_of(request["public_key"]) != request["key_id"]:
            return "the key id does not match the public key"
    except SigningError:
        raise
    except ValueError:
        return "the public key is not an Ed25519 key"
    signed = {k: request[k] for k in REQUEST_FIELDS}
    if not verify_document(
        request["public_key"], REQUEST_CONTEXT, signed, request.get("proof_of_possession")
    ):
        return "the proof of possession does not verify: the request was altered"
    return ""


def generate_key_file(
    user_id: str,
    passphrase: str,
    *,
    name: str,
    path: str | Path | None = None,
    force: bool = False,
) -> KeyFile:
    """Write a new key file (mode 0600) for ``user_id``; the private key is encrypted."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    check_text("user id", user_id)
    check_text("printed name", name)
    if len(passphrase) < MIN_PASSPHRASE:
        raise SigningError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    target = Path(path).expanduser() if path else default_key_path()
    if (target.exists() or target.is_symlink()) and not force:
        raise SigningError(f"key file {target} exists: pass another --out or --force")
    private = Ed25519PrivateKey.generate()
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    ).decode("ascii")
    request = make_request(private, user_id, name, created)
    doc = {"schema": KEY_SCHEMA, "request": request, "private_key_pem": pem}
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(target, json.dumps(doc, indent=2), replace=force, file_mode=0o600)
    except FileExistsError:
        raise SigningError(f"key file {target} exists: pass another --out or --force") from None
    return read_key_file(target)


def read_key_file(path: str | Path | None = None) -> KeyFile:
    """Read a key file with a one-line error when it is missing, damaged or not a key."""
    target = Path(path).expanduser() if path else default_key_path()
    try:
        doc = json.loads(target.read_text("utf-8"))
    except FileNotFoundError:
        raise SigningError(f"no signing key at {target}: run 'cmlops keys generate'") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise SigningError(
            f"{target} is not a readable cmlops key file: restore it from your copy or "
            "generate a new key"
        ) from None
    if isinstance(doc, dict) and doc.get("schema") == OLD_KEY_SCHEMA:
        raise SigningError(
            f"{target} is a key file of an older cmlops whose key was never registered: "
            "run 'cmlops keys generate' for a new key"
        )
    if not isinstance(doc, dict) or doc.get("schema") != KEY_SCHEMA:
        raise SigningError(f"{target} is not a cmlops signing key ({KEY_SCHEMA})")
    request = doc.get("request")
    problem = request_problem(request)
    if problem or not isinstance(doc.get("private_key_pem"), str):
        raise SigningError(
            f"{target} is a damaged key file ({problem or 'no private key'}): "
            "restore it from your copy or generate a new key"
        )
    return KeyFile(
        path=target,
        key_id=request["key_id"],
        public_key=request["public_key"],
        request={k: request[k] for k in (*REQUEST_FIELDS, "proof_of_possession")},
        private_key_pem=doc["private_key_pem"],
    )


def unlock(key: KeyFile, passphrase: str) -> Any:
    """The private key, or a one-line error for a wrong passphrase or a damaged key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(
            key.private_key_pem.encode("ascii"), password=passphrase.encode("utf-8")
        )
    except (ValueError, TypeError, UnicodeError):
        raise SigningError(
            f"wrong passphrase for signing key {key.key_id} (or the key file is damaged)"
        ) from None
    if not isinstance(private, Ed25519PrivateKey) or public_key_text(private) != key.public_key:
        raise SigningError(
            f"{key.path}: the private key does not match its public key: the key file is damaged"
        )
    return private


def read_request(path: str | Path) -> dict[str, Any]:
    """A registration request from a file written by ``cmlops keys export`` (or a key file)."""
    target = Path(path).expanduser()
    try:
        doc = json.loads(target.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise SigningError(
            f"{target} is not a readable key request: give the file 'cmlops keys export' wrote"
        ) from None
    if isinstance(doc, dict) and doc.get("schema") == KEY_SCHEMA:
        doc = doc.get("request")  # a key file: only its public request is read
    problem = request_problem(doc)
    if problem:
        raise SigningError(f"{target}: {problem}")
    return {k: doc[k] for k in (*REQUEST_FIELDS, "proof_of_possession")}


def export_request(key: KeyFile, out: str | Path) -> Path:
    """Write the key's registration request (public parts only) to ``out``, never replacing."""
    target = Path(out).expanduser()
    try:
        write_atomic(target, json.dumps(key.request, indent=2) + "\n", replace=False)
    except FileExistsError:
        raise SigningError(f"{target} exists: choose another --out") from None
    return target
