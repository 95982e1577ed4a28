"""The report: one self-contained page telling a run's story with its numbers."""

from __future__ import annotations

import click

import spotclust
from spotclust.cli.options import CHARTS_FOLDER, db_option, echo


@click.command()
@click.option(
    "--run", "run_id", type=int, default=None, help="Run to report [default: the latest]."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"The report's file [default: {CHARTS_FOLDER}report.html].",
)
@db_option
def report(run_id, out, db):
    """Write report.html: the data and its cleaning, the features, PCA, the evidence for k,
    each cluster, the agreement with genres and how to repeat the run, with a few charts, in
    one file that works offline."""
    echo(f"Report: open {spotclust.report(run_id, out, db)}")
