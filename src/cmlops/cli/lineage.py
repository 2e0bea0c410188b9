"""``cmlops lineage``: export the recorded lineage as PROV-JSON or OpenLineage events."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import atomic_output, open_cli_store


@click.group()
def lineage() -> None:
    """Export the lineage recorded by %%cmlops_track, autotrack and cmlops.track."""


@lineage.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["prov", "openlineage"]),
    default="prov",
    show_default=True,
    help="prov: W3C PROV-JSON document; openlineage: run events, one JSON per line.",
)
@click.option("--notebook", default=None, help="Only the activities of this notebook path.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.pass_context
def export(
    ctx: click.Context, fmt: str, notebook: str | None, out: Path | None, force: bool
) -> None:
    """Export lineage (all of it, or one notebook's) for other tools and reviewers."""
    from cmlops.capture.export import export_lineage

    with open_cli_store(ctx, create=False) as store:
        text = export_lineage(store, fmt, notebook=notebook)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    with atomic_output(out, force=force) as handle:
        handle.write(text)
    click.echo(f"wrote {out}", err=True)
