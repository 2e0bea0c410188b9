"""``cmlops model``: the registry — register, protocol, validate, approve, retire, list, show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cmlops.cli.conventions import ErrorHandlingGroup, echo_json, open_cli_store
from cmlops.terminal_text import terminal_safe

PACKAGE = click.Path(path_type=Path)


@click.group(cls=ErrorHandlingGroup)
def model() -> None:
    """Named, versioned models with change control, from the lineage and the audit chain."""


def _version_line(v: Any) -> str:
    scope = v.change.get("scope", "")
    mod = f" ({v.change['modification']})" if v.change.get("modification") else ""
    return (
        f"v{v.version}  {v.status:<10} {v.entity_id[:23]}…  change: {scope}{mod}  "
        f"registered {v.registered.get('ts', '')} by {v.registered.get('actor', '')}"
    )


@model.command("register")
@click.argument("name")
@click.option("--from", "source", required=True, help="Model entity id or tracked variable name.")
@click.option(
    "--protocol", type=click.Path(dir_okay=False, path_type=Path), help="Change protocol."
)
@click.option("--description", default="", help="What the model is for.")
@click.option("--reason", default="", help="Why (recorded).")
@click.pass_context
def register_cmd(
    ctx: click.Context, name: str, source: str, protocol: Path | None, description: str, reason: str
) -> None:
    """Register the model entity SOURCE as the next version of NAME."""
    from cmlops.lifecycle.registry import register_version

    with open_cli_store(ctx) as store:
        version = register_version(
            store, name, source, description=description, protocol=protocol, reason=reason
        )
    click.echo(f"registered {name} {_version_line(version)}")
    for reason_text in version.change.get("reasons") or []:
        click.echo(f"  out of scope: {reason_text}")
    for gap in version.facts.get("gaps") or []:
        click.echo(f"  lineage gap: {gap}")


@model.command("protocol")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", default="", help="Why the protocol changes (required for a revision).")
@click.pass_context
def protocol_cmd(ctx: click.Context, name: str, path: Path, reason: str) -> None:
    """Record (or revise) the change protocol of NAME."""
    from cmlops.lifecycle.registry import record_protocol

    with open_cli_store(ctx) as store:
        recorded = record_protocol(store, name, path, reason=reason)
    click.echo(
        f"protocol {recorded['protocol_id']} of {name}: SHA-256 {recorded['sha256']} "
        f"(audit seq {recorded['seq']})"
    )


def _package_transition(reason_help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """NAME VERSION PACKAGE [--reason]: the arguments of a status change a package supports."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for decorator in (
            click.pass_context,
            click.option("--reason", default="", help=reason_help),
            click.argument("package", type=PACKAGE),
            click.argument("version", type=int),
            click.argument("name"),
        ):
            command = decorator(command)
        return command

    return decorate


def _transition(
    ctx: click.Context, change: Callable[..., Any], name: str, version: int, *args: Any, **kw: Any
) -> None:
    """Apply ``change`` (validate, approve, retire) to NAME VERSION; print the version's line."""
    with open_cli_store(ctx) as store:
        state = change(store, name, version, *args, **kw)
    click.echo(f"{name} {_version_line(state)}")


@model.command("validate")
@_package_transition("Recorded with the transition.")
def validate_cmd(ctx: click.Context, name: str, version: int, package: Path, reason: str) -> None:
    """Mark VERSION validated by PACKAGE (checked against the change protocol)."""
    from cmlops.lifecycle.validation import validate_version

    _transition(ctx, validate_version, name, version, package, reason=reason)


@model.command("approve")
@_package_transition("Recorded with the approval.")
def approve_cmd(ctx: click.Context, name: str, version: int, package: Path, reason: str) -> None:
    """Approve VERSION for use; PACKAGE is its signed, approved validation package."""
    from cmlops.lifecycle.approval import approve_version

    _transition(ctx, approve_version, name, version, package, reason=reason)


@model.command("retire")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--reason", required=True, help="Why the version is withdrawn.")
@click.pass_context
def retire_cmd(ctx: click.Context, name: str, version: int, reason: str) -> None:
    """Retire VERSION (it stays in the history)."""
    from cmlops.lifecycle.registry import retire_version

    _transition(ctx, retire_version, name, version, reason=reason)


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Every registered model with its latest version and status."""
    from cmlops.lifecycle.registry import list_models

    with open_cli_store(ctx) as store:
        models = list_models(store)
    if as_json:
        echo_json([m.to_dict() for m in models])
        return
    for m in models:
        latest = m.version()
        approved = [f"v{v.version}" for v in m.versions.values() if v.status == "approved"]
        click.echo(
            f"{m.name}: {len(m.versions)} version(s), latest v{latest.version} "
            f"{latest.status}; approved for use: {', '.join(approved) or 'none'}"
        )


@model.command("show")
@click.argument("name")
@click.option("--version", type=int, help="One version in detail (default: every version).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show_cmd(ctx: click.Context, name: str, version: int | None, as_json: bool) -> None:
    """A model's versions, their lineage facts, change classification and evidence."""
    from cmlops.lifecycle.registry import model_state

    with open_cli_store(ctx) as store:
        state = model_state(store, name)
    versions = [state.version(version)] if version else list(state.versions.values())
    if as_json:
        echo_json({**state.to_dict(), "versions": [v.to_dict() for v in versions]})
        return
    protocol = state.protocol
    click.echo(f"{name}: {state.description or '(no description)'}")
    click.echo(
        f"protocol: {protocol['protocol_id']} SHA-256 {protocol['sha256']}"
        if protocol
        else "protocol: none recorded"
    )
    for v in versions:
        click.echo(_version_line(v))
        facts = v.facts
        click.echo(f"  class: {facts.get('class')}  entity: {v.entity_id}")
        for data in facts.get("training_data", []):
            click.echo(f"  trained on: {data['name']} ({data['entity_id']}, {data['rows']} rows)")
        for code in facts.get("code", []):
            click.echo(f"  code: {code['name'] or code['activity_id']} {code['code_hash']}")
        if v.validation:
            click.echo(
                f"  validated by package {v.validation['package_id']} "
                f"({v.validation['validation']}, {v.validation['verdict']})"
            )
        if v.approval:
            click.echo(f"  approved by {v.approval['actor']} at {v.approval['ts']}")
        for gap in facts.get("gaps", []):
            click.echo(f"  lineage gap: {gap}")


@model.command("history")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The audit records as JSON.")
@click.pass_context
def history_cmd(ctx: click.Context, name: str, as_json: bool) -> None:
    """Every record of NAME in the audit chain, oldest first (registrations, refusals too)."""
    from cmlops.lifecycle.registry import model_state

    with open_cli_store(ctx) as store:
        state = model_state(store, name)
        refused = store.records(action="model.approval.refused", object_id=name)
    records = sorted({r.seq: r for r in [*state.history, *refused]}.values(), key=lambda r: r.seq)
    if as_json:
        echo_json([r.to_dict() for r in records])
        return
    for r in records:
        payload = r.payload_values()
        version = f" v{payload['version']}" if "version" in payload else ""
        why = f" — {r.reason}" if r.reason else ""
        click.echo(terminal_safe(f"{r.seq:>6} {r.ts} {r.actor}: {r.action}{version}{why}"))


@model.command("dossier")
@click.argument("name")
@click.option("--version", type=int, help="The version (default: the latest).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["model-card", "tripod-ai", "credibility", "annex-iv", "datasheet"]),
    help="Which dossiers (repeatable; default: all).",
)
@click.option(
    "--answers",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML of manual answers (tripod, model_card, credibility, annex_iv, datasheet).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dossiers"),
    show_default=True,
    help="Root folder of the dossier packages (revisions are never overwritten).",
)
@click.option("--pdf", is_flag=True, help="Also write each new revision's archival PDF/A-3b.")
@click.pass_context
def dossier_cmd(
    ctx: click.Context,
    name: str,
    version: int | None,
    kinds: tuple[str, ...],
    answers: Path | None,
    out: Path,
    pdf: bool,
) -> None:
    """Compile the dossiers of a version from the evidence graph (new revision when it changed)."""
    from cmlops.lifecycle.answers import load_answers
    from cmlops.lifecycle.dossiers import KINDS, generate_dossiers

    load_answers(answers)  # a bad answers file is refused before the store is opened
    with open_cli_store(ctx) as store:
        runs = generate_dossiers(
            store, name, version=version, kinds=kinds or KINDS, answers=answers, root=out, pdf=pdf
        )
    for run in runs:
        subject = f" {run.subject}" if run.subject else ""
        missing = f", missing: {', '.join(run.missing)}" if run.missing else ""
        click.echo(
            f"{run.kind}{subject}: r{run.revision} {run.status} ({run.verdict}{missing}) {run.path}"
        )
        if run.pdf_error:
            click.echo(
                terminal_safe(
                    f"warning: no archival PDF for {run.path} ({run.pdf_error}); the package is "
                    f"complete without it: add it with `cmlops package pdf {run.path}`"
                ),
                err=True,
            )


@model.command("impact")
@click.argument("name")
@click.argument("version", type=int)
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Validation data scored by both versions.",
)
@click.option("--score-new", required=True, help="Column of the new version's probability.")
@click.option("--score-previous", required=True, help="Column of the previous version's.")
@click.option("--outcome", default="outcome", show_default=True, help="Binary outcome column.")
@click.option("--previous", type=int, help="The version compared with (default: the one before).")
@click.option(
    "--subgroups", help="Comma-separated columns (default: the protocol's sensitive attributes)."
)
@click.option(
    "--threshold",
    type=float,
    default=0.5,
    show_default=True,
    help="Decision threshold for net benefit.",
)
@click.option(
    "--plan",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Acceptance plan on the differences (default: AUROC non-inferiority 0.05).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Package folder (default: reports/model_impact-...).",
)
@click.pass_context
def impact_cmd(
    ctx: click.Context,
    name: str,
    version: int,
    data: Path,
    score_new: str,
    score_previous: str,
    outcome: str,
    previous: int | None,
    subgroups: str | None,
    threshold: float,
    plan: Path | None,
    out: Path | None,
) -> None:
    """Compare VERSION with the previous one on the same data (paired DeLong, calibration)."""
    from cmlops.lifecycle.impact import assess_impact

    groups = [s.strip() for s in subgroups.split(",") if s.strip()] if subgroups else None
    with open_cli_store(ctx) as store:
        record = assess_impact(
            store,
            name,
            version,
            data,
            score_new=score_new,
            score_previous=score_previous,
            outcome=outcome,
            previous=previous,
            subgroups=groups,
            threshold=threshold,
            plan=plan,
            out=out,
        )
    low, high = record["auroc_difference_ci"]
    click.echo(
        f"{name} v{record['version']} vs v{record['previous_version']}: AUROC difference "
        f"{record['auroc_difference']} (95% CI {low} to {high}, p "
        f"{record['auroc_difference_p_value']}); verdict {record['verdict']}; "
        f"package {record['path']}"
    )
