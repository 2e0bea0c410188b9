"""``cmlops package``: verify, sign, reproduce audit packages and show their status."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cmlops.cli.conventions import (
    EXIT_VERIFY_FAILED,
    ErrorHandlingGroup,
    echo_json,
    fail,
    open_cli_store,
    say,
)

ENV_PASSPHRASE = "CMLOPS_SIGNING_PASSPHRASE"  # noqa: S105 - a variable name


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    """Passphrase from ``--passphrase-file``, else CMLOPS_SIGNING_PASSPHRASE, else a prompt."""
    if passphrase_file is not None:
        try:
            return passphrase_file.read_text("utf-8").rstrip("\r\n")
        except OSError as exc:
            fail(f"cannot read passphrase file {passphrase_file}: {exc.strerror}")
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env
    return click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)


@click.group(cls=ErrorHandlingGroup)
def package() -> None:
    """Verify, sign and reproduce audit packages."""


def _echo_signatures(signatures: list[dict]) -> None:
    for sig in signatures:
        mark = "valid" if sig["valid"] else f"BROKEN ({sig['problem']})"
        say(
            f"signature: {sig['meaning']} by {sig['name']} ({sig['user_id']}) "
            f"at {sig['signed_at']}: {mark}"
        )


@package.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A signed checkpoint you kept: the package must belong to that chain.",
)
@click.option(
    "--against-store",
    is_flag=True,
    help="Also cross-check with the store: its chain under the package, stripped or "
    "fabricated signature evidence.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    path: Path,
    checkpoint_file: Path | None,
    against_store: bool,
    as_json: bool,
) -> None:
    """Recompute every hash and check every signature of a package folder or zip, offline.

    Signatures are judged against the key registrations and signing policy in
    the chain (carried by the package, or the store's with --against-store).
    Exit 0 when everything matches, 1 naming each modified, added or removed
    file, each broken or stripped signature and each difference from the run's
    audit trail.
    """
    from cmlops.reports.status import status_of
    from cmlops.reports.verify import verify_package
    from cmlops.trust.checkpoint import read_checkpoint_file

    checkpoint = read_checkpoint_file(checkpoint_file) if checkpoint_file else None
    store = open_cli_store(ctx, create=False) if against_store else None
    try:
        result = verify_package(path, checkpoint=checkpoint, store=store)
    finally:
        if store is not None:
            store.close()
    if as_json:
        echo_json({**result.to_dict(), "signed_status": status_of(result)})
    else:
        for line in result.lines():
            say(line)
        _echo_signatures(result.signatures)
        for note in result.notes:
            say(f"note: {note}")
        state = "OK" if result.ok else "FAILED"
        say(
            f"{state}: package {result.package_id} (run {result.status}, status "
            f"{status_of(result)}), {result.files_checked} files checked, "
            f"manifest {result.manifest_sha256}"
        )
    if not result.ok:
        raise SystemExit(EXIT_VERIFY_FAILED)


@package.command("sign")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--meaning",
    type=click.Choice(["authored", "reviewed", "approved", "approved-with-deviation"]),
    required=True,
)
@click.option("--name", help="Your full printed name (21 CFR 11.50); must be your registered name.")
@click.option(
    "--justification",
    default="",
    help="Why it is approved anyway (required with approved-with-deviation; signed).",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file (default: CMLOPS_SIGNING_KEY or ~/.cmlops-keys/signing-key.json).",
)
@click.option("--user", "user_id", help="Your user id (must be the store's actor).")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (automation).",
)
@click.pass_context
def sign_cmd(
    ctx: click.Context,
    path: Path,
    meaning: str,
    name: str | None,
    justification: str,
    key_path: Path | None,
    user_id: str | None,
    passphrase_file: Path | None,
) -> None:
    """Sign a package: manifest digest + name + user id + meaning, recorded in the chain."""
    from cmlops.reports.manifest import MANIFEST
    from cmlops.reports.signing import sign_package

    if not (path / MANIFEST).is_file():  # before asking anyone for a passphrase
        fail(f"no audit package at {path}: give the folder `cmlops report run` wrote")
    passphrase = read_passphrase(passphrase_file)
    store = open_cli_store(ctx)
    try:
        entry = sign_package(
            path,
            meaning=meaning,
            name=name,
            justification=justification,
            passphrase=passphrase,
            key_path=key_path,
            user_id=user_id,
            store=store,
        )
    finally:
        store.close()
    say(
        f"signed {meaning} by {entry['name']} ({entry['user_id']}) at "
        f"{entry['signed_at']}: package {entry['package_id']} (audit seq {entry['record']['seq']})"
    )


@package.command("status")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--superseded-by",
    type=click.Path(path_type=Path),
    help="Record that the package at this path supersedes PATH (it must verify).",
)
@click.option("--reason", default="", help="Why (recorded with --superseded-by).")
@click.option(
    "--justification",
    default="",
    help="Required when the successor comes from another template (recorded).",
)
@click.pass_context
def status_cmd(
    ctx: click.Context, path: Path, superseded_by: Path | None, reason: str, justification: str
) -> None:
    """Show a package's status (executed, reviewed, approved, superseded, FAILED or INVALID).

    The package is verified against the store; exit 1 when it fails (status INVALID).
    """
    from cmlops.reports.status import INVALID, package_state, supersede

    store = open_cli_store(ctx, create=False)
    try:
        if superseded_by is not None:
            supersede(path, superseded_by, store=store, reason=reason, justification=justification)
        state = package_state(path, store=store)
    finally:
        store.close()
    say(f"{state['status']}: package {state['package_id']} ({state['template']})")
    for line in state["problems"]:
        say(f"  {line}")
    for sig in state["signatures"]:
        say(f"  {sig['meaning']} by {sig['name']} ({sig['user_id']}) at {sig['signed_at']}")
    if state.get("superseded_by"):
        say(f"  superseded by {state['superseded_by']}")
    if state["status"] == INVALID:
        raise SystemExit(EXIT_VERIFY_FAILED)


@package.command("pdf")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def pdf_cmd(ctx: click.Context, path: Path) -> None:
    """Add the archival PDF/A-3b of the report (manifest embedded) to an unsigned package.

    The package must verify and carry no signature yet (make the PDF, then sign).
    """
    from cmlops.reports.pdf_copy import add_pdf, describe

    store = open_cli_store(ctx)
    try:
        made = add_pdf(path, store=store)
    finally:
        store.close()
    click.echo(f"archival PDF: {describe(made)}")


@package.command("reproduce")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the re-executed package (default: a temporary folder).",
)
@click.option(
    "--rel-tol",
    type=float,
    default=1e-9,
    show_default=True,
    help="Relative tolerance for numeric results.",
)
@click.option(
    "--abs-tol",
    type=float,
    default=1e-12,
    show_default=True,
    help="Absolute tolerance for numeric results.",
)
@click.pass_context
def reproduce_cmd(
    ctx: click.Context, path: Path, out: Path | None, rel_tol: float, abs_tol: float
) -> None:
    """Re-execute a package with its recorded inputs and parameters and compare results."""
    from cmlops.reports.reproduce import reproduce_package

    store = open_cli_store(ctx)
    try:
        result = reproduce_package(
            path, out=out, store=store, rel_tol=rel_tol, abs_tol=abs_tol, progress=False
        )
    finally:
        store.close()
    for line in result.differences:
        say(f"difference: {line}")
    if result.reproducible:
        click.echo(f"REPRODUCIBLE: {result.compared} results match ({result.package})")
    else:
        click.echo(f"NOT REPRODUCIBLE: {len(result.differences)} difference(s)")
        raise SystemExit(EXIT_VERIFY_FAILED)
