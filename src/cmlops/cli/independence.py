"""``cmlops independence``: are a training and a test file independent (GMLP principle 4)?"""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import (
    EXIT_VERIFY_FAILED,
    atomic_output,
    echo_json,
    fail,
    open_cli_store,
)
from cmlops.terminal_text import terminal_safe


def _tolerances(values: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in values:
        column, sep, number = item.partition("=")
        try:
            out[column.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not column.strip():
            fail(f"--tolerance {item!r} is not COLUMN=NUMBER (e.g. --tolerance age=1)")
    return out


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _salt(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        fail(f"cannot read salt file {path}: {exc.strerror}")
    return None


@click.command("independence")
@click.argument("train", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("test", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "id_column", help="Subject identifier column (compared as salted hashes).")
@click.option("--keys", help="Comma-separated key columns for near-duplicates.")
@click.option(
    "--tolerance",
    multiple=True,
    help="COLUMN=NUMBER: numeric tolerance of a key column (repeatable).",
)
@click.option("--exclude", help="Comma-separated columns left out of the duplicate-row check.")
@click.option(
    "--salt-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Secret salt (>= 16 bytes) to make hashes comparable across runs (default: random).",
)
@click.option("--reason", default="", help="Why the check was run (recorded).")
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result as a self-contained HTML page.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def independence(
    ctx: click.Context,
    train: Path,
    test: Path,
    id_column: str | None,
    keys: str | None,
    tolerance: tuple[str, ...],
    exclude: str | None,
    salt_file: Path | None,
    reason: str,
    html_out: Path | None,
    as_json: bool,
) -> None:
    """Compare TRAIN and TEST for shared subjects, duplicate rows and near-duplicates.

    Identifiers are compared in this process only; the result recorded in the
    lineage (and printed) holds salted hashes, counts and row positions. Exit 0
    when no subject is shared, 1 when one is, 2 for bad input.
    """
    from cmlops.lifecycle.independence_files import check_files

    if html_out is not None and html_out.exists():
        fail(f"{html_out} exists: choose another --html file")
    tolerances = _tolerances(tolerance)
    secret = _salt(salt_file)
    with open_cli_store(ctx) as store:
        result, entity = check_files(
            store,
            train,
            test,
            id_column=id_column,
            keys=_split(keys),
            tolerance=tolerances,
            exclude=_split(exclude),
            salt=secret,
            reason=reason,
        )
    if html_out is not None:
        from cmlops.widgets.static import html_document

        with atomic_output(html_out) as handle:
            handle.write(html_document([result], title="Train/test independence"))
    if as_json:
        echo_json({**result.to_dict(), "entity_id": entity.id})
    else:
        for label, value in (
            ("shared subjects", result.shared_subjects),
            ("test rows of shared subjects", result.shared_test_rows),
            ("exact duplicate rows", result.duplicate_rows),
            ("near-duplicates on keys", result.near_duplicates),
        ):
            click.echo(f"{label}: {'not checked' if value is None else value}")
        for digest in result.shared_subject_hashes:
            click.echo(f"  shared subject {digest[:16]} (HMAC-SHA256, salt {result.salt_id})")
        for warning in result.warnings:
            click.echo(f"warning: {terminal_safe(warning)}")
        click.echo(f"{result.verdict.upper()}: recorded as {entity.id}")
    if not result.passed:
        raise SystemExit(EXIT_VERIFY_FAILED)
