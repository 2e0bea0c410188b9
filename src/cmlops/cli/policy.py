"""``cmlops policy``: who holds which signing role, changed only by an admin's signed record."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import ErrorHandlingGroup, echo_json, open_cli_store, say

KEY_OPTION = click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your key file (default: CMLOPS_SIGNING_KEY or ~/.cmlops-keys/signing-key.json).",
)
PASSPHRASE_OPTION = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (automation).",
)
REASON_OPTION = click.option("--reason", required=True, help="Why the policy changes (recorded).")
ROLE = click.Choice(["admin", "author", "reviewer", "approver"])


@click.group(cls=ErrorHandlingGroup)
def policy() -> None:
    """Show and change the signing policy (roles: admin, author, reviewer, approver)."""


def _apply(
    ctx: click.Context, new_policy, key_path: Path | None, passphrase_file: Path | None, reason
) -> None:
    """Sign and record ``new_policy`` (None: initialise) with the user's key."""
    from cmlops.cli.package import read_passphrase
    from cmlops.trust.admin import change_policy
    from cmlops.trust.keys import read_key_file

    key = read_key_file(key_path)
    passphrase = read_passphrase(passphrase_file)
    store = open_cli_store(ctx)
    try:
        policy_doc = new_policy(store) if callable(new_policy) else new_policy
        record = change_policy(store, policy_doc, key=key, passphrase=passphrase, reason=reason)
    finally:
        store.close()
    say(f"policy recorded (audit seq {record.seq}) by {record.actor}")


@policy.command("init")
@click.option("--admin", "admin", required=True, help="The first admin: must be you.")
@KEY_OPTION
@PASSPHRASE_OPTION
@click.pass_context
def init_cmd(
    ctx: click.Context, admin: str, key_path: Path | None, passphrase_file: Path | None
) -> None:
    """Create the store's first policy, naming you as its only admin (signed with your key)."""
    from cmlops.cli.conventions import fail

    store = open_cli_store(ctx)
    actor = store.actor
    store.close()
    if admin != actor:
        fail(f"--admin {admin!r} must be you ({actor!r}): the first admin initialises the policy")
    _apply(ctx, None, key_path, passphrase_file, "policy initialised")


def _changed(role: str, user: str, add: bool):
    def change(store) -> dict:
        from cmlops.errors import PolicyError
        from cmlops.trust.ledger import load_ledger
        from cmlops.trust.policy import INIT_HINT, normalise_policy

        current = load_ledger(store).policies.current
        if current is None:
            raise PolicyError(f"this store has no policy yet: {INIT_HINT}")
        roles = {r: list(users) for r, users in current.policy["roles"].items()}
        roles[role] = [*roles[role], user] if add else [u for u in roles[role] if u != user]
        return normalise_policy({"roles": roles})

    return change


@policy.command("grant")
@click.argument("role", type=ROLE)
@click.argument("user")
@REASON_OPTION
@KEY_OPTION
@PASSPHRASE_OPTION
@click.pass_context
def grant_cmd(ctx, role: str, user: str, reason: str, key_path, passphrase_file) -> None:
    """Give USER the ROLE (you must be an admin; USER must have a registered key)."""
    _apply(ctx, _changed(role, user, True), key_path, passphrase_file, reason)


@policy.command("withdraw")
@click.argument("role", type=ROLE)
@click.argument("user")
@REASON_OPTION
@KEY_OPTION
@PASSPHRASE_OPTION
@click.pass_context
def withdraw_cmd(ctx, role: str, user: str, reason: str, key_path, passphrase_file) -> None:
    """Take the ROLE away from USER (you must be an admin)."""
    _apply(ctx, _changed(role, user, False), key_path, passphrase_file, reason)


@policy.command("apply")
@click.argument("policy_file", type=click.Path(path_type=Path))
@REASON_OPTION
@KEY_OPTION
@PASSPHRASE_OPTION
@click.pass_context
def apply_cmd(ctx, policy_file: Path, reason: str, key_path, passphrase_file) -> None:
    """Replace the policy with POLICY_FILE (JSON or YAML: roles: {admin: [...], ...})."""
    from cmlops.trust.policy import read_policy_file
    from cmlops.trust.refusals import recorded_refusal

    store = open_cli_store(ctx)
    try:  # a malformed file is refused (and recorded) before any passphrase is asked
        attempt = {"user_id": store.actor, "file": str(policy_file)}
        with recorded_refusal(store, "policy.change_refused", "policy", "policy", attempt):
            new_policy = read_policy_file(policy_file)
    finally:
        store.close()
    _apply(ctx, new_policy, key_path, passphrase_file, reason)


@policy.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show_cmd(ctx: click.Context, as_json: bool) -> None:
    """The policy in force and where it comes from in the chain."""
    from cmlops.trust.ledger import load_ledger
    from cmlops.trust.policy import INIT_HINT, ROLES

    store = open_cli_store(ctx, create=False)
    try:
        ledger = load_ledger(store)
    finally:
        store.close()
    current = ledger.policies.current
    if as_json:
        echo_json(
            {
                "policy": None if current is None else current.policy,
                "seq": None if current is None else current.seq,
                "changed_by": None if current is None else current.changed_by,
                "problems": ledger.policies.problems,
            }
        )
        return
    if current is None:
        say(f"no signing policy: {INIT_HINT}")
    else:
        say(f"policy of audit seq {current.seq} ({current.ts}, by {current.changed_by})")
        for role in ROLES:
            say(f"  {role}: {', '.join(current.policy['roles'][role]) or '-'}")
    for problem in ledger.policies.problems:
        say(f"problem: {problem}")
