"""``cmlops store``: where the store is, what is in it, and schema migration."""

from __future__ import annotations

import sys

import click

from cmlops.cli.conventions import EXIT_VERIFY_FAILED, echo_json, open_cli_store
from cmlops.terminal_text import terminal_safe


@click.group()
def store() -> None:
    """Inspect the audit store and migrate its schema."""


@store.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Where the store is, its backend, schema version, record count and head."""
    with open_cli_store(ctx, create=False) as opened:
        details = opened.info()
    if as_json:
        echo_json(details)
        return
    for key, value in details.items():
        if isinstance(value, dict):
            value = f"seq {value['seq']} {value['hash']}"
        click.echo(f"{key:>15}: {terminal_safe(value) if value is not None else '-'}")


@store.command("migrate")
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring a store written by an older cmlops to this version's schema (recorded)."""
    with open_cli_store(ctx, create=False, migrate=True) as opened:
        version = opened.info()["schema_version"]
    click.echo(f"store is at schema v{version}")


@store.command("verify-artifacts")
@click.pass_context
def verify_artifacts(ctx: click.Context) -> None:
    """Re-hash every artifact blob; exit 1 listing any whose bytes changed."""
    with open_cli_store(ctx, create=False) as opened:
        bad = opened.artifacts.verify_all()
        total = sum(1 for _ in opened.artifacts.digests())
    for digest in bad:
        click.echo(f"MODIFIED artifact {digest}")
    click.echo(f"{total - len(bad)} of {total} artifacts intact")
    if bad:
        sys.exit(EXIT_VERIFY_FAILED)


@store.command("grant")
@click.argument("role")
@click.option(
    "--print", "print_only", is_flag=True, help="Only print the SQL (to run it with psql)."
)
@click.pass_context
def grant(ctx: click.Context, role: str, print_only: bool) -> None:
    """Let database role ROLE read the team store and append evidence, nothing more.

    Run as the store's owner on a PostgreSQL store: grants SELECT and INSERT
    on the audit and lineage tables, SELECT on the meta table, and revokes
    UPDATE, DELETE and TRUNCATE. The grant is itself an audit record.
    """
    with open_cli_store(ctx, create=False) as opened:
        if print_only:
            statements = opened.team_grants(role)
        else:
            statements = opened.grant_team_role(role)
    for statement in statements:
        click.echo(f"{statement};")
