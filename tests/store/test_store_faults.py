"""Bad stores and bad locations give one-line errors; nothing recorded is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cmlops.errors import (
    InvalidInputError,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreNotWritableError,
    StoreUnreachableError,
)
from cmlops.store import open_store
from tests.pg_server import free_port
from tests.store.old_stores import build_old_store


def one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message
    return message


def set_schema_version(store, version: int) -> None:
    with store._engine.connect() as connection, connection.begin():
        connection.execute(
            text("UPDATE cmlops_meta SET value = :v WHERE key = 'schema_version'"),
            {"v": str(version)},
        )


def test_a_store_from_a_newer_cmlops_is_refused(make_store) -> None:
    store = make_store()
    set_schema_version(store, 99)
    with pytest.raises(SchemaVersionError) as caught:
        make_store()
    assert "back up the store, then upgrade cmlops" in one_line(caught.value)


def test_an_older_store_names_the_migration_command_then_migrates_on_request(
    make_store, store_url
) -> None:
    build_old_store(store_url, 1)  # schema v1 (audit log only), records in format 1
    with pytest.raises(SchemaVersionError) as caught:
        make_store()
    assert "cmlops store migrate" in one_line(caught.value)
    migrated = make_store(migrate=True)
    assert migrated.info()["schema_version"] == 3
    steps = migrated.records(action="store.migrated")
    assert [r.payload_dict()["from_version"] for r in steps] == [1, 2]
    assert all(r.record_format == 2 and r.reason == "schema migration" for r in steps)
    assert migrated.records(action="kept.record")[0].payload_dict() == {"x": 1}
    assert migrated.records(action="kept.record")[0].record_format == 1
    assert migrated.verify().ok
    assert migrated.notebook_lineage("x").activities == {}


def test_a_corrupt_sqlite_file_is_reported_and_left_untouched(tmp_path) -> None:
    home = tmp_path / ".cmlops"
    home.mkdir()
    database = home / "store.sqlite"
    garbage = b"this is not a database" * 100
    database.write_bytes(garbage)
    with pytest.raises(StoreCorruptError) as caught:
        open_store(home=home)
    assert "restore it from a backup" in one_line(caught.value)
    assert database.read_bytes() == garbage


def test_unwritable_locations_are_reported(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for home in (blocker / ".cmlops", "/proc/cmlops-store"):
        with pytest.raises(StoreNotWritableError) as caught:
            open_store(home=home)
        assert "CMLOPS_HOME" in one_line(caught.value)


def test_an_unreachable_server_is_reported_with_the_url_masked() -> None:
    url = f"postgresql+psycopg://user:secret@127.0.0.1:{free_port()}/db"
    with pytest.raises(StoreUnreachableError) as caught:
        open_store(url)
    message = one_line(caught.value)
    assert "did not answer" in message and "secret" not in message and "***" in message


def test_bad_urls_and_missing_stores_are_clear() -> None:
    with pytest.raises(InvalidInputError, match="not a SQLAlchemy URL"):
        open_store("definitely not a url")
    with pytest.raises(InvalidInputError, match="no database driver"):
        open_store("nosuchdb://host/x")
    with pytest.raises(StoreError, match="no cmlops store"):
        open_store(create=False)
