"""The one signature primitive of cmlops: Ed25519 over domain-separated canonical JSON.

Every signed statement cmlops makes — a package signature, a key's proof of
possession, a policy document, a chain checkpoint — is signed over these bytes::

    ASCII(context) || "\\n" || RFC8785(document)

``context`` names what is signed and its format version (``cmlops-signature-v2``,
``cmlops-checkpoint-v1``, ...): it must match ``cmlops-<purpose>-v<N>``. Because
the context is part of the signed bytes, a signature made for one purpose can
never be replayed as another (a checkpoint signature is not a package
signature), and RFC 8785 makes the bytes reproducible by any third party.

Keys and signatures travel as standard base64 of the raw 32-byte public key and
the raw 64-byte signature; a key's id is the first 32 hexadecimal digits (128
bits) of the SHA-256 of its raw public key.

API (small on purpose): :func:`signing_input`, :func:`sign_document`,
:func:`verify_document`, :func:`public_key_text`, :func:`key_id_of`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.store.chain import canonical_json

ALGORITHM = "Ed25519"
_CONTEXT = re.compile(r"cmlops-[a-z][a-z0-9-]*-v[1-9][0-9]*")


def signing_input(context: str, document: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed: ``context``, a newline, the RFC 8785 document."""
    if not isinstance(context, str) or not _CONTEXT.fullmatch(context):
        raise InvalidInputError(
            f"signature context {context!r} is not of the form cmlops-<purpose>-v<N>"
        )
    return context.encode("ascii") + b"\n" + canonical_json(dict(document))


def sign_document(private_key: Any, context: str, document: Mapping[str, Any]) -> str:
    """Sign ``document`` for ``context`` with an Ed25519 private key; base64 signature."""
    raw = private_key.sign(signing_input(context, document))
    return base64.b64encode(raw).decode("ascii")


def _decode(text: Any, size: int) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def verify_document(
    public_key: str, context: str, document: Mapping[str, Any], signature: str
) -> bool:
    """True only when ``signature`` is ``public_key``'s signature of ``document`` for ``context``.

    Malformed keys or signatures (wrong type, not base64, wrong length) are
    simply not valid: a verifier reports them, it does not crash on them.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key_raw, sig_raw = _decode(public_key, 32), _decode(signature, 64)
    if key_raw is None or sig_raw is None:
        return False
    try:
        message = signing_input(context, document)
    except (InvalidInputError, TypeError, ValueError):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key_raw).verify(sig_raw, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_text(private_key: Any) -> str:
    """The base64 raw public key of an Ed25519 private key."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def key_id_of(public_key: str | bytes) -> str:
    """128-bit key id: the first 32 hex digits of SHA-256 of the raw public key."""
    raw = public_key if isinstance(public_key, bytes) else _decode(public_key, 32)
    if raw is None:
        raise InvalidInputError("not an Ed25519 public key (32 bytes, base64)")
    return hashlib.sha256(raw).hexdigest()[:32]
