"""``cmlops traceability``: the requirements → tests → last result matrix."""

from __future__ import annotations

from pathlib import Path

import click

from cmlops.terminal_text import terminal_safe


@click.command("traceability")
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A test-results file (default: the results of the full test run shipped with cmlops).",
)
@click.option(
    "--catalogue",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The requirements catalogue (default: the one shipped with cmlops).",
)
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), help="Write Markdown.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write HTML.")
def traceability(
    results: Path | None, catalogue: Path | None, markdown: Path | None, html: Path | None
) -> None:
    """Each requirement, the clauses it serves, its tests and their last result.

    Prints one line per requirement (PASS, FAIL or NOT RUN) and writes the
    matrix as Markdown and/or HTML when asked.
    """
    from cmlops.atomic_files import write_atomic
    from cmlops.selftest.requirements import load_requirements
    from cmlops.selftest.results import load_results, outcomes_by_test
    from cmlops.selftest.traceability import build_matrix, results_facts, to_html, to_markdown

    requirements = load_requirements(catalogue)
    document = load_results(results)
    rows = build_matrix(requirements, outcomes_by_test(document))
    facts = results_facts(document)
    if markdown is not None:
        write_atomic(markdown, to_markdown(rows, facts))
    if html is not None:
        write_atomic(html, to_html(rows, facts))
    for row in rows:
        click.echo(terminal_safe(f"{row.status:8} {row.requirement.id} {row.requirement.title}"))
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("PASS", "FAIL", "NOT RUN")}
    click.echo(
        f"{len(rows)} requirements: {counts['PASS']} PASS, {counts['FAIL']} FAIL, "
        f"{counts['NOT RUN']} NOT RUN"
    )
