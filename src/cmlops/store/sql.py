"""The store: an append-only, hash-chained audit log with a PROV lineage projection.

Every write goes through ``_append``: it takes the chain's write lock, reads
the head, seals the new records and inserts them in the same transaction as
any lineage rows they justify. Lineage tables are therefore a projection of
the audit log: each row keeps the ``seq`` of the record that put it there.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from cmlops._version import __version__
from cmlops.config import SOURCE_DATABASE, Actor, local_actor, resolve_store
from cmlops.errors import (
    ImmutableRecordError,
    InvalidInputError,
    ProofError,
    SchemaVersionError,
    StoreError,
    StoreNotWritableError,
    StoreReplacedError,
)
from cmlops.store import schema
from cmlops.store.artifacts import ArtifactStore
from cmlops.store.chain import (
    GENESIS_HASH,
    RECORD_FORMAT,
    ROW_FIELDS,
    parse_anchor,
    seal,
    utc_timestamp,
    verify_rows,
)
from cmlops.store.context import context_text
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
from cmlops.store.values import canonical_payload

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Store(LineageQueries):
    """An opened audit store. Use :func:`open_store` to get one.

    ``actor`` is who this store records as acting, from the strongest source
    available (``actor_source``): the PostgreSQL session role, else the
    JupyterHub user, else the OS user. ``claimed_actor`` (``CMLOPS_USER``, or
    the ``claimed_actor`` argument) is recorded beside it, never in its place.
    """

    def __init__(
        self,
        engine: Engine,
        url: str,
        home: Path,
        *,
        claimed_actor: str | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._engine = engine
        self.url = url
        self.home = home
        self.identity: Actor = local_actor(claimed_actor)
        self.clock = clock
        self._artifacts: ArtifactStore | None = None
        self._opened_id = ""
        #: (seq, hash) of the last record this object wrote and saw committed
        self._written: tuple[int, str] | None = None
        self._database_file: tuple[Path, int, int] | None = None

    @property
    def actor(self) -> str:
        """Who acts (authenticated as strongly as the environment allows)."""
        return self.identity.name

    @property
    def actor_source(self) -> str:
        """Where ``actor`` comes from: ``postgresql``, ``jupyterhub`` or ``os``."""
        return self.identity.source

    @property
    def claimed_actor(self) -> str:
        """The name the user claimed (``CMLOPS_USER``); "" when none."""
        return self.identity.claimed

    # -- opening -----------------------------------------------------------------
    def _initialise(self, *, create: bool, migrate: bool) -> None:
        self._resolve_actor()
        self._open_schema(create=create, migrate=migrate)
        self._remember_identity()

    def _resolve_actor(self) -> None:
        """On PostgreSQL the actor is the session role the server authenticated."""
        if self._engine.dialect.name != "postgresql":
            return
        with self._guard(), read_transaction(self._engine) as connection:
            role = connection.execute(text("SELECT session_user")).scalar_one()
        self.identity = Actor(str(role), SOURCE_DATABASE, self.identity.claimed)

    def _remember_identity(self) -> None:
        """Note which store this is, to notice later that it vanished or was replaced."""
        self._opened_id = self.store_id
        database = self._engine.url.database if self._engine.dialect.name == "sqlite" else None
        if database and database != ":memory:":
            path = Path(database)
            status = path.stat()
            self._database_file = (path, status.st_dev, status.st_ino)

    def _open_schema(self, *, create: bool, migrate: bool) -> None:
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
                                    "record_format": RECORD_FORMAT,
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
        """Bring the schema up, then record each step (in record format 2, as it now is)."""
        with self._guard(), write_transaction(self._engine) as connection:
            current = _read_version(connection) or version
            steps = list(range(current, schema.SCHEMA_VERSION))
            for step in steps:
                schema.MIGRATIONS[step](connection)
            if steps:
                connection.execute(
                    schema.meta.update()
                    .where(schema.meta.c.key == "schema_version")
                    .values(value=str(schema.SCHEMA_VERSION))
                )
            store_id = self.store_id_in(connection)
            self._append(
                connection,
                [
                    AuditEvent(
                        "store.migrated",
                        "store",
                        store_id,
                        {
                            "from_version": step,
                            "to_version": step + 1,
                            "record_format": RECORD_FORMAT,
                            "cmlops_version": __version__,
                        },
                        reason="schema migration",
                    )
                    for step in steps
                ],
            )

    def _guard(self) -> _ErrorTranslator:
        return _ErrorTranslator(self.url)

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        self._check_file()
        with read_transaction(self._engine) as connection:
            yield connection

    @contextmanager
    def _writer(self) -> Iterator[Connection]:
        """The chain's write lock, after checking this is still the store that was opened."""
        self._check_file()
        written = None
        with write_transaction(self._engine) as connection:
            if self._opened_id and self.store_id_in(connection) != self._opened_id:
                raise self._replaced("was replaced by another store")
            try:
                yield connection
            finally:  # the connection goes back to the pool: leave nothing on it
                written = connection.info.pop(_WRITTEN, None)
        if written is not None:  # committed
            self._written = written

    def check_identity(self) -> None:
        """Raise StoreReplacedError if the SQLite file vanished or was replaced (one stat)."""
        self._check_file()

    def _check_file(self) -> None:
        if self._database_file is None:
            return
        path, device, inode = self._database_file
        try:
            status = path.stat()
        except FileNotFoundError:
            raise self._replaced("vanished (its folder was deleted or moved)") from None
        if (status.st_dev, status.st_ino) != (device, inode):
            raise self._replaced("was replaced by another file")

    def _replaced(self, what: str) -> StoreReplacedError:
        return StoreReplacedError(
            f"the store {masked(self.url)} (store id {self._opened_id}) {what} since it was "
            "opened: records written to it earlier are not there any more; restore it from a "
            "backup or, to start a new store, open it again"
        )

    def check_writable(self) -> None:
        """Raise a StoreError unless this actor can append to this same store now.

        Checks that the store did not vanish or get replaced, that the SQLite
        file and folder are writable, and on PostgreSQL that the session role
        holds INSERT on every evidence table — without writing anything.
        """
        with self._guard():
            self._check_file()
            with read_transaction(self._engine) as connection:
                if self._opened_id and self.store_id_in(connection) != self._opened_id:
                    raise self._replaced("was replaced by another store")
                self._check_not_rolled_back(connection)
                if connection.dialect.name == "postgresql":
                    _check_pg_insert(connection, self.actor, masked(self.url))
        if self._database_file is not None:
            path = self._database_file[0]
            if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
                raise StoreNotWritableError(
                    f"the store {path} is not writable by this user: fix its permissions or "
                    "set CMLOPS_HOME to a writable folder"
                )

    # -- writing -----------------------------------------------------------------
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
            connection.info[_WRITTEN] = (records[-1].seq, records[-1].hash)
        return records

    def _check_not_rolled_back(
        self, connection: Connection, head: tuple[int, str] | None = None
    ) -> None:
        """The last record this object wrote must still be in the chain.

        A store restored from an older backup, or truncated or rewritten behind
        cmlops, keeps its store id; what it lost is what this session wrote.
        One primary-key lookup at most.
        """
        if self._written is None:
            return
        if head is None:
            found = connection.execute(
                select(schema.audit_log.c.seq, schema.audit_log.c.hash)
                .order_by(schema.audit_log.c.seq.desc())
                .limit(1)
            ).first()
            head = (found.seq, found.hash) if found else (0, GENESIS_HASH)
        seq, digest = self._written
        if head[0] < seq:
            raise self._replaced(
                f"was rolled back to an earlier state (its last record is seq {head[0]}; this "
                f"session wrote seq {seq})"
            )
        found_hash = (
            head[1]
            if head[0] == seq
            else connection.execute(
                select(schema.audit_log.c.hash).where(schema.audit_log.c.seq == seq)
            ).scalar()
        )
        if found_hash != digest:
            raise self._replaced(f"was rewritten (record {seq} this session wrote has changed)")

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
                query = self._filtered(
                    select(schema.audit_log),
                    *(filters.get(k) for k in _FILTERS),
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

    # -- reading -----------------------------------------------------------------
    def head(self) -> Anchor | None:
        with self._guard(), self._reader() as connection:
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
        after_seq: int | None = None,
    ) -> Any:
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
        query = self._filtered(
            select(schema.audit_log), actor, action, object_type, object_id, since, until, after_seq
        )
        seq = schema.audit_log.c.seq
        query = query.order_by(seq.desc() if newest_first else seq).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._guard(), self._reader() as connection:
            return [AuditRecord(**row._mapping) for row in connection.execute(query)]

    def count_records(self, **filters: Any) -> int:
        query = self._filtered(
            select(func.count()).select_from(schema.audit_log),
            filters.get("actor"),
            filters.get("action"),
            filters.get("object_type"),
            filters.get("object_id"),
            filters.get("since"),
            filters.get("until"),
            filters.get("after_seq"),
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

    def team_grants(self, role: str) -> list[str]:
        """The SQL that lets database role ``role`` append evidence and nothing more."""
        if self._engine.dialect.name != "postgresql":
            raise InvalidInputError(
                f"the store {masked(self.url)} is not a PostgreSQL store: team roles need the "
                "PostgreSQL team store (CMLOPS_STORE_URL=postgresql+psycopg://...)"
            )
        if not isinstance(role, str) or not role.strip() or "\x00" in role:
            raise InvalidInputError(f"{role!r} is not a database role name")
        return schema.team_grants(role, self._engine.dialect.identifier_preparer.quote)

    def grant_team_role(self, role: str) -> list[str]:
        """Run :meth:`team_grants` (as the store's owner) and record it; returns the SQL."""
        statements = self.team_grants(role)
        with self._guard(), self._writer() as connection:
            _check_role_exists(connection, role)
            for statement in statements:
                connection.execute(text(statement))
            missing = _missing_privileges(connection, role)
            if missing:  # GRANT by a non-owner only warns; nothing may be recorded then
                raise StoreNotWritableError(
                    f"the grants to {role!r} did not take effect ({', '.join(missing)}): only "
                    f"the store's owner can grant; run this as the owner (now {self.actor!r})"
                )
            self._append(
                connection,
                [
                    AuditEvent(
                        "store.role_granted",
                        "database_role",
                        role,
                        {"statements": statements},
                        reason="team member may append evidence",
                    )
                ],
            )
        return statements

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
            "actor_source": self.actor_source,
            "claimed_actor": self.claimed_actor,
            "record_format": RECORD_FORMAT,
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
        if isinstance(error, IntegrityError) and not any(
            mark in str(error) for mark in ("append-only", "cmlops:")
        ):
            return False
        if isinstance(error, (DBAPIError, SQLAlchemyError)):
            translated = translate_error(error, self.url)
            if translated is not error:
                raise translated from None
        return False


_FILTERS = ("actor", "action", "object_type", "object_id", "since", "until", "after_seq")


def _read_version(connection: Connection) -> int | None:
    if not inspect(connection).has_table("cmlops_meta"):
        return None
    row = connection.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).first()
    return int(row.value) if row else None


#: key in a connection's ``info`` of the (seq, hash) an append wrote, until it commits
_WRITTEN = "cmlops_written"


def _value_digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON (wrapped, so any JSON value can be hashed)."""
    text = canonical_payload({"value": value})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_role_exists(connection: Connection, role: str) -> None:
    found = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise InvalidInputError(
            f"there is no database role {role!r}: create it first (CREATE ROLE ... LOGIN), "
            "then grant"
        )


def _missing_privileges(connection: Connection, role: str) -> list[str]:
    wanted = [(table, "INSERT") for table in schema.EVIDENCE_TABLES]
    wanted += [(table, "SELECT") for table in (*schema.EVIDENCE_TABLES, "cmlops_meta")]
    query = text("SELECT has_table_privilege(:role, :table, :privilege)")
    return [
        f"{privilege} on {table}"
        for table, privilege in wanted
        if not connection.execute(
            query, {"role": role, "table": table, "privilege": privilege}
        ).scalar_one()
    ]


def _check_pg_insert(connection: Connection, role: str, where: str) -> None:
    missing = [
        table
        for table in schema.EVIDENCE_TABLES
        if not connection.execute(
            text("SELECT has_table_privilege(:table, 'INSERT')"), {"table": table}
        ).scalar_one()
    ]
    if missing:
        raise StoreNotWritableError(
            f"the database role {role!r} may not append to the store {where} (no INSERT on "
            f"{', '.join(missing)}): ask the store's administrator to run `cmlops store grant "
            f"{role}` (docs/team-store.md)"
        )


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


def open_store(
    url: str | None = None,
    *,
    home: Path | str | None = None,
    create: bool = True,
    migrate: bool = False,
    claimed_actor: str | None = None,
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
    store = Store(
        engine, location.url, location.home, claimed_actor=claimed_actor, clock=clock or _utc_now
    )
    try:
        store._initialise(create=create, migrate=migrate)
    except BaseException:
        engine.dispose()
        raise
    return store
