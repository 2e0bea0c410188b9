"""The ``cmlops`` command line. Subcommands load lazily so ``--help`` is instant."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops._version import __version__
from cmlops.cli.conventions import ErrorHandlingGroup, lazy

#: command name -> "module:click object"; the one list of top-level commands
COMMANDS: dict[str, str] = {
    "audit": "cmlops.cli.audit:audit",
    "demo": "cmlops.cli.demo:demo",
    "independence": "cmlops.cli.independence:independence",
    "keys": "cmlops.cli.keys:keys",
    "lineage": "cmlops.cli.lineage:lineage",
    "model": "cmlops.cli.model:model",
    "package": "cmlops.cli.package:package",
    "policy": "cmlops.cli.policy:policy",
    "report": "cmlops.cli.report:report",
    "selftest": "cmlops.cli.selftest:selftest",
    "store": "cmlops.cli.store:store",
    "traceability": "cmlops.cli.traceability:traceability",
}


class RootGroup(ErrorHandlingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        return lazy(target)() if target else None


def _print_version(verbose: bool) -> None:
    if verbose:
        from cmlops.build_info import build_info, format_build_info

        click.echo(format_build_info(build_info()))
    else:
        click.echo(f"cmlops, version {__version__}")


@click.group(
    cls=RootGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--version", is_flag=True, help="Show the version and exit.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="With --version: the commit, Python, platform and every dependency's version.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="The .cmlops folder to use (default: CMLOPS_HOME, else the nearest .cmlops).",
)
@click.option("--store-url", help="SQLAlchemy URL of the store (default: CMLOPS_STORE_URL).")
@click.pass_context
def cli(
    ctx: click.Context, version: bool, verbose: bool, home: Path | None, store_url: str | None
) -> None:
    """cmlops: lineage, audit trail, validation and signed audit packages for clinical ML."""
    if version:
        _print_version(verbose)
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
    ctx.obj = {"home": home, "store_url": store_url}


def main() -> None:
    cli(prog_name="cmlops")
