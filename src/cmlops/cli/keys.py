"""``cmlops keys``: signing keys and their registration in the audit chain."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import ErrorHandlingGroup, echo_json, fail, open_cli_store, say

KEY_HELP = "Key file (default: CMLOPS_SIGNING_KEY or ~/.cmlops-keys/signing-key.json)."


@click.group(cls=ErrorHandlingGroup)
def keys() -> None:
    """Manage electronic-signature keys (generate, register, revoke, list)."""


@keys.command("generate")
@click.option("--user", "user_id", help="User id (default: you, the store's actor).")
@click.option("--name", help="Your full printed name, as signatures show it (required).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=KEY_HELP)
@click.option(
    "--valid-days",
    type=click.IntRange(1, 3650),
    default=730,
    show_default=True,
    help="Days the key may sign (1 to 3650).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (automation).",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
@click.option(
    "--no-register",
    is_flag=True,
    help="Only write the key file; an admin registers it from `keys export` later.",
)
@click.pass_context
def generate_cmd(
    ctx: click.Context,
    user_id: str | None,
    name: str | None,
    out: Path | None,
    valid_days: int,
    passphrase_file: Path | None,
    force: bool,
    no_register: bool,
) -> None:
    """Generate a key pair (private key encrypted with your passphrase) and register it.

    Registering a new key retires your previous one. Only you, or an admin of the
    signing policy, may register a key for your user id.
    """
    from cmlops.cli.package import read_passphrase
    from cmlops.trust.admin import generate_keys

    if not name or not name.strip():
        fail('a key needs your full printed name (21 CFR 11.50): pass --name "First Last"')
    passphrase = read_passphrase(passphrase_file, confirm=True)
    store = None if no_register else open_cli_store(ctx)
    try:
        user = user_id or (store.actor if store is not None else None)
        if user is None:  # --no-register: the request names you as the system knows you
            from cmlops.config import local_actor

            user = local_actor().name
        key = generate_keys(
            user,
            passphrase,
            name=name,
            path=out,
            valid_days=valid_days,
            force=force,
            store=store,
            register=not no_register,
        )
    finally:
        if store is not None:
            store.close()
    state = "written (not registered)" if no_register else "registered"
    say(f"key {key.key_id} for {key.user_id} ({key.name}) {state}: {key.path}")


@keys.command("export")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), help=KEY_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_cmd(key_path: Path | None, out: Path) -> None:
    """Write your key's registration request (public key, signed by it) for an admin."""
    from cmlops.trust.keys import export_request, read_key_file

    target = export_request(read_key_file(key_path), out)
    click.echo(f"registration request written to {target}")


@keys.command("register")
@click.option(
    "--public-key",
    "request_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The request `cmlops keys export` wrote (or the user's key file).",
)
@click.option("--user", "user_id", required=True, help="The user id the request must be for.")
@click.option(
    "--valid-days",
    type=click.IntRange(1, 3650),
    default=730,
    show_default=True,
    help="Days the key may sign (1 to 3650).",
)
@click.option("--reason", default="", help="Why (recorded).")
@click.pass_context
def register_cmd(
    ctx: click.Context, request_path: Path, user_id: str, valid_days: int, reason: str
) -> None:
    """Register a key a user generated (you are that user, or an admin)."""
    from cmlops.trust.admin import register_key
    from cmlops.trust.keys import read_request

    store = open_cli_store(ctx)
    try:
        request = read_request(request_path)
        record = register_key(store, request, user_id=user_id, valid_days=valid_days, reason=reason)
    finally:
        store.close()
    say(f"key {record.object_id} registered for {user_id} (audit seq {record.seq})")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--reason", required=True, help="Why the key is revoked (recorded).")
@click.pass_context
def revoke_cmd(ctx: click.Context, key_id: str, reason: str) -> None:
    """Revoke a registered key (its owner or an admin); it signs nothing after this."""
    from cmlops.trust.admin import revoke_key

    store = open_cli_store(ctx)
    try:
        record = revoke_key(store, key_id, reason=reason)
    finally:
        store.close()
    click.echo(f"key {key_id} revoked (audit seq {record.seq})")


@keys.command("list")
@click.option("--user", "user_id", help="Only this user's keys.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, user_id: str | None, as_json: bool) -> None:
    """The key registry as the chain records it."""
    from cmlops.trust.ledger import load_ledger

    store = open_cli_store(ctx, create=False)
    try:
        ledger = load_ledger(store)
    finally:
        store.close()
    found = [k for k in ledger.registry.keys.values() if user_id in (None, k.user_id)]
    if as_json:
        echo_json({"keys": [k.to_dict() for k in found], "problems": ledger.registry.problems})
        return
    for key in found:
        state = key.ended_how or "active"
        say(
            f"{key.key_id}  {key.user_id}  {key.name}  valid {key.valid_from} .. "
            f"{key.valid_until}  {state}  (seq {key.seq}, by {key.registered_by})"
        )
    for problem in ledger.registry.problems:
        say(f"problem: {problem}")
