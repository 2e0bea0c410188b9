"""Reading the audit log: the head, filtered listings, counts, raw rows, JSON Lines.

The filters (:func:`filtered`) are shared by every reader — ``cmlops audit
log``, the server's audit view, and a writer deciding under the chain's lock
(:meth:`cmlops.store.chain_writer.ChainWriter.append_decided`) — so a time
bound or an action prefix means the same everywhere. The raw-row cursor is the
hot path of chain verification and the Merkle tree.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import IO, Any

from sqlalchemy import func, select

from cmlops.errors import InvalidInputError
from cmlops.store import schema
from cmlops.store.chain import ROW_FIELDS, utc_timestamp
from cmlops.store.model import Anchor, AuditRecord
from cmlops.store.session import StoreSession

#: the filters of :meth:`RecordQueries.records`, in the order :func:`filtered` takes them
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until", "after_seq")


def filtered(
    query: Any,
    actor: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    since: str | None,
    until: str | None,
    after_seq: int | None = None,
) -> Any:
    """``query`` on the audit log narrowed by every given filter (``action`` may end in ``*``)."""
    log = schema.audit_log.c
    if after_seq is not None:
        query = query.where(log.seq > after_seq)
    if actor:
        query = query.where(log.actor == actor)
    if action:
        query = (
            query.where(log.action.startswith(action[:-1]))
            if action.endswith("*")
            else query.where(log.action == action)
        )
    if object_type:
        query = query.where(log.object_type == object_type)
    if object_id:
        query = query.where(log.object_id == object_id)
    if since:
        query = query.where(log.ts >= _normalise_time(since, "since"))
    if until:
        query = query.where(log.ts <= _normalise_time(until, "until"))
    return query


def _normalise_time(value: str, name: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"--{name} {value!r} is not an ISO 8601 time "
            "(e.g. 2026-11-22 or 2026-11-22T10:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return utc_timestamp(moment)
    except InvalidInputError:
        raise InvalidInputError(
            f"--{name} {value!r} is outside the years 1-9999 in UTC: give a time within them"
        ) from None


class RecordQueries(StoreSession):
    """Queries over the audit log's records (part of :class:`cmlops.store.sql.Store`)."""

    def head(self) -> Anchor | None:
        with self._guard(), self._reader() as connection:
            row = connection.execute(
                select(schema.audit_log.c.seq, schema.audit_log.c.hash)
                .order_by(schema.audit_log.c.seq.desc())
                .limit(1)
            ).first()
        return Anchor(row.seq, row.hash) if row else None

    def records(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
        after_seq: int | None = None,
    ) -> list[AuditRecord]:
        """Audit records matching every given filter (``action`` may end in ``*``).

        ``after_seq`` keeps only records with a greater seq: the tail after a
        head seen earlier, for readers that follow the log.
        """
        query = filtered(
            select(schema.audit_log), actor, action, object_type, object_id, since, until, after_seq
        )
        seq = schema.audit_log.c.seq
        query = query.order_by(seq.desc() if newest_first else seq).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._guard(), self._reader() as connection:
            return [AuditRecord(**row._mapping) for row in connection.execute(query)]

    def count_records(self, **filters: Any) -> int:
        query = filtered(
            select(func.count()).select_from(schema.audit_log),
            *(filters.get(name) for name in FILTERS),
        )
        with self._guard(), self._reader() as connection:
            return int(connection.execute(query).scalar_one())

    def _iter_rows(
        self,
        batch: int = 50_000,
        *,
        columns: Sequence[str] = ROW_FIELDS,
        upto: int | None = None,
        after_seq: int = 0,
    ) -> Iterator[tuple]:
        """Raw rows in seq order through the driver's cursor (the verify hot path)."""
        if not set(columns) <= set(ROW_FIELDS):
            raise InvalidInputError(f"unknown audit_log columns {columns!r}")
        where = f" WHERE seq > {int(after_seq)}"
        if upto is not None:
            where += f" AND seq <= {int(upto)}"
        sql = f"SELECT {', '.join(columns)} FROM audit_log{where} ORDER BY seq"  # noqa: S608 - fixed names, ints
        with self._guard(), self._reader() as connection:
            raw = connection.connection.dbapi_connection
            if connection.dialect.name == "postgresql":
                cursor = raw.cursor(name=f"cmlops_verify_{uuid.uuid4().hex}")
            else:
                cursor = raw.cursor()
            try:
                cursor.execute(sql)
                while rows := cursor.fetchmany(batch):
                    yield from rows
            finally:
                cursor.close()

    def export_jsonl(self, out: IO[str], **filters: Any) -> int:
        """Write matching records as JSON Lines (one canonical-order object each)."""
        count = 0
        for record in self.records(**filters):
            out.write(
                json.dumps(
                    record.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
                )
                + "\n"
            )
            count += 1
        return count
