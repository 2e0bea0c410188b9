"""Opening the database: SQLite pragmas and locking, PostgreSQL, and clear errors.

Appends must form one chain even with several writers (kernels, a report run,
the server). SQLite serialises them with ``BEGIN IMMEDIATE`` (the write lock is
taken before the head is read); PostgreSQL with a transaction-scoped advisory
lock. SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed
record survives power loss, and a killed writer leaves nothing half-written.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from cmlops.errors import (
    InvalidInputError,
    RecordRefusedError,
    StoreCorruptError,
    StoreNotWritableError,
    StoreUnreachableError,
)

#: advisory lock key for the audit chain on PostgreSQL ("cmlops" in ASCII)
PG_CHAIN_LOCK = 0x636D6C6F7073
WRITE_OPTION = "cmlops_write"
BUSY_TIMEOUT_MS = 120_000
#: values in one ``IN (...)`` list: well under SQLite's and PostgreSQL's parameter limits
IN_LIST_CHUNK = 500


def masked(url: str) -> str:
    """The URL with any password hidden, for messages and ``store info``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the store's durability and locking settings."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInputError(
            f"store URL {url!r} is not a SQLAlchemy URL: use e.g. "
            "postgresql+psycopg://user@host/db or sqlite:////path/store.sqlite"
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url, parsed.database)
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    except NoSuchModuleError:
        raise InvalidInputError(
            f"no database driver for {masked(url)}: for PostgreSQL install cmlops[postgres]"
        ) from None
    except ModuleNotFoundError as error:
        raise InvalidInputError(
            f"database driver {error.name!r} for {masked(url)} is not installed: "
            f"pip install {error.name}"
        ) from None


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreNotWritableError(
                f"cannot create the store folder {folder} ({error.strerror}): set CMLOPS_HOME "
                "to a writable folder"
            ) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreNotWritableError(
                f"the store folder {folder} is not writable by this user: fix its permissions "
                "or set CMLOPS_HOME to a writable folder"
            )
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the chain's write lock until it commits."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_CHAIN_LOCK}
                )
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection, connection.begin():
        yield connection


def _orig(error: Exception) -> object:
    return getattr(error, "orig", error)


def _login_refused(error: Exception, lowered: str) -> bool:
    """The server would not let this role in (SQLSTATE class 28, or libpq's own refusal)."""
    sqlstate = str(getattr(_orig(error), "sqlstate", "") or "")
    unknown_role = 'role "' in lowered and "does not exist" in lowered
    return (
        sqlstate.startswith("28")
        or unknown_role
        or any(p in lowered for p in ("authentication failed", "no password supplied", "pg_hba"))
    )


def translate_error(error: Exception, url: str) -> Exception:
    """Map a driver error to the one-line store error a user can act on."""
    message = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else ""
    where = masked(url)
    lowered = message.lower()
    if message.startswith("cmlops:") and "append-only" not in message:
        return RecordRefusedError(
            f"the store {where} refused the record ({message.removeprefix('cmlops: ')}); "
            "nothing was written"
        )
    if "permission denied" in lowered or getattr(_orig(error), "sqlstate", "") == "42501":
        return StoreNotWritableError(
            f"the database role may not do this in the store {where} ({message}): ask the "
            "store's administrator to run `cmlops store grant ROLE` for your role "
            "(docs/team-store.md); nothing was written"
        )
    if "not a database" in lowered or "malformed" in lowered or "disk image" in lowered:
        return StoreCorruptError(
            f"the store {where} is damaged or not a SQLite database ({message}): restore it from "
            "a backup, or set CMLOPS_HOME to another folder; nothing was written"
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return StoreNotWritableError(
            f"the store {where} cannot be written ({message}): fix the file permissions or set "
            "CMLOPS_HOME to a writable folder"
        )
    if isinstance(error, OperationalError) and _login_refused(error, lowered):
        return StoreUnreachableError(
            f"the store server {where} refused the login ({message}): give your own role's "
            "password (~/.pgpass or PGPASSFILE, not in the URL) or ask the store's "
            "administrator for your role (docs/team-store.md); nothing was written"
        )
    if isinstance(error, OperationalError) and not url.startswith("sqlite"):
        return StoreUnreachableError(
            f"the store server {where} did not answer ({message}): check the server is running "
            "and CMLOPS_STORE_URL is right"
        )
    if isinstance(error, DatabaseError):
        return StoreCorruptError(
            f"the store {where} failed ({message}): run `cmlops audit verify`, then restore "
            "from a backup if it fails"
        )
    return error


class ErrorTranslator:
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
