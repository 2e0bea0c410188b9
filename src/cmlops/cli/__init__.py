"""The ``cmlops`` command line. Subcommands load lazily so ``--help`` is instant."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops._version import __version__
from cmlops.cli._common import ErrorHandlingGroup, lazy

#: command name -> "module:click object"; the one list of top-level commands
COMMANDS: dict[str, str] = {
    "audit": "cmlops.cli.audit:audit",
    "demo": "cmlops.cli.demo:demo",
    "independence": "cmlops.cli.independence:independence",
    "keys": "cmlops.cli.keys:keys",
    "lineage": "cmlops.cli.lineage:lineage",
    "model": "cmlops.cli.model:model",
    "package": "cmlops.cli.package:package",
    "report": "cmlops.cli.report:report",
    "store": "cmlops.cli.store:store",
}


class RootGroup(ErrorHandlingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        return lazy(target)() if target else None


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cmlops")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="The .cmlops folder to use (default: CMLOPS_HOME, else the nearest .cmlops).",
)
@click.option("--store-url", help="SQLAlchemy URL of the store (default: CMLOPS_STORE_URL).")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, store_url: str | None) -> None:
    """cmlops: lineage, audit trail, validation and signed audit packages for clinical ML."""
    ctx.obj = {"home": home, "store_url": store_url}


def main() -> None:
    cli(prog_name="cmlops")
