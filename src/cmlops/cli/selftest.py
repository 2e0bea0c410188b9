"""``cmlops selftest``: validate this installation (IQ, OQ, PQ) into a signed package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cmlops.cli.conventions import EXIT_VERIFY_FAILED, fail, open_cli_store
from cmlops.terminal_text import terminal_safe


def _pq(
    config: Path | None,
    example: bool,
    template: str | None,
    data: str | None,
    plan: str | None,
    params: tuple[str, ...],
) -> Any:
    from cmlops.selftest.example import example_pq_config
    from cmlops.selftest.performance import load_pq_config, pq_from_options

    chosen = [bool(config), example, bool(template or data or plan or params)]
    if sum(chosen) > 1:
        fail("give one PQ: --pq-config, --pq-example, or --pq-template/--pq-data/--pq-plan")
    if config:
        return load_pq_config(config)
    if example:
        return load_pq_config(example_pq_config())
    if not template:
        if data or plan or params:
            fail("--pq-data, --pq-plan and --pq-param need --pq-template")
        return None
    parsed = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--pq-param {item!r} is not NAME=VALUE")
        parsed[name.strip()] = value
    return pq_from_options(template, data, plan, parsed)


def _echo_summary(result: Any) -> None:
    """Each check, each requirement's status, the package, and the verdict line last."""
    for check in result.checks:
        mark = "PASS" if check.passed else "FAIL"
        line = f"{mark} {check.id} {check.title}"
        if not check.passed:
            line += f": {check.observed}"
        click.echo(terminal_safe(line))
        for deviation in check.deviations:
            click.echo(terminal_safe(f"     deviation: {deviation}"))
    for row in result.matrix:
        click.echo(terminal_safe(f"{row.status:8} {row.requirement.id} {row.requirement.title}"))
    for finding in result.findings:
        click.echo(terminal_safe(f"package: {finding}"))
    signer = result.signature or {}
    signed = f"signed {signer['meaning']} by {signer['name']}" if signer else "unsigned"
    click.echo(terminal_safe(f"validation package: {result.package} ({result.zip.name}), {signed}"))
    if result.pq_package:
        click.echo(terminal_safe(f"PQ package: {result.pq_package}"))
    verified = "verifies" if result.verified else "FAILS verification"
    click.echo(f"{'PASS' if result.ok else 'FAIL'}: verdict {result.verdict}, package {verified}")


@click.command("selftest")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The validation package folder (default: ./cmlops-selftest-<UTC time>); "
    "the PQ package is written beside it as <out>-pq.",
)
@click.option(
    "--pq-config",
    type=click.Path(path_type=Path),
    help="Your PQ: a YAML file naming template, parameters and plan.",
)
@click.option("--pq-example", is_flag=True, help="Run the PQ example shipped with cmlops.")
@click.option("--pq-template", help="PQ template: a shipped template's name or an .ipynb path.")
@click.option("--pq-data", help="PQ data file (the template's 'data' parameter).")
@click.option("--pq-plan", help="PQ acceptance plan (YAML or JSON).")
@click.option(
    "--pq-param",
    "pq_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Another PQ template parameter (repeatable).",
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(["iq", "oq", "pq"]),
    help="Run only these stages (repeatable; default: all three).",
)
@click.option(
    "--require-tested", is_flag=True, help="Fail IQ when any version differs from the tested set."
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your signing key (default: CMLOPS_SIGNING_KEY, else ~/.cmlops-keys/).",
)
@click.option(
    "--name",
    help="Your registered printed name (the default; another name is refused).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the key's passphrase from this file (automation).",
)
@click.pass_context
def selftest(
    ctx: click.Context,
    out: Path | None,
    pq_config: Path | None,
    pq_example: bool,
    pq_template: str | None,
    pq_data: str | None,
    pq_plan: str | None,
    pq_params: tuple[str, ...],
    stages: tuple[str, ...],
    require_tested: bool,
    key_path: Path | None,
    name: str | None,
    passphrase_file: Path | None,
) -> None:
    """Validate this installation: IQ, OQ and PQ into a signed validation package.

    IQ checks the installed files against the wheel's RECORD and the environment
    against the tested set; OQ runs known-answer checks on the installed copy;
    PQ runs your template on your data against your plan. The package ends with
    the traceability matrix and verifies like any other. Exit 0 when every
    requirement passes, 1 otherwise, 2 for bad input.
    """
    from cmlops.cli.package import read_passphrase
    from cmlops.selftest.run import SignRequest, check_signer, run_selftest
    from cmlops.trust.keys import default_key_path

    pq = _pq(pq_config, pq_example, pq_template, pq_data, pq_plan, pq_params)
    chosen = tuple(s.upper() for s in stages) or ("IQ", "OQ", "PQ")
    store = open_cli_store(ctx)
    try:
        probe = SignRequest(passphrase="", key_path=key_path, name=name)
        if not (key_path or default_key_path()).expanduser().is_file():
            check_signer(probe, store)  # the one-line "how to create a key" error
        sign = SignRequest(read_passphrase(passphrase_file), key_path, name)
        result = run_selftest(
            pq=pq, out=out, stages=chosen, sign=sign, require_tested=require_tested, store=store
        )
    finally:
        store.close()
    _echo_summary(result)
    if not result.ok:
        raise SystemExit(EXIT_VERIFY_FAILED)
