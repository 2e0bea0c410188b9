"""A throwaway PostgreSQL cluster on loopback (tests and benchmarks share it)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresNotInstalled(RuntimeError):
    pass


#: members of this group role must log in with their password (SCRAM-SHA-256), as a
#: team store's people do (docs/team-store.md); everyone else is trusted (test-only)
PASSWORD_GROUP = "cmlops_password_login"


def _require_passwords(data: Path) -> None:
    """Put the password rule for PASSWORD_GROUP ahead of initdb's ``trust`` lines."""
    hba = data / "pg_hba.conf"
    rules = "".join(
        f"host all +{PASSWORD_GROUP} {address} scram-sha-256\n"
        for address in ("127.0.0.1/32", "::1/128")
    )
    hba.write_text(rules + hba.read_text())  # rewritten in place: the owner stays postgres


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = candidates[0] if candidates else shutil.which("initdb")
    if not found:
        raise PostgresNotInstalled(
            "PostgreSQL server binaries not found: run `bash .ci/setup --test` (it installs "
            "Debian's postgresql)"
        )
    return Path(found).parent


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a cluster as the ``postgres`` user (the server refuses root); yield its URL."""
    binaries = postgres_bin()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="cmlops-pg-"))
    data, log = base / "data", base / "server.log"
    if as_postgres:
        shutil.chown(base, user="postgres")
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    _require_passwords(data)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c max_connections=60"
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    import psycopg

    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
