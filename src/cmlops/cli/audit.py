"""``cmlops audit``: read, verify, anchor and export the audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from cmlops.cli.conventions import (
    EXIT_VERIFY_FAILED,
    atomic_output,
    echo_json,
    open_cli_store,
)
from cmlops.errors import InvalidInputError
from cmlops.terminal_text import terminal_safe


def _filters(
    actor: str | None, action: str | None, obj: str | None, since: str | None, until: str | None
) -> dict[str, str | None]:
    object_type, _, object_id = (obj or "").partition(":")
    return {
        "actor": actor,
        "action": action,
        "object_type": object_type or None,
        "object_id": object_id or None,
        "since": since,
        "until": until,
    }


def filter_options(function):
    for option in reversed(
        [
            click.option("--actor", help="Only records by this actor."),
            click.option("--action", help="Only this action (a trailing * matches a prefix)."),
            click.option("--object", "obj", metavar="TYPE[:ID]", help="Only this object type/id."),
            click.option("--since", metavar="TIME", help="Only records at or after this ISO time."),
            click.option(
                "--until", metavar="TIME", help="Only records at or before this ISO time."
            ),
        ]
    ):
        function = option(function)
    return function


@click.group()
def audit() -> None:
    """Read, verify, anchor and export the tamper-evident audit trail."""


@audit.command("log")
@filter_options
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many records.",
)
@click.option("--oldest-first", is_flag=True, help="Oldest first (default: newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (payloads parsed).")
@click.pass_context
def log(
    ctx: click.Context,
    actor: str | None,
    action: str | None,
    obj: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    oldest_first: bool,
    as_json: bool,
) -> None:
    """Show audit records, newest first."""
    with open_cli_store(ctx, create=False) as store:
        records = store.records(
            **_filters(actor, action, obj, since, until), limit=limit, newest_first=not oldest_first
        )
    if as_json:
        echo_json([record.to_dict() for record in records])
        return
    for record in records:
        click.echo(_listing_line(record))


def _listing_line(record: Any) -> str:
    """One line per record, whatever its fields hold: every field from the store escaped.

    The actor is shown with its source (``alice (postgresql)``) and, when the
    user claimed another name, that claim (``root (os; claims bob)``).
    """
    context = record.context_dict()
    who = terminal_safe(record.actor)
    if context:
        source = terminal_safe(context.get("actor_source", ""))
        claimed = context.get("claimed_actor", "")
        if claimed and claimed != record.actor:
            source += f"; claims {terminal_safe(claimed)}"
        who += f" ({source})"
    reason = f"  reason: {terminal_safe(record.reason)}" if record.reason else ""
    return (
        f"{record.seq:>7}  {record.ts}  {who}  {terminal_safe(record.action)}  "
        f"{terminal_safe(record.object_type)}:{terminal_safe(record.object_id)}{reason}"
    )


@audit.command("verify")
@click.option(
    "--anchor",
    metavar="HASH",
    help="A head hash (or SEQ:HASH) kept earlier: also detects a truncated tail.",
)
@click.option(
    "--file",
    "export_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verify a JSON Lines export instead of the store.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint file kept elsewhere: detects truncation, deletion and re-chaining.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def verify(
    ctx: click.Context,
    anchor: str | None,
    export_file: Path | None,
    checkpoint_file: Path | None,
    as_json: bool,
) -> None:
    """Recompute the hash chain, check checkpoints and the lineage tables; exit 1 on a failure."""
    from cmlops.store.chain import iter_jsonl_rows, parse_anchor, verify_rows

    if export_file is None:
        _verify_store(ctx, anchor, checkpoint_file, as_json)
        return
    if checkpoint_file is not None:
        raise InvalidInputError("--checkpoint checks the store: leave out --file")
    if export_file is not None:
        anchor_hash = parse_anchor(anchor) if anchor else None
        try:
            with open(export_file, encoding="utf-8") as lines:
                result = verify_rows(iter_jsonl_rows(lines), anchor_hash)
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"{export_file} is not UTF-8 text: give the JSON Lines file "
                "`cmlops audit export` wrote"
            ) from None
    if as_json:
        echo_json(_result_json(result))
    else:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(result.summary())
    if not result.ok:
        sys.exit(EXIT_VERIFY_FAILED)


def _result_json(result) -> dict:
    return {
        "ok": result.ok,
        "records": result.records,
        "head": {"seq": result.head.seq, "hash": result.head.hash} if result.head else None,
        "broken": {"seq": result.broken.seq, "reason": result.broken.reason}
        if result.broken
        else None,
        "warnings": result.warnings,
    }


def _verify_store(
    ctx: click.Context, anchor: str | None, checkpoint_file: Path | None, as_json: bool
) -> None:
    from cmlops.trust.checkpoint import read_checkpoint_file
    from cmlops.trust.trail import UNANCHORED_NOTE, verify_trail

    checkpoint = read_checkpoint_file(checkpoint_file) if checkpoint_file else None
    with open_cli_store(ctx, create=False) as store:
        outcome = verify_trail(store, anchor=anchor, checkpoint=checkpoint)
    unanchored = checkpoint is None and anchor is None
    if as_json:
        echo_json(
            {
                **_result_json(outcome.chain),
                "ok": outcome.ok,
                "problems": outcome.problems,
                "recorded_checkpoints": outcome.recorded_checkpoints,
                "checkpoint": checkpoint.document if checkpoint else None,
                "note": UNANCHORED_NOTE if unanchored else None,
            }
        )
    else:
        for warning in outcome.chain.warnings:
            click.echo(f"warning: {terminal_safe(warning)}", err=True)
        for problem in outcome.problems:
            click.echo(f"problem: {terminal_safe(problem)}", err=True)
        click.echo(terminal_safe(outcome.summary()))
        if unanchored:
            click.echo(UNANCHORED_NOTE, err=True)
    if not outcome.ok:
        sys.exit(EXIT_VERIFY_FAILED)


@audit.command("anchor")
@click.option("--json", "as_json", is_flag=True, help="Print seq, hash and store id as JSON.")
@click.pass_context
def anchor(ctx: click.Context, as_json: bool) -> None:
    """Print the chain head as SEQ:HASH, to keep somewhere else (detects truncation later)."""
    with open_cli_store(ctx, create=False) as store:
        head = store.head()
        store_id = store.store_id
    if head is None:
        raise click.ClickException("the audit log is empty: there is no head to anchor")
    if as_json:
        echo_json({"seq": head.seq, "hash": head.hash, "store_id": store_id})
    else:
        click.echo(f"{head.seq}:{head.hash}")


@audit.command("export")
@filter_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of standard output.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.pass_context
def export(
    ctx: click.Context,
    actor: str | None,
    action: str | None,
    obj: str | None,
    since: str | None,
    until: str | None,
    out: Path | None,
    force: bool,
) -> None:
    """Export records as JSON Lines (verifiable with `cmlops audit verify --file`)."""
    filters = _filters(actor, action, obj, since, until)
    with open_cli_store(ctx, create=False) as store:
        if out is None:
            store.export_jsonl(sys.stdout, **filters)
            return
        with atomic_output(out, force=force) as handle:
            count = store.export_jsonl(handle, **filters)
    click.echo(f"exported {count} records to {out}", err=True)


@audit.command("correct")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--value", "value_json", required=True, metavar="JSON", help="The right value.")
@click.option("--field", metavar="NAME", help="Correct this payload member (default: all).")
@click.option("--reason", default="", help="Why the record is wrong (required).")
@click.option("--json", "as_json", is_flag=True, help="Print the correction record as JSON.")
@click.pass_context
def correct(
    ctx: click.Context, seq: int, value_json: str, field: str | None, reason: str, as_json: bool
) -> None:
    """Record a correction of record SEQ (never an edit): the old and new values' hashes."""
    if not reason.strip():
        raise InvalidInputError(
            "a correction needs a reason: say why the record is wrong with --reason TEXT"
        )
    try:
        value = json.loads(value_json)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"--value is not JSON ({error.msg} at character {error.pos}): quote text as "
            "'\"text\"', give numbers, objects and lists as JSON"
        ) from None
    with open_cli_store(ctx, create=False) as store:
        record = store.correct(seq, value, reason=reason, field=field)
    if as_json:
        echo_json(record.to_dict())
        return
    payload = record.payload_dict()
    click.echo(
        f"record {record.seq} corrects record {seq}"
        f"{f' member {terminal_safe(field)}' if field is not None else ''}: old value sha256 "
        f"{payload['old_value_sha256']}, new value sha256 {payload['new_value_sha256']}"
    )


@audit.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checkpoint file here (default: checkpoint-STORE-SEQ.json here).",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your signing key file (default: $CMLOPS_SIGNING_KEY or ~/.cmlops-keys).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the passphrase from this file (automation).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the signed checkpoint as JSON.")
@click.pass_context
def checkpoint(
    ctx: click.Context,
    out: Path | None,
    key_path: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Sign the chain's current head and Merkle root; record it and write a file to keep."""
    import json

    from cmlops.atomic_files import write_atomic
    from cmlops.cli.package import read_passphrase
    from cmlops.trust.checkpoint import create_checkpoint
    from cmlops.trust.keys import read_key_file, unlock

    key = read_key_file(key_path)
    with open_cli_store(ctx, create=False) as store:
        if store.head() is None:
            raise InvalidInputError("the audit log is empty: there is nothing to checkpoint")
        target = out or Path(f"checkpoint-{store.store_id[:8]}-{store.head().seq}.json")
        if target.exists():
            raise InvalidInputError(
                f"{target} exists: checkpoints are never overwritten, use --out"
            )
        private_key = unlock(key, read_passphrase(passphrase_file))
        signed = create_checkpoint(store, private_key, signer=store.actor)
    text = json.dumps(signed.to_file(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(target, text, replace=False, read_only=True)
    if as_json:
        echo_json({"file": str(target), **signed.document})
    else:
        doc = signed.document
        click.echo(
            f"checkpoint of seq {doc['tree_size']} (root {doc['root']}) signed by "
            f"{terminal_safe(doc['signer'])}, recorded and written to {target}: keep this file "
            "outside the store"
        )
