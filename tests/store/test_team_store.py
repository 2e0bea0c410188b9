"""The team store on a real PostgreSQL server: each person connects with their own role.

docs/team-store.md describes the set-up; this is it, with two people (alice and
brian) who log in with their own passwords (SCRAM-SHA-256, checked by the server)
and a read-only auditor.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cmlops.errors import StoreNotWritableError, StoreUnreachableError
from cmlops.store import open_store
from cmlops.store.chain import seal
from tests.pg_server import PASSWORD_GROUP
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


INSERT_RECORD = (
    "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, payload, reason,"
    " prev_hash, hash, context) VALUES (%(seq)s, %(ts)s, %(actor)s, %(action)s,"
    " %(object_type)s, %(object_id)s, %(payload)s, %(reason)s, %(prev_hash)s, %(hash)s,"
    " %(context)s)"
)

#: the people of the team store; each logs in with a password only they know
PEOPLE = ("alice", "brian")


def password(role: str) -> str:
    return f"{role}-only-knows-this"


def role_url(postgres_url: str, role: str, secret: str | None = None) -> str:
    """The store URL as ``role`` (with ``secret`` as the password, if given)."""
    return make_url(postgres_url).set(username=role, password=secret).render_as_string(False)


def make_person(postgres_url: str, role: str) -> None:
    """A login role that must give its password (pg_server.PASSWORD_GROUP's pg_hba rule)."""
    with psycopg.connect(plain(postgres_url), autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (PASSWORD_GROUP,)
        ).fetchone():
            connection.execute(f'CREATE ROLE "{PASSWORD_GROUP}" NOLOGIN')
        if not connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            connection.execute(f'CREATE ROLE "{role}" LOGIN IN ROLE "{PASSWORD_GROUP}"')
        connection.execute(f"ALTER ROLE \"{role}\" PASSWORD '{password(role)}'")


@pytest.fixture
def team(postgres_url: str, tmp_path):
    """The owner (postgres) created the store; alice and brian were granted with the CLI."""
    owner = open_store(postgres_url, home=tmp_path / ".cmlops")
    urls = {}
    for role in PEOPLE:
        make_person(postgres_url, role)
        granted = cmlops("store", "grant", role, url=postgres_url)
        assert granted.returncode == 0, granted.stderr
        assert "GRANT SELECT, INSERT ON audit_log" in granted.stdout
        urls[role] = role_url(postgres_url, role, password(role))
    yield owner, urls
    owner.close()


@pytest.mark.req("REQ-TEAM-001")
def test_each_person_writes_in_their_own_name_whatever_they_claim(team, tmp_path) -> None:
    owner, urls = team
    os.environ["CMLOPS_USER"] = "brian"  # alice claims to be brian
    try:
        alice = open_store(urls["alice"], home=tmp_path / ".cmlops")
    finally:
        del os.environ["CMLOPS_USER"]
    record = alice.append("dataset.used", "entity", "e1", {"rows": 3})
    assert (record.actor, alice.actor_source) == ("alice", "postgresql")
    assert record.context_dict()["claimed_actor"] == "brian"
    brian = open_store(urls["brian"], home=tmp_path / ".cmlops")
    assert brian.append("model.fitted", "entity", "m1").actor == "brian"
    grants = owner.records(action="store.role_granted")
    assert [(r.object_id, r.actor) for r in grants] == [
        ("alice", "postgres"),
        ("brian", "postgres"),
    ]
    assert owner.verify().ok
    alice.close()
    brian.close()


@pytest.mark.req("REQ-TEAM-001")
def test_a_person_cannot_write_in_another_persons_name(team, tmp_path) -> None:
    """Alice bypasses cmlops and inserts a well-formed, correctly chained record as brian."""
    owner, urls = team
    alice = open_store(urls["alice"], home=tmp_path / ".cmlops")
    head = alice.append("x.y", "t", "1")
    forged = seal(
        head.seq + 1,
        head.ts,
        "brian",
        "package.signed",
        "p",
        "1",
        {},
        "ok",
        head.hash,
        head.context,
    )
    with psycopg.connect(plain(urls["alice"])) as connection:
        with pytest.raises(psycopg.errors.RaiseException, match="this session is alice"):
            connection.execute(INSERT_RECORD, vars(forged))
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


@pytest.mark.req("REQ-TEAM-001")
def test_a_person_logs_in_only_with_their_own_password(team, tmp_path, monkeypatch) -> None:
    """Brian knows his own password, not alice's: he cannot act as alice."""
    owner, urls = team
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    for secret, said in ((password("brian"), "authentication failed"), (None, "no password")):
        with pytest.raises(StoreUnreachableError) as caught:
            open_store(role_url(owner.url, "alice", secret), home=tmp_path / ".cmlops")
        message = str(caught.value)
        assert "\n" not in message and "refused the login" in message and said in message
        assert password("brian") not in message and "~/.pgpass" in message
    refused = cmlops("audit", "log", url=role_url(owner.url, "alice", password("brian")))
    assert refused.returncode == 3 and "Traceback" not in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert password("brian") not in refused.stderr  # the URL is shown masked
    # the documented way: the password in alice's own ~/.pgpass, the URL without it
    pgpass = tmp_path / "alice.pgpass"
    url = make_url(owner.url)
    pgpass.write_text(f"{url.host}:{url.port}:*:alice:{password('alice')}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    alice = open_store(role_url(owner.url, "alice"), home=tmp_path / ".cmlops")
    assert alice.append("dataset.used", "entity", "e1").actor == "alice"
    info = cmlops("store", "info", "--json", url=role_url(owner.url, "alice"))
    assert info.returncode == 0 and '"actor": "alice"' in info.stdout, info.stderr
    shown = cmlops("store", "info", "--json", url=urls["alice"])
    assert password("alice") not in shown.stdout + shown.stderr
    assert not any(password("alice") in r.payload + (r.context or "") for r in owner.records())
    assert owner.verify().ok
    alice.close()


@pytest.mark.req("REQ-TEAM-001")
def test_set_role_does_not_change_who_acts(team, tmp_path) -> None:
    """Brian may use alice's rights (SET ROLE), yet every record he writes names him."""
    owner, urls = team
    with psycopg.connect(plain(owner.url), autocommit=True) as connection:
        connection.execute('GRANT "alice" TO "brian"')
    try:
        as_alice = make_url(urls["brian"]).update_query_dict({"options": "-c role=alice"})
        brian = open_store(as_alice.render_as_string(False), home=tmp_path / ".cmlops")
        record = brian.append("model.fitted", "entity", "m1")
        assert (record.actor, brian.actor_source) == ("brian", "postgresql")
        with psycopg.connect(plain(urls["brian"])) as connection:
            connection.execute('SET ROLE "alice"')
            assert connection.execute("SELECT current_user").fetchone() == ("alice",)
            forged = seal(
                record.seq + 1,
                record.ts,
                "alice",
                "x.y",
                "t",
                "1",
                {},
                "",
                record.hash,
                record.context,
            )
            with pytest.raises(psycopg.errors.RaiseException, match="this session is brian"):
                connection.execute(INSERT_RECORD, vars(forged))
        assert owner.verify().ok and owner.head() == brian.head()
        brian.close()
    finally:
        with psycopg.connect(plain(owner.url), autocommit=True) as connection:
            connection.execute('REVOKE "alice" FROM "brian"')


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
