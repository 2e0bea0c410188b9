"""``cmlops report``: list, describe and run report templates into audit packages."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.cli.conventions import ErrorHandlingGroup, echo_json, fail, open_cli_store
from cmlops.terminal_text import terminal_safe

EXIT_RUN_FAILED = 1


@click.group(cls=ErrorHandlingGroup)
def report() -> None:
    """Run validated report templates into verifiable audit packages."""


@report.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """List the shipped report templates."""
    from cmlops.reports.catalogue import list_templates

    templates = list_templates()
    if as_json:
        echo_json([t.to_dict() for t in templates])
        return
    for tpl in templates:
        click.echo(f"{terminal_safe(tpl.name):<20} {terminal_safe(tpl.title)}")


@report.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def describe_cmd(name: str, as_json: bool) -> None:
    """Show a template's purpose, parameters and default acceptance plan."""
    from cmlops.reports.catalogue import describe_template

    tpl = describe_template(name)
    if as_json:
        echo_json(tpl.to_dict())
        return
    click.echo(f"{terminal_safe(tpl.name)}: {terminal_safe(tpl.title)}")
    if tpl.description:
        click.echo(terminal_safe(tpl.description))
    click.echo(f"template sha256: {tpl.sha256}")
    click.echo("parameters:")
    for spec in tpl.parameters:
        need = "required" if spec.required else f"default {spec.default!r}"
        line = f"  {spec.name} ({spec.type}, {need}): {spec.description}"
        click.echo(terminal_safe(line))
    if tpl.default_plan:
        click.echo("default acceptance criteria:")
        for crit in tpl.default_plan.get("criteria", []):
            sub = f" [{crit['subgroup']}]" if crit.get("subgroup") else ""
            line = f"  {crit['id']}: {crit['metric']}{sub} {crit['op']} {crit['threshold']}"
            click.echo(terminal_safe(line))


@report.command("run")
@click.argument("name")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A template parameter (repeatable); values are checked against the schema.",
)
@click.option(
    "--plan",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pre-specified acceptance plan (YAML or JSON).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Package folder to create (default: ./reports/NAME-TIME-ID).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing unsigned cmlops package of this store (never anything else).",
)
@click.option(
    "--cell-timeout", type=float, default=600, show_default=True, help="Seconds one cell may run."
)
@click.option("--run-timeout", type=float, default=None, help="Seconds the whole run may take.")
@click.option("--kernel", "kernel_name", default=None, help="Jupyter kernel name to use.")
@click.option(
    "--deviation-reason", default="", help="Why the plan differs from its earlier recorded version."
)
@click.option("--no-progress", is_flag=True, help="Hide Papermill's progress bar.")
@click.option("--pdf", "pdf", is_flag=True, help="Also write the archival PDF/A-3b (report.pdf).")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    name: str,
    params: tuple[str, ...],
    plan: Path | None,
    out: Path | None,
    force: bool,
    cell_timeout: float,
    run_timeout: float | None,
    kernel_name: str | None,
    deviation_reason: str,
    no_progress: bool,
    pdf: bool,
) -> None:
    """Validate parameters, execute template NAME and write its audit package.

    Exit 0 when the run executed, 1 when it FAILED (a package is still written),
    2 for bad input (nothing runs), 128 + the signal's number when Ctrl-C (130)
    or SIGTERM (143) stopped it (a package marked ABORTED is still written).
    """
    from cmlops.reports.interrupts import StopRequest
    from cmlops.reports.parameters import parse_cli_pairs
    from cmlops.reports.runner import prepare_run, run_report

    given = parse_cli_pairs(params)
    prepare_run(name, given, plan=plan, out=out, force=force)  # refuse before opening a store
    store = open_cli_store(ctx)
    try:
        result = run_report(
            name,
            given,
            plan=plan,
            out=out,
            force=force,
            store=store,
            progress=not no_progress,
            cell_timeout=cell_timeout,
            run_timeout=run_timeout,
            kernel_name=kernel_name,
            deviation_reason=deviation_reason,
            stop=StopRequest(notify=_stopping),
            pdf=pdf,
        )
    finally:
        store.close()
    verdict = result.manifest.get("results", {}).get("verdict")
    click.echo(terminal_safe(f"{result.status} (acceptance: {verdict}) {result.package}"))
    click.echo(f"zip: {result.zip}")
    if result.aborted:
        fail(f"report run ABORTED: {result.error}", _abort_exit(result.stopped_by))
    if not result.ok:
        fail(f"report run FAILED: {result.error}", EXIT_RUN_FAILED)
    if result.pdf_error:
        fail(
            f"the archival PDF was not made ({result.pdf_error}); the package is complete "
            "without it: add it later with `cmlops package pdf`",
            EXIT_RUN_FAILED,
        )


def _stopping(signal_name: str) -> None:
    click.echo(
        f"{signal_name}: stopping the run; the package keeps the cells that ran "
        "and is marked ABORTED",
        err=True,
    )


def _abort_exit(stopped_by: str) -> int:
    """128 + the signal's number, as a shell reports a process a signal ended."""
    import signal

    try:
        return 128 + int(signal.Signals[stopped_by])
    except KeyError:
        return EXIT_RUN_FAILED
