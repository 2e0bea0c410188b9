"""``cmlops demo``: the README's main job, one command from a fresh install to a package."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import EXIT_VERIFY_FAILED, fail, open_cli_store


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cmlops-demo"),
    show_default=True,
    help="Folder for the demo data and its audit package.",
)
@click.option("--no-progress", is_flag=True, help="Hide Papermill's progress bar.")
@click.pass_context
def demo(ctx: click.Context, out: Path, no_progress: bool) -> None:
    """Train, validate and drift-check a mortality model on the real flchain study data,
    and write a verified audit package (no download: scikit-survival ships the data)."""
    try:
        import sksurv  # noqa: F401
    except ImportError:
        fail("the demo needs scikit-survival: pip install 'cmlops[demo]'")
    from cmlops.reports.demo import run_demo

    store = open_cli_store(ctx)
    try:
        result = run_demo(out, store=store, progress=not no_progress)
    finally:
        store.close()
    click.echo(f"data:     {result.data_dir}")
    click.echo(f"status:   {result.status}; acceptance verdict: {result.verdict}")
    click.echo(f"verified: {'OK' if result.verified else 'FAILED'}")
    click.echo(f"zip:      {result.zip}")
    click.echo(f"package:  {result.package}")
    if not result.verified:
        raise SystemExit(EXIT_VERIFY_FAILED)
