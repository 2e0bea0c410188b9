"""An RFC 6962 / RFC 9162 Merkle tree over the audit chain, with inclusion and consistency proofs.

The hash chain proves order and integrity, but proving that one record belongs
to it needs every other record. The Merkle tree (the one Certificate
Transparency uses) proves it with about log2(n) hashes, and proves that a later
tree extends an earlier one (a *consistency proof*), so a verifier who kept an
old root detects a chain that was truncated or rewritten since. It is additive:
the chain and its hash rule are unchanged; leaf ``i`` (0-based) is record
``seq = i + 1``, and its leaf data is the record's ``hash`` as 32 raw bytes::

    leaf  = SHA-256(0x00 || bytes.fromhex(record.hash))
    node  = SHA-256(0x01 || left || right)
    MTH({})      = SHA-256("")
    MTH(D[n])    = MTH(D[0:k]) node MTH(D[k:n]), k the largest power of two < n

Proofs are RFC 9162 audit paths (§2.1.3, §2.1.4) and are verified with the
algorithms of §2.1.3.2 and §2.1.4.2. docs/audit-chain.md is the normative text.

:class:`MerkleTree` keeps the hash of every *perfect, aligned* subtree (level
``h`` holds the subtrees of width ``2**h``) in one contiguous ``bytes`` per
level, so any root or proof for any size up to the tree's is a few lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from cmlops.errors import InvalidInputError, ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(record_hash: str) -> bytes:
    """The Merkle leaf of an audit record, from its 64-hex-digit ``hash``."""
    return hashlib.sha256(_LEAF + bytes.fromhex(record_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """The Merkle tree of ``size`` leaves; roots and proofs for every size up to it."""

    def __init__(self, leaves: bytes) -> None:
        if len(leaves) % HASH_SIZE:
            raise InvalidInputError("Merkle leaves must be a whole number of 32-byte hashes")
        self.size = len(leaves) // HASH_SIZE
        self._levels = [leaves]
        sha = hashlib.sha256
        level = leaves
        while len(level) >= 2 * HASH_SIZE:  # (bytes slices beat memoryview slices here)
            level = b"".join(
                [
                    sha(_NODE + level[i : i + 2 * HASH_SIZE]).digest()
                    for i in range(0, len(level) - HASH_SIZE, 2 * HASH_SIZE)
                ]
            )
            self._levels.append(level)

    @classmethod
    def from_record_hashes(cls, hashes: Iterable[str]) -> MerkleTree:
        """The tree whose leaves are these record hashes, in ``seq`` order."""
        raw = bytes.fromhex("".join(hashes))
        sha = hashlib.sha256
        return cls(
            b"".join([sha(_LEAF + raw[i : i + HASH_SIZE]).digest() for i in range(0, len(raw), 32)])
        )

    def leaf(self, index: int) -> bytes:
        self._check_index(index, self.size)
        return self._node(0, index)

    def _node(self, level: int, index: int) -> bytes:
        return self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE]

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that starts on a boundary of its left part."""
        width = end - start
        if width & (width - 1) == 0:  # perfect and aligned: stored
            return self._node(width.bit_length() - 1, start >> (width.bit_length() - 1))
        k = _largest_power_of_two_below(width)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= self.size:
            raise InvalidInputError(f"tree size {size!r} is not between 0 and {self.size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise InvalidInputError(f"leaf index {index!r} is not in a tree of {size} leaves")

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self._size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[size]): the audit path, leaf side first."""
        size = self._size(size)
        self._check_index(index, size)
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if index < start + k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(size1, D[size2]); empty when size1 is 0 or size2."""
        size2 = self._size(size2)
        if isinstance(size1, bool) or not isinstance(size1, int) or not 0 <= size1 <= size2:
            raise InvalidInputError(f"old tree size {size1!r} is not between 0 and {size2}")
        if size1 in (0, size2):
            return []
        path: list[bytes] = []
        start, end, whole, m = 0, size2, True, size1  # SUBPROOF(m, D[start:end], whole)
        while m != end - start:
            k = _largest_power_of_two_below(end - start)
            if m <= k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            path.append(self._subtree(start, end))
        path.reverse()
        return path


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2); raises if malformed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} records")
    _check_hashes([leaf, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``leaf`` is at ``index`` in the tree ``(size, root)``."""
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError(
            f"the inclusion proof of leaf {index} does not lead to the root of the "
            f"{size}-record tree: the record or the tree was altered"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless tree ``(size2, root2)`` extends ``(size1, root1)``.

    RFC 9162 §2.1.4.2. A size-0 tree is consistent with every tree and needs no proof.
    """
    _check_hashes([root1, root2, *proof])
    if not 0 <= size1 <= size2:
        raise ProofError(f"old tree size {size1} is larger than the new size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    if size1 == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    nodes = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 a power of two: its root is the first node
        nodes.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the trees are deep")
    if fr != root1 or sr != root2:
        raise ProofError(
            f"the {size2}-record tree does not extend the {size1}-record tree: records "
            "were removed, altered or rewritten in between"
        )


def _check_hashes(values: Iterable[bytes]) -> None:
    for value in values:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ProofError("a proof hash is not 32 bytes (64 hexadecimal digits)")


# -- JSON bundles (the forms packages and checkpoints carry; docs/audit-chain.md) -----------


def inclusion_bundle(
    tree: MerkleTree, hashes: dict[int, str], tree_size: int | None = None
) -> dict:
    """Inclusion proofs of the records ``{seq: hash}`` in the tree of ``tree_size`` records.

    ``{"tree_size": n, "root": hex, "proofs": [{"seq": s, "hash": hex, "path": [hex, ...]}]}``
    """
    size = tree.size if tree_size is None else tree_size
    proofs = []
    for seq, record_hash in sorted(hashes.items()):
        if not 1 <= seq <= size:
            raise InvalidInputError(f"record seq {seq} is not in the first {size} records")
        if tree.leaf(seq - 1) != leaf_hash(record_hash):
            raise ProofError(f"record seq {seq} changed while its proof was being made")
        path = tree.inclusion_proof(seq - 1, size)
        proofs.append({"seq": seq, "hash": record_hash, "path": [p.hex() for p in path]})
    return {"tree_size": size, "root": tree.root(size).hex(), "proofs": proofs}


def verify_inclusion_bundle(bundle: object) -> dict[int, str]:
    """Check every proof of an inclusion bundle against its root; return ``{seq: hash}``.

    The caller still has to trust the bundle's root: compare it with a signed
    checkpoint (through a consistency proof) or with the store's own tree.
    """
    if not isinstance(bundle, dict) or not isinstance(bundle.get("proofs"), list):
        raise ProofError("the inclusion proofs are not a {tree_size, root, proofs} object")
    size = _size_of(bundle.get("tree_size"), "tree_size")
    root = _hex_hash(bundle.get("root"), "root")
    found: dict[int, str] = {}
    for item in bundle["proofs"]:
        if not isinstance(item, dict) or not isinstance(item.get("path"), list):
            raise ProofError("an inclusion proof is not a {seq, hash, path} object")
        seq = _size_of(item.get("seq"), "seq")
        record_hash = item.get("hash")
        leaf = leaf_hash_checked(record_hash, f"record seq {seq}")
        path = [_hex_hash(p, f"proof of seq {seq}") for p in item["path"]]
        try:
            verify_inclusion(leaf, seq - 1, size, path, root)
        except ProofError as error:
            raise ProofError(f"record seq {seq}: {error}") from None
        found[seq] = str(record_hash)
    return found


def consistency_bundle(tree: MerkleTree, size1: int, size2: int | None = None) -> dict:
    """``{"size1", "root1", "size2", "root2", "path"}``: tree ``size2`` extends tree ``size1``."""
    size2 = tree.size if size2 is None else size2
    return {
        "size1": size1,
        "root1": tree.root(size1).hex(),
        "size2": size2,
        "root2": tree.root(size2).hex(),
        "path": [p.hex() for p in tree.consistency_proof(size1, size2)],
    }


def verify_consistency_bundle(bundle: object) -> tuple[int, str, int, str]:
    """Check a consistency bundle; return ``(size1, root1, size2, root2)`` it proves."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("path"), list):
        raise ProofError("the consistency proof is not a {size1, root1, size2, root2, path} object")
    size1 = _size_of(bundle.get("size1"), "size1", allow_zero=True)
    size2 = _size_of(bundle.get("size2"), "size2", allow_zero=True)
    root1 = _hex_hash(bundle.get("root1"), "root1")
    root2 = _hex_hash(bundle.get("root2"), "root2")
    path = [_hex_hash(p, "consistency proof") for p in bundle["path"]]
    verify_consistency(size1, size2, root1, root2, path)
    return size1, root1.hex(), size2, root2.hex()


def leaf_hash_checked(record_hash: object, what: str) -> bytes:
    """``leaf_hash`` of an untrusted value, with a one-line error if it is not a hash."""
    return hashlib.sha256(_LEAF + _hex_hash(record_hash, what)).digest()


def _hex_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * HASH_SIZE or value.lower() != value:
        raise ProofError(f"{what} is not a 64-digit lowercase hexadecimal SHA-256 hash")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != HASH_SIZE:
        raise ProofError(f"{what} is not a 64-digit lowercase hexadecimal SHA-256 hash")
    return raw


def _size_of(value: object, what: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise ProofError(
            f"{what} {value!r} is not a {'non-negative' if allow_zero else 'positive'} integer"
        )
    return value
