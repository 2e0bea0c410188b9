"""Writing the audit log: sealing records onto the chain's head, and nothing else.

Every write goes through :meth:`ChainWriter._append`: inside the chain's write
lock (:meth:`cmlops.store.session.StoreSession._writer`) it reads the head,
seals the new records and inserts them in the same transaction as any lineage
rows they justify. Records are never updated or deleted: a correction is a new
record that points at the old one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from cmlops.errors import ImmutableRecordError, InvalidInputError
from cmlops.store import schema
from cmlops.store.chain import GENESIS_HASH, seal, utc_timestamp
from cmlops.store.context import context_text
from cmlops.store.lineage_rows import lineage_rows
from cmlops.store.model import AuditEvent, AuditRecord, LineageBatch
from cmlops.store.record_queries import FILTERS, filtered
from cmlops.store.session import WRITTEN, StoreSession
from cmlops.store.values import canonical_payload


class ChainWriter(StoreSession):
    """Appends, corrections and lineage writes (part of :class:`cmlops.store.sql.Store`)."""

    def _append(self, connection: Connection, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        head = connection.execute(
            select(schema.audit_log.c.seq, schema.audit_log.c.hash)
            .order_by(schema.audit_log.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        self._check_not_rolled_back(connection, (seq, prev_hash))
        records = []
        for event in events:
            seq += 1
            record = seal(
                seq,
                utc_timestamp(self.clock()),
                self.identity.name,
                event.action,
                event.object_type,
                event.object_id,
                event.payload,
                event.reason,
                prev_hash,
                context_text(self.identity, event.claimed_actor),
            )
            records.append(record)
            prev_hash = record.hash
        if records:
            connection.execute(insert(schema.audit_log), [vars(r) for r in records])
            connection.info[WRITTEN] = (records[-1].seq, records[-1].hash)
        return records

    def append(
        self,
        action: str,
        object_type: str,
        object_id: str,
        payload: dict[str, Any] | None = None,
        *,
        reason: str = "",
        claimed_actor: str | None = None,
    ) -> AuditRecord:
        """Append one record durably and return it (with its seq and hash).

        Corrections, deviations, policy changes and signatures need a
        ``reason`` (:func:`cmlops.store.model.reason_required`).
        """
        return self.append_many(
            [AuditEvent(action, object_type, object_id, payload or {}, reason, claimed_actor)]
        )[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Append several records in one transaction (one fsync), in order."""
        with self._guard(), self._writer() as connection:
            return self._append(connection, list(events))

    def append_decided(
        self,
        decide: Callable[[Callable[..., list[AuditRecord]]], Sequence[AuditEvent]],
    ) -> list[AuditRecord]:
        """Append what ``decide`` returns, deciding under the chain's write lock.

        ``decide`` gets a ``read(**filters)`` that returns records (oldest first, the
        filters of :meth:`records`) as they are inside the locked transaction, so a
        read-then-write (the next version number of a model) cannot race another
        writer. If ``decide`` raises, nothing is written.
        """
        with self._guard(), self._writer() as connection:

            def read(**filters: str | None) -> list[AuditRecord]:
                query = filtered(
                    select(schema.audit_log),
                    *(filters.get(k) for k in FILTERS),
                ).order_by(schema.audit_log.c.seq)
                return [AuditRecord(**row._mapping) for row in connection.execute(query)]

            return self._append(connection, list(decide(read)))

    def correct(
        self,
        seq: int,
        correction: dict[str, Any],
        *,
        reason: str,
        field: str | None = None,
        claimed_actor: str | None = None,
    ) -> AuditRecord:
        """Record a correction of record ``seq``: a new record pointing at the old one.

        The payload names the corrected record (seq, hash, action) and carries
        the SHA-256 of the old and new values' canonical JSON: the old value
        is the corrected record's payload, or its member ``field`` when given;
        the new value is ``correction``.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError("a correction needs a reason: say why the record is wrong")
        with self._guard(), self._writer() as connection:
            row = connection.execute(
                select(schema.audit_log).where(schema.audit_log.c.seq == seq)
            ).first()
            if row is None:
                raise InvalidInputError(f"there is no audit record with seq {seq} to correct")
            old = json.loads(row.payload)
            if field is not None:
                if field not in old:
                    raise InvalidInputError(
                        f"record {seq} has no payload member {field!r} to correct: name one of "
                        + ", ".join(sorted(old))
                    )
                old = old[field]
            payload = {
                "corrects": {"seq": seq, "hash": row.hash, "action": row.action},
                "field": field,
                "correction": correction,
                "old_value_sha256": _value_digest(old),
                "new_value_sha256": _value_digest(correction),
            }
            event = AuditEvent(
                "audit.correction", "audit_record", str(seq), payload, reason, claimed_actor
            )
            return self._append(connection, [event])[0]

    def update(self, *_args: object, **_kwargs: object) -> None:
        """Evidence is append-only; this exists to say so clearly."""
        raise ImmutableRecordError(
            "audit records are never updated: use Store.correct(seq, ...) "
            "to append a correction that points at the old record"
        )

    delete = update

    def record_lineage(self, batch: LineageBatch) -> list[AuditRecord]:
        """Write lineage facts and their audit records in one transaction.

        Entities, agents and environments already present are skipped (identical
        content has one identity); relations already present are skipped too.
        """
        with self._guard(), self._writer() as connection:
            planned = lineage_rows(connection, batch)
            records = self._append(connection, [event for event, _table, _row in planned])
            for record, (_event, table, row) in zip(records, planned, strict=True):
                connection.execute(insert(table), [{**row, "audit_seq": record.seq}])
            return records


def _value_digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON (wrapped, so any JSON value can be hashed)."""
    text = canonical_payload({"value": value})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
