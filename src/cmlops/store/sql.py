"""The store: an append-only, hash-chained audit log with a PROV lineage projection.

Every write goes through ``_append``: it takes the chain's write lock, reads
the head, seals the new records and inserts them in the same transaction as
any lineage rows they justify. Lineage tables are therefore a projection of
the audit log: each row keeps the ``seq`` of the record that put it there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from cmlops._version import __version__
from cmlops.config import default_actor, resolve_store
from cmlops.errors import (
    ImmutableRecordError,
    InvalidInputError,
    ProofError,
    SchemaVersionError,
    StoreError,
)
from cmlops.store import schema
from cmlops.store.artifacts import ArtifactStore
from cmlops.store.chain import (
    GENESIS_HASH,
    ROW_FIELDS,
    parse_anchor,
    seal,
    utc_timestamp,
    verify_rows,
)
from cmlops.store.engine import (
    create_store_engine,
    masked,
    read_transaction,
    translate_error,
    write_transaction,
)
from cmlops.store.lineage_queries import LineageQueries, lineage_rows
from cmlops.store.merkle import MerkleTree, inclusion_bundle
from cmlops.store.model import (
    Anchor,
    AuditEvent,
    AuditRecord,
    BrokenLink,
    LineageBatch,
    VerifyResult,
)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Store(LineageQueries):
    """An opened audit store. Use :func:`open_store` to get one."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        home: Path,
        *,
        actor: str | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._engine = engine
        self.url = url
        self.home = home
        self.actor = actor or default_actor()
        self.clock = clock
        self._artifacts: ArtifactStore | None = None

    # -- opening -----------------------------------------------------------------
    def _initialise(self, *, create: bool, migrate: bool) -> None:
        version = self._schema_version()
        if version is None:
            if not create:
                raise StoreError(
                    f"no cmlops store at {masked(self.url)}: run a cmlops command "
                    "with write access there first, or check CMLOPS_HOME"
                )
            with self._guard(), write_transaction(self._engine) as connection:
                if _read_version(connection) is None:  # another process may have won
                    schema.create_version(connection, schema.SCHEMA_VERSION)
                    store_id = str(uuid.uuid4())
                    connection.execute(
                        insert(schema.meta),
                        [
                            {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
                            {"key": "store_id", "value": store_id},
                        ],
                    )
                    self._append(
                        connection,
                        [
                            AuditEvent(
                                "store.init",
                                "store",
                                store_id,
                                {
                                    "schema_version": schema.SCHEMA_VERSION,
                                    "cmlops_version": __version__,
                                },
                                reason="store created",
                            )
                        ],
                    )
            return
        if version > schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the store {masked(self.url)} has schema v{version}, newer than this cmlops "
                f"{__version__} reads (v{schema.SCHEMA_VERSION}): back up the store, then "
                "upgrade cmlops"
            )
        if version < schema.SCHEMA_VERSION:
            if not migrate:
                raise SchemaVersionError(
                    f"the store {masked(self.url)} has schema v{version}, older than v"
                    f"{schema.SCHEMA_VERSION}: back it up, then run `cmlops store migrate`"
                )
            self._migrate(version)

    def _schema_version(self) -> int | None:
        with self._guard(), read_transaction(self._engine) as connection:
            return _read_version(connection)

    def _migrate(self, version: int) -> None:
        with self._guard(), write_transaction(self._engine) as connection:
            current = _read_version(connection) or version
            while current < schema.SCHEMA_VERSION:
                schema.MIGRATIONS[current](connection)
                connection.execute(
                    schema.meta.update()
                    .where(schema.meta.c.key == "schema_version")
                    .values(value=str(current + 1))
                )
                self._append(
                    connection,
                    [
                        AuditEvent(
                            "store.migrated",
                            "store",
                            self.store_id_in(connection),
                            {
                                "from_version": current,
                                "to_version": current + 1,
                                "cmlops_version": __version__,
                            },
                            reason="schema migration",
                        )
                    ],
                )
                current += 1

    def _guard(self) -> _ErrorTranslator:
        return _ErrorTranslator(self.url)

    def _reader(self):
        return read_transaction(self._engine)

    # -- writing -----------------------------------------------------------------
    def _append(self, connection: Connection, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        head = connection.execute(
            select(schema.audit_log.c.seq, schema.audit_log.c.hash)
            .order_by(schema.audit_log.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        records = []
        for event in events:
            seq += 1
            record = seal(
                seq,
                utc_timestamp(self.clock()),
                event.actor or self.actor,
                event.action,
                event.object_type,
                event.object_id,
                event.payload,
                event.reason,
                prev_hash,
            )
            records.append(record)
            prev_hash = record.hash
        if records:
            connection.execute(insert(schema.audit_log), [vars(r) for r in records])
        return records

    def append(
        self,
        action: str,
        object_type: str,
        object_id: str,
        payload: dict[str, Any] | None = None,
        *,
        reason: str = "",
        actor: str | None = None,
    ) -> AuditRecord:
        """Append one record durably and return it (with its seq and hash)."""
        return self.append_many(
            [AuditEvent(action, object_type, object_id, payload or {}, reason, actor)]
        )[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Append several records in one transaction (one fsync), in order."""
        with self._guard(), write_transaction(self._engine) as connection:
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
        with self._guard(), write_transaction(self._engine) as connection:

            def read(**filters: str | None) -> list[AuditRecord]:
                query = self._filtered(
                    select(schema.audit_log),
                    *(filters.get(k) for k in _FILTERS),
                ).order_by(schema.audit_log.c.seq)
                return [AuditRecord(**row._mapping) for row in connection.execute(query)]

            return self._append(connection, list(decide(read)))

    def correct(
        self, seq: int, correction: dict[str, Any], *, reason: str, actor: str | None = None
    ) -> AuditRecord:
        """Record a correction of record ``seq``: a new record pointing at the old one."""
        if not reason.strip():
            raise InvalidInputError("a correction needs a reason: say why the record is wrong")
        with self._guard(), write_transaction(self._engine) as connection:
            row = connection.execute(
                select(schema.audit_log).where(schema.audit_log.c.seq == seq)
            ).first()
            if row is None:
                raise InvalidInputError(f"there is no audit record with seq {seq} to correct")
            return self._append(
                connection,
                [
                    AuditEvent(
                        "audit.correction",
                        "audit_record",
                        str(seq),
                        {"corrects": {"seq": seq, "hash": row.hash}, "correction": correction},
                        reason,
                        actor,
                    )
                ],
            )[0]

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
        with self._guard(), write_transaction(self._engine) as connection:
            planned = lineage_rows(connection, batch)
            records = self._append(connection, [event for event, _table, _row in planned])
            for record, (_event, table, row) in zip(records, planned, strict=True):
                connection.execute(insert(table), [{**row, "audit_seq": record.seq}])
            return records

    # -- reading -----------------------------------------------------------------
    def head(self) -> Anchor | None:
        with self._guard(), read_transaction(self._engine) as connection:
            row = connection.execute(
                select(schema.audit_log.c.seq, schema.audit_log.c.hash)
                .order_by(schema.audit_log.c.seq.desc())
                .limit(1)
            ).first()
        return Anchor(row.seq, row.hash) if row else None

    def _filtered(
        self,
        query: Any,
        actor: str | None,
        action: str | None,
        object_type: str | None,
        object_id: str | None,
        since: str | None,
        until: str | None,
    ) -> Any:
        log = schema.audit_log.c
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
    ) -> list[AuditRecord]:
        """Audit records matching every given filter (``action`` may end in ``*``)."""
        query = self._filtered(
            select(schema.audit_log), actor, action, object_type, object_id, since, until
        )
        seq = schema.audit_log.c.seq
        query = query.order_by(seq.desc() if newest_first else seq).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._guard(), read_transaction(self._engine) as connection:
            return [AuditRecord(**row._mapping) for row in connection.execute(query)]

    def count_records(self, **filters: str | None) -> int:
        query = self._filtered(
            select(func.count()).select_from(schema.audit_log),
            filters.get("actor"),
            filters.get("action"),
            filters.get("object_type"),
            filters.get("object_id"),
            filters.get("since"),
            filters.get("until"),
        )
        with self._guard(), read_transaction(self._engine) as connection:
            return int(connection.execute(query).scalar_one())

    def _iter_rows(
        self,
        batch: int = 50_000,
        *,
        columns: Sequence[str] = ROW_FIELDS,
        upto: int | None = None,
    ) -> Iterator[tuple]:
        """Raw rows in seq order through the driver's cursor (the verify hot path)."""
        if not set(columns) <= set(ROW_FIELDS):
            raise InvalidInputError(f"unknown audit_log columns {columns!r}")
        where = "" if upto is None else f" WHERE seq <= {int(upto)}"
        sql = f"SELECT {', '.join(columns)} FROM audit_log{where} ORDER BY seq"  # noqa: S608 - fixed names
        with self._guard(), read_transaction(self._engine) as connection:
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

    def verify(self, anchor: str | Anchor | None = None) -> VerifyResult:
        """Recompute the whole chain; with an anchor, also detect a truncated tail."""
        anchor_hash = (
            anchor.hash
            if isinstance(anchor, Anchor)
            else (parse_anchor(anchor) if anchor is not None else None)
        )
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
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    connection.execute(select(log.seq, log.hash).where(log.seq.in_(chunk))).all()
                )
        missing = [seq for seq in wanted if seq not in found]
        if missing:
            raise InvalidInputError(f"there is no audit record with seq {missing[0]}")
        return found

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

    def store_id_in(self, connection: Connection) -> str:
        row = connection.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "store_id")
        ).first()
        return row.value if row else ""

    @property
    def store_id(self) -> str:
        with self._guard(), read_transaction(self._engine) as connection:
            return self.store_id_in(connection)

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            self._artifacts = ArtifactStore(self.home / "artifacts")
        return self._artifacts

    def info(self) -> dict[str, Any]:
        head = self.head()
        database = self._engine.url.database if self._engine.dialect.name == "sqlite" else None
        return {
            "url": masked(self.url),
            "backend": self._engine.dialect.name,
            "home": str(self.home),
            "store_id": self.store_id,
            "schema_version": self._schema_version(),
            "records": self.count_records(),
            "head": {"seq": head.seq, "hash": head.hash} if head else None,
            "database_bytes": Path(database).stat().st_size if database else None,
            "actor": self.actor,
            "cmlops_version": __version__,
        }

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _ErrorTranslator:
    """Turns driver errors into one-line store errors; lets cmlops errors through."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: object) -> bool:
        if isinstance(error, IntegrityError) and "append-only" not in str(error):
            return False
        if isinstance(error, (DBAPIError, SQLAlchemyError)):
            translated = translate_error(error, self.url)
            if translated is not error:
                raise translated from None
        return False


_FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")


def _read_version(connection: Connection) -> int | None:
    if not inspect(connection).has_table("cmlops_meta"):
        return None
    row = connection.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).first()
    return int(row.value) if row else None


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
    return utc_timestamp(moment)


def open_store(
    url: str | None = None,
    *,
    home: Path | str | None = None,
    create: bool = True,
    migrate: bool = False,
    actor: str | None = None,
    clock: Clock | None = None,
) -> Store:
    """Open (and on first use create) the store resolved as described in :mod:`cmlops.config`."""
    location = resolve_store(url, home)
    if not create and location.url.startswith("sqlite:///"):
        database = Path(location.url.removeprefix("sqlite:///"))
        if not database.is_file():
            raise StoreError(
                f"no cmlops store at {location.home}: run cmlops in the project folder, set "
                "CMLOPS_HOME, or record something first"
            )
    engine = create_store_engine(location.url)
    store = Store(engine, location.url, location.home, actor=actor, clock=clock or _utc_now)
    try:
        store._initialise(create=create, migrate=migrate)
    except BaseException:
        engine.dispose()
        raise
    return store
