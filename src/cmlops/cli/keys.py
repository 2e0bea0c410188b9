"""``cmlops keys``: create the Ed25519 signing key of a user."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import ErrorHandlingGroup, open_cli_store
from cmlops.terminal_text import terminal_safe


@click.group(cls=ErrorHandlingGroup)
def keys() -> None:
    """Manage electronic-signature keys."""


@keys.command("generate")
@click.option("--user", "user_id", help="Your user id (default: the store's actor).")
@click.option("--name", default="", help="Your full printed name.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file (default: CMLOPS_SIGNING_KEY or ~/.cmlops-keys/signing-key.json).",
)
@click.option(
    "--valid-days",
    type=click.IntRange(1, 36500),
    default=730,
    show_default=True,
    help="Days the key may sign (1 to 36500).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (automation).",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
@click.pass_context
def generate_cmd(
    ctx: click.Context,
    user_id: str | None,
    name: str,
    out: Path | None,
    valid_days: int,
    passphrase_file: Path | None,
    force: bool,
) -> None:
    """Generate a key pair; the private key is encrypted with your passphrase."""
    from cmlops.cli.package import read_passphrase
    from cmlops.trust.keys import generate_keys

    passphrase = read_passphrase(passphrase_file, confirm=True)
    store = open_cli_store(ctx)
    try:
        info = generate_keys(
            user_id or store.actor,
            passphrase,
            name=name,
            path=out,
            valid_days=valid_days,
            force=force,
            store=store,
        )
    finally:
        store.close()
    click.echo(
        terminal_safe(
            f"key {info.key_id} for {info.user_id} written to {info.path} (expires {info.expires})"
        )
    )
