"""Checking the stored chain and proving records are in it.

``verify`` recomputes every hash from the rows as stored (or only the tail
after a head verified earlier); the Merkle tree over the record hashes gives
inclusion proofs a reviewer checks without the store (format in
docs/audit-chain.md). Both read rows through the raw cursor of
:class:`cmlops.store.record_queries.RecordQueries`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from cmlops.errors import InvalidInputError, ProofError
from cmlops.store import schema
from cmlops.store.chain import parse_anchor, verify_rows
from cmlops.store.engine import IN_LIST_CHUNK, read_transaction
from cmlops.store.merkle import MerkleTree, inclusion_bundle
from cmlops.store.model import Anchor, BrokenLink, VerifyResult
from cmlops.store.record_queries import RecordQueries


class ChainVerification(RecordQueries):
    """Verification and Merkle proofs of the audit log (part of :class:`cmlops.store.sql.Store`)."""

    def verify(
        self, anchor: str | Anchor | None = None, *, since: Anchor | None = None
    ) -> VerifyResult:
        """Recompute the whole chain; with an anchor, also detect a truncated tail.

        ``since`` (a head verified earlier) recomputes only the records after
        it, after checking that the record at its seq still has its hash: O(new
        records), but an edit *before* that head is found only by a full verify.
        """
        anchor_hash = (
            anchor.hash
            if isinstance(anchor, Anchor)
            else (parse_anchor(anchor) if anchor is not None else None)
        )
        if since is not None:
            return self._verify_since(since, anchor_hash)
        result = verify_rows(self._iter_rows(), anchor_hash)
        if result.ok and result.records == 0:  # opening a store always writes store.init
            result.ok = False
            result.broken = BrokenLink(
                1, "the audit log is empty: every record, including store.init, was deleted"
            )
        first = self.records(limit=1)
        if first and (first[0].action != "store.init" or first[0].object_id != self.store_id):
            result.warnings.append("the first record is not this store's store.init record")
        return result

    def _verify_since(self, since: Anchor, anchor_hash: str | None) -> VerifyResult:
        known = self.records(after_seq=since.seq - 1, limit=1) if since.seq else []
        if since.seq and (not known or known[0].seq != since.seq or known[0].hash != since.hash):
            found = known[0].hash if known and known[0].seq == since.seq else "no record"
            return VerifyResult(
                ok=False,
                records=0,
                head=None,
                broken=BrokenLink(
                    since.seq,
                    f"the record at the last verified head (seq {since.seq}) is now {found}, "
                    f"not {since.hash}: the chain was rewritten",
                ),
            )
        start_format = known[0].record_format if known else 1
        return verify_rows(
            self._iter_rows(after_seq=since.seq),
            anchor_hash,
            start=since,
            start_format=start_format,
        )

    # -- Merkle tree (store/merkle.py; format in docs/audit-chain.md) ------------------
    def merkle_tree(self, size: int | None = None) -> MerkleTree:
        """The RFC 6962 Merkle tree over the first ``size`` records (all by default).

        Raises :class:`ProofError` when the stored seqs have a gap (deleted
        records): proofs from such a chain would be meaningless.
        """
        hashes: list[str] = []
        for seq, record_hash in self._iter_rows(columns=("seq", "hash"), upto=size):
            if seq != len(hashes) + 1:
                raise ProofError(
                    f"the audit log has a gap or duplicate at seq {len(hashes) + 1}: records "
                    "were deleted or inserted; run `cmlops audit verify`"
                )
            hashes.append(record_hash)
        if size is not None and len(hashes) < size:
            raise InvalidInputError(f"the audit log has {len(hashes)} records, fewer than {size}")
        return MerkleTree.from_record_hashes(hashes)

    def inclusion_proofs(self, seqs: Iterable[int], tree_size: int | None = None) -> dict:
        """Proofs that records ``seqs`` are in the tree of the first ``tree_size`` records.

        Returns the JSON-ready bundle documented in docs/audit-chain.md
        (``{"tree_size", "root", "proofs": [{"seq", "hash", "path"}]}``); verify
        it with :func:`cmlops.store.merkle.verify_inclusion_bundle`.
        """
        return inclusion_bundle(self.merkle_tree(tree_size), self._hashes(seqs), tree_size)

    def _hashes(self, seqs: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(seqs))
        found: dict[int, str] = {}
        log = schema.audit_log.c
        with self._guard(), read_transaction(self._engine) as connection:
            for start in range(0, len(wanted), IN_LIST_CHUNK):
                chunk = wanted[start : start + IN_LIST_CHUNK]
                found.update(
                    connection.execute(select(log.seq, log.hash).where(log.seq.in_(chunk))).all()
                )
        missing = [seq for seq in wanted if seq not in found]
        if missing:
            raise InvalidInputError(f"there is no audit record with seq {missing[0]}")
        return found
