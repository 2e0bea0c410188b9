"""The RFC 6962 / 9162 Merkle tree: published test vectors, the RFC's own definitions, stores.

Reference values are the RFC 6962 test tree used by Certificate Transparency's
implementations (certificate-transparency's merkle_tree_test and
transparency-dev/merkle's proof tests): eight leaves, the roots of every prefix,
and the audit paths they publish. The naive functions below transcribe the
RFC's recursive definitions (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) word for
word; the tree's iterative, level-stored implementation must agree with them.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from cmlops.errors import InvalidInputError, ProofError
from cmlops.store import AuditEvent
from cmlops.store.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_bundle,
    leaf_hash,
    verify_consistency,
    verify_consistency_bundle,
    verify_inclusion,
    verify_inclusion_bundle,
)
from tests.store.tampering import rechain, tamper

H = bytes.fromhex
REFERENCE_LEAVES = [
    b"",
    H("00"),
    H("10"),
    H("2021"),
    H("3031"),
    H("40414243"),
    H("5051525354555657"),
    H("606162636465666768696a6b6c6d6e6f"),
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (1-based leaf, tree size, audit path)
REFERENCE_INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (size1, size2, consistency path)
REFERENCE_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_tree() -> MerkleTree:
    return MerkleTree(b"".join(sha(b"\x00" + leaf) for leaf in REFERENCE_LEAVES))


# -- the RFC's recursive definitions, transcribed --------------------------------------------
def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return sha(b"")
    if len(d) == 1:
        return d[0]  # d holds leaf hashes already
    k = k_of(len(d))
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_of(len(d))
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


# -- tests -----------------------------------------------------------------------------------
@pytest.mark.req("REQ-AUD-011")
def test_roots_of_the_rfc6962_reference_tree() -> None:
    tree = reference_tree()
    assert [tree.root(n).hex() for n in range(1, 9)] == REFERENCE_ROOTS
    assert tree.root(0) == EMPTY_ROOT == sha(b"")


@pytest.mark.parametrize(("leaf", "size", "expected"), REFERENCE_INCLUSION)
@pytest.mark.req("REQ-AUD-011")
def test_published_inclusion_proofs(leaf: int, size: int, expected: list[str]) -> None:
    tree = reference_tree()
    proof = tree.inclusion_proof(leaf - 1, size)
    assert [p.hex() for p in proof] == expected
    verify_inclusion(tree.leaf(leaf - 1), leaf - 1, size, proof, H(REFERENCE_ROOTS[size - 1]))


@pytest.mark.parametrize(("size1", "size2", "expected"), REFERENCE_CONSISTENCY)
@pytest.mark.req("REQ-AUD-011")
def test_published_consistency_proofs(size1: int, size2: int, expected: list[str]) -> None:
    tree = reference_tree()
    proof = tree.consistency_proof(size1, size2)
    assert [p.hex() for p in proof] == expected
    verify_consistency(
        size1, size2, H(REFERENCE_ROOTS[size1 - 1]), H(REFERENCE_ROOTS[size2 - 1]), proof
    )


def test_agrees_with_the_rfc_definitions_for_every_size_and_index() -> None:
    leaves = [sha(b"\x00" + i.to_bytes(4, "big")) for i in range(70)]
    tree = MerkleTree(b"".join(leaves))
    for n in range(1, 71):
        assert tree.root(n) == mth(leaves[:n])
        for m in range(n):
            assert tree.inclusion_proof(m, n) == path(m, leaves[:n])
            verify_inclusion(leaves[m], m, n, tree.inclusion_proof(m, n), tree.root(n))
        for m in range(1, n):
            assert tree.consistency_proof(m, n) == subproof(m, leaves[:n], True)
            verify_consistency(m, n, tree.root(m), tree.root(n), tree.consistency_proof(m, n))


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 8]) + value[1:]


@pytest.mark.req("REQ-AUD-011")
def test_altered_inclusion_proofs_fail() -> None:
    tree = reference_tree()
    leaf, root, proof = tree.leaf(5), tree.root(8), tree.inclusion_proof(5, 8)
    bad = [
        (leaf, 4, 8, proof, root),  # wrong index
        (leaf, 7, 8, proof, root),
        (leaf, 5, 16, proof, root),  # wrong size
        (leaf, 5, 4, proof, root),
        (tree.leaf(4), 5, 8, proof, root),  # wrong leaf
        (leaf, 5, 8, proof, EMPTY_ROOT),  # wrong root
        (leaf, 5, 8, [*proof, root], root),  # trailing / missing / altered element
        (leaf, 5, 8, proof[:-1], root),
        (leaf, 5, 8, [root, *proof], root),
        *[(leaf, 5, 8, [*proof[:i], _flip(proof[i]), *proof[i + 1 :]], root) for i in range(3)],
        (leaf, 8, 8, proof, root),  # index outside the tree
        (leaf, 5, 8, [b"short", *proof[1:]], root),
    ]
    for case in bad:
        with pytest.raises(ProofError):
            verify_inclusion(*case)


@pytest.mark.req("REQ-AUD-011")
def test_altered_consistency_proofs_fail() -> None:
    tree = reference_tree()
    r = tree.root
    proof = tree.consistency_proof(6, 8)
    bad = [
        (5, 8, r(6), r(8), proof),
        (
            6,
            16,
            r(6),
            r(8),
            proof,
        ),  # (same-depth sizes share proofs: RFC 9162 binds size and root together)
        (6, 8, r(5), r(8), proof),  # an old root that the new tree does not extend
        (6, 8, r(6), r(7), proof),
        (6, 8, r(8), r(6), proof),
        (6, 8, r(6), r(8), []),
        (6, 8, r(6), r(8), proof[:-1]),
        (6, 8, r(6), r(8), [*proof, r(8)]),
        *[(6, 8, r(6), r(8), [*proof[:i], _flip(proof[i]), *proof[i + 1 :]]) for i in range(3)],
        (8, 6, r(8), r(6), proof),
        (8, 8, r(8), r(7), []),
        (8, 8, r(8), r(8), [r(8)]),
        (0, 8, EMPTY_ROOT, r(8), proof),
    ]
    for case in bad:
        with pytest.raises(ProofError):
            verify_consistency(*case)
    verify_consistency(0, 8, EMPTY_ROOT, r(8), [])
    verify_consistency(8, 8, r(8), r(8), [])


def test_sizes_and_indexes_outside_the_tree_are_refused() -> None:
    tree = reference_tree()
    for call in (
        lambda: tree.root(9),
        lambda: tree.root(-1),
        lambda: tree.inclusion_proof(3, 3),
        lambda: tree.consistency_proof(5, 4),
        lambda: tree.leaf(8),
    ):
        with pytest.raises(InvalidInputError):
            call()
    with pytest.raises(InvalidInputError):
        MerkleTree(b"x" * 33)


# -- the store's tree -------------------------------------------------------------------------
def fill(store, count: int = 40) -> None:
    store.append_many([AuditEvent("t.event", "thing", f"x{i}", {"i": i}) for i in range(count)])


def test_store_tree_is_the_tree_of_its_record_hashes(make_store) -> None:
    store = make_store()
    fill(store)
    hashes = [record.hash for record in store.records()]
    leaves = [sha(b"\x00" + H(h)) for h in hashes]
    tree = store.merkle_tree()
    assert tree.size == len(hashes) == 41
    assert tree.root() == mth(leaves) and tree.root(17) == mth(leaves[:17])
    assert store.merkle_tree(17).root() == mth(leaves[:17])
    assert leaf_hash(hashes[3]) == leaves[3]


def test_store_inclusion_proofs_verify_and_survive_json(make_store) -> None:
    store = make_store()
    fill(store)
    bundle = json.loads(json.dumps(store.inclusion_proofs([2, 7, 30], tree_size=35)))
    assert bundle["tree_size"] == 35
    assert bundle["root"] == store.merkle_tree().root(35).hex()
    hashes = {r.seq: r.hash for r in store.records()}
    assert verify_inclusion_bundle(bundle) == {s: hashes[s] for s in (2, 7, 30)}
    forged = json.loads(json.dumps(bundle))
    forged["proofs"][1]["hash"] = hashes[8]
    with pytest.raises(ProofError, match="seq 7"):
        verify_inclusion_bundle(forged)
    for broken in ({}, {"proofs": "x"}, {**bundle, "root": "ab"}, {**bundle, "tree_size": True}):
        with pytest.raises(ProofError):
            verify_inclusion_bundle(broken)
    with pytest.raises(InvalidInputError, match="seq 36"):
        store.inclusion_proofs([36], tree_size=35)
    with pytest.raises(InvalidInputError, match="seq 99"):
        store.inclusion_proofs([99])


@pytest.mark.req("REQ-AUD-011")
def test_a_rechained_store_is_not_consistent_with_its_old_root(make_store) -> None:
    """Edit a record, then recompute every later hash (a full re-chain): the chain verifies,
    but the new tree does not extend the root kept before the edit."""
    store = make_store()
    fill(store)
    old = consistency_bundle(store.merkle_tree(), 30)
    old_root = old["root2"]
    tamper(store, "UPDATE audit_log SET payload = :p WHERE seq = 12", p='{"i":99}')
    rechain(store, 12)
    assert store.verify().ok  # the re-chain is internally valid
    proof = consistency_bundle(store.merkle_tree(), 30, 41)
    proof["root1"] = old_root
    with pytest.raises(ProofError, match="does not extend"):
        verify_consistency_bundle(proof)


def test_a_store_with_deleted_records_gives_no_proofs(make_store) -> None:
    store = make_store()
    fill(store)
    tamper(store, "DELETE FROM audit_log WHERE seq = 5")
    with pytest.raises(ProofError, match="seq 5"):
        store.merkle_tree()
