"""The team store on a real PostgreSQL server: each person connects with their own role.

docs/team-store.md describes the set-up; this is it, with two people (alice and
bob) and a read-only auditor, all authenticated by the server.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cmlops.errors import StoreNotWritableError
from cmlops.store import open_store
from cmlops.store.chain import seal
from tests.store.old_stores import add_reader_role

pytestmark = pytest.mark.postgres


def cmlops(*args: str, url: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cmlops.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CMLOPS_STORE_URL": url, **env},
        timeout=120,
    )


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def team(postgres_url: str, tmp_path):
    """The owner (postgres) created the store; alice and bob were granted with the CLI."""
    owner = open_store(postgres_url, home=tmp_path / ".cmlops")
    urls = {}
    for role in ("alice", "bob"):
        with psycopg.connect(plain(postgres_url), autocommit=True) as connection:
            if not connection.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
            ).fetchone():
                connection.execute(f'CREATE ROLE "{role}" LOGIN')
        granted = cmlops("store", "grant", role, url=postgres_url)
        assert granted.returncode == 0, granted.stderr
        assert "GRANT SELECT, INSERT ON audit_log" in granted.stdout
        urls[role] = str(make_url(postgres_url).set(username=role).render_as_string(False))
    yield owner, urls
    owner.close()


@pytest.mark.req("REQ-TEAM-001")
def test_each_person_writes_in_their_own_name_whatever_they_claim(team, tmp_path) -> None:
    owner, urls = team
    os.environ["CMLOPS_USER"] = "bob"  # alice claims to be bob
    try:
        alice = open_store(urls["alice"], home=tmp_path / ".cmlops")
    finally:
        del os.environ["CMLOPS_USER"]
    record = alice.append("dataset.used", "entity", "e1", {"rows": 3})
    assert (record.actor, alice.actor_source) == ("alice", "postgresql")
    assert record.context_dict()["claimed_actor"] == "bob"
    bob = open_store(urls["bob"], home=tmp_path / ".cmlops")
    assert bob.append("model.fitted", "entity", "m1").actor == "bob"
    grants = owner.records(action="store.role_granted")
    assert [(r.object_id, r.actor) for r in grants] == [("alice", "postgres"), ("bob", "postgres")]
    assert owner.verify().ok
    alice.close()
    bob.close()


@pytest.mark.req("REQ-TEAM-001")
def test_a_person_cannot_write_in_another_persons_name(team, tmp_path) -> None:
    """Alice bypasses cmlops and inserts a well-formed, correctly chained record as bob."""
    owner, urls = team
    alice = open_store(urls["alice"], home=tmp_path / ".cmlops")
    head = alice.append("x.y", "t", "1")
    forged = seal(
        head.seq + 1, head.ts, "bob", "package.signed", "p", "1", {}, "ok", head.hash, head.context
    )
    with psycopg.connect(plain(urls["alice"])) as connection:
        with pytest.raises(psycopg.errors.RaiseException, match="this session is alice"):
            connection.execute(
                "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, payload,"
                " reason, prev_hash, hash, context) VALUES (%(seq)s, %(ts)s, %(actor)s,"
                " %(action)s, %(object_type)s, %(object_id)s, %(payload)s, %(reason)s,"
                " %(prev_hash)s, %(hash)s, %(context)s)",
                vars(forged),
            )
    for statement in (
        "UPDATE audit_log SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "UPDATE cmlops_meta SET value = 'x'",
        "DROP TRIGGER audit_log_insert_check ON audit_log",
    ):
        with psycopg.connect(plain(urls["alice"])) as connection:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)
    assert owner.verify().ok and owner.head() == alice.head()
    alice.close()


@pytest.mark.req("REQ-TEAM-001")
def test_a_role_without_insert_cannot_write_and_says_so_in_one_line(team, tmp_path) -> None:
    owner, urls = team
    auditor_url = add_reader_role(owner, "auditor")
    auditor = open_store(auditor_url, home=tmp_path / ".cmlops")
    assert auditor.records()[0].action == "store.init"  # reading is allowed
    with pytest.raises(StoreNotWritableError) as caught:
        auditor.check_writable()
    message = str(caught.value)
    assert "\n" not in message and "'auditor'" in message and "no INSERT on audit_log" in message
    with pytest.raises(StoreNotWritableError) as caught:
        auditor.append("x.y", "t", "1")
    assert "\n" not in str(caught.value) and "cmlops store grant" in str(caught.value)
    listed = cmlops("audit", "log", url=auditor_url)
    assert listed.returncode == 0 and "store.init" in listed.stdout
    for url in (auditor_url, urls["alice"]):  # neither may grant: only the owner
        refused = cmlops("store", "grant", "auditor", url=url)
        assert refused.returncode == 3 and len(refused.stderr.strip().splitlines()) == 1
        assert "Traceback" not in refused.stderr, refused.stderr
    unknown = cmlops("store", "grant", "nobody-here", url=owner.url)
    assert unknown.returncode == 2 and "there is no database role" in unknown.stderr
    assert owner.verify().ok and owner.count_records(action="store.role_granted") == 2
    auditor.close()


def test_grant_on_a_sqlite_store_is_a_one_line_error(tmp_path) -> None:
    open_store(home=tmp_path / ".cmlops").close()
    result = subprocess.run(
        [sys.executable, "-c", "from cmlops.cli import main; main()", "store", "grant", "x"],
        capture_output=True,
        text=True,
        env={**os.environ, "CMLOPS_HOME": str(tmp_path / ".cmlops")},
        timeout=120,
    )
    assert result.returncode == 2 and "not a PostgreSQL store" in result.stderr
