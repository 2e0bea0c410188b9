"""Signing keys: Ed25519 key pairs whose private half is encrypted with a passphrase.

21 CFR 11.200(a)(1) asks for two distinct identification components for a
non-biometric signature. In cmlops they are the user id, which is written into
the key file and must match the signer, and the passphrase that decrypts the
private key (PKCS#8 with the library's best available encryption). The key file
is written with mode 0600 and never overwritten silently; the public key is
recorded in the audit log when the store is given, so a reviewer can tie a
signature's key to the person who generated it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.errors import SigningError
from cmlops.trust.ed25519 import key_id_of as _key_id

KEY_SCHEMA = "cmlops.signing-key/1"
ENV_KEY = "CMLOPS_SIGNING_KEY"
MIN_PASSPHRASE = 8


def default_key_path() -> Path:
    """``$CMLOPS_SIGNING_KEY``, else ``~/.cmlops-keys/signing-key.json``."""
    env = os.environ.get(ENV_KEY)
    return Path(env).expanduser() if env else Path.home() / ".cmlops-keys" / "signing-key.json"


@dataclass(frozen=True)
class KeyInfo:
    """The public part of a key file."""

    path: Path
    user_id: str
    name: str
    key_id: str
    public_key: str
    created: str
    expires: str

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) for k, v in self.__dict__.items()}


def key_id_of(public_raw: bytes) -> str:
    return _key_id(public_raw)


def generate_keys(
    user_id: str,
    passphrase: str,
    *,
    name: str = "",
    path: str | Path | None = None,
    valid_days: int = 730,
    force: bool = False,
    store: Any = None,
) -> KeyInfo:
    """Create a key file for ``user_id``; the private key is encrypted with ``passphrase``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not user_id.strip():
        raise SigningError("a key needs a user id: pass --user or set CMLOPS_USER")
    if len(passphrase) < MIN_PASSPHRASE:
        raise SigningError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    if valid_days < 1:
        raise SigningError("--valid-days must be at least 1")
    target = Path(path).expanduser() if path else default_key_path()
    if target.exists() and not force:
        raise SigningError(f"key file {target} exists: pass another --out or --force")
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    now = datetime.now(timezone.utc).replace(microsecond=0)
    doc = {
        "schema": KEY_SCHEMA,
        "user_id": user_id,
        "name": name,
        "algorithm": "Ed25519",
        "key_id": key_id_of(public_raw),
        "public_key": base64.b64encode(public_raw).decode("ascii"),
        "created": now.isoformat(),
        "expires": (now + timedelta(days=valid_days)).isoformat(),
        "private_key_pem": pem.decode("ascii"),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(target, json.dumps(doc, indent=2), replace=force, file_mode=0o600)
    except FileExistsError:
        raise SigningError(f"key file {target} exists: pass another --out or --force") from None
    info = _info(target, doc)
    if store is not None:
        store.append(
            "key.generated",
            "signing-key",
            info.key_id,
            {k: v for k, v in info.to_dict().items() if k != "path"},
        )
    return info


def _info(path: Path, doc: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        path=path,
        user_id=doc["user_id"],
        name=doc.get("name", ""),
        key_id=doc["key_id"],
        public_key=doc["public_key"],
        created=doc["created"],
        expires=doc["expires"],
    )


def read_key(path: str | Path | None = None) -> tuple[KeyInfo, dict[str, Any]]:
    """Read a key file (public part and raw document) with a one-line error if unusable."""
    target = Path(path).expanduser() if path else default_key_path()
    try:
        doc = json.loads(target.read_text("utf-8"))
    except FileNotFoundError:
        raise SigningError(f"no signing key at {target}: run 'cmlops keys generate'") from None
    except (OSError, ValueError):
        raise SigningError(f"{target} is not a readable cmlops key file") from None
    if not isinstance(doc, dict) or doc.get("schema") != KEY_SCHEMA:
        raise SigningError(f"{target} is not a cmlops signing key ({KEY_SCHEMA})")
    return _info(target, doc), doc


def unlock(doc: dict[str, Any], passphrase: str) -> Any:
    """The private key, or a one-line error for a wrong passphrase."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(
            doc["private_key_pem"].encode("ascii"), password=passphrase.encode("utf-8")
        )
    except (ValueError, TypeError):
        raise SigningError("wrong passphrase for this signing key") from None
