"""Commands that look after the warehouse itself: check."""

from __future__ import annotations

import click

import spotclust
from spotclust.cli.options import db_option, echo, format_option
from spotclust.output import printable, render


@click.command()
@format_option
@db_option
@click.pass_context
def check(ctx, fmt, db):
    """Verify the warehouse end to end, read-only: it opens, its schema version, every table
    and view reads to its last row, and the rows agree (each run's assignments, clusters and
    sizes; the last ingest's rows). Exit 0 when all is well; 1, with one line per problem on
    stderr, when not."""
    report = spotclust.check(db)
    rows = [(f.check, f.status, f.detail) for f in report.findings]
    echo(render(["check", "status", "detail"], rows, fmt))
    for problem in report.problems:
        click.echo(printable(f"problem: {problem.check}: {problem.detail}"), err=True)
    if report.problems:
        ctx.exit(1)
