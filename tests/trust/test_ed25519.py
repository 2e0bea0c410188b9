"""The signature primitive: exact signed bytes, independent verification, no replay."""

from __future__ import annotations

import base64
import hashlib

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cmlops.errors import InvalidInputError
from cmlops.trust.ed25519 import (
    key_id_of,
    public_key_text,
    sign_document,
    signing_input,
    verify_document,
)

#: RFC 8032 section 7.1, TEST 1 (secret and public key)
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
DOC = {"b": 1.5, "a": "é\u2028<", "z": [True, None, 10**15]}


@pytest.mark.req("REQ-SIG-004")
def test_signed_bytes_are_context_newline_rfc8785() -> None:
    assert signing_input("cmlops-test-v1", DOC) == b"cmlops-test-v1\n" + rfc8785.dumps(DOC)


@pytest.mark.req("REQ-SIG-004")
def test_signature_verifies_with_an_independent_ed25519_verifier() -> None:
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    assert base64.b64decode(public_key_text(private)) == RFC8032_PUBLIC
    signature = sign_document(private, "cmlops-test-v1", DOC)
    Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(
        base64.b64decode(signature), b"cmlops-test-v1\n" + rfc8785.dumps(DOC)
    )  # raises InvalidSignature if our bytes differ from the documented format
    assert verify_document(public_key_text(private), "cmlops-test-v1", DOC, signature)


@pytest.mark.req("REQ-SIG-004")
def test_no_replay_across_contexts_documents_or_keys() -> None:
    private = Ed25519PrivateKey.generate()
    public = public_key_text(private)
    signature = sign_document(private, "cmlops-checkpoint-v1", DOC)
    assert not verify_document(public, "cmlops-signature-v1", DOC, signature)
    assert not verify_document(public, "cmlops-checkpoint-v1", {**DOC, "b": 2}, signature)
    other = public_key_text(Ed25519PrivateKey.generate())
    assert not verify_document(other, "cmlops-checkpoint-v1", DOC, signature)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (None, "x"),
        ("not base64!", "AAAA"),
        (base64.b64encode(b"short").decode(), base64.b64encode(bytes(64)).decode()),
        (base64.b64encode(RFC8032_PUBLIC).decode(), base64.b64encode(bytes(63)).decode()),
        (base64.b64encode(RFC8032_PUBLIC).decode(), 12),
    ],
)
@pytest.mark.req("REQ-SIG-004")
def test_malformed_keys_and_signatures_are_invalid_not_errors(public, signature) -> None:
    assert verify_document(public, "cmlops-test-v1", DOC, signature) is False


def test_contexts_are_checked_and_key_ids_are_128_bit_sha256() -> None:
    for bad in ("signature-v1", "cmlops-x-v0", "cmlops-x-v1\n", "CMLOPS-x-v1"):
        with pytest.raises(InvalidInputError, match="cmlops-<purpose>-v<N>"):
            signing_input(bad, DOC)
    text = base64.b64encode(RFC8032_PUBLIC).decode()
    assert (
        key_id_of(text)
        == key_id_of(RFC8032_PUBLIC)
        == hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:32]
    )
    with pytest.raises(InvalidInputError, match="not an Ed25519 public key"):
        key_id_of("AAAA")
