"""The runs a warehouse holds: `spotclust runs` (list), `runs delete ID...`, `runs keep`."""

from __future__ import annotations

import click

import spotclust
from spotclust.cli.options import db_option, echo, format_option
from spotclust.output import render


@click.group(invoke_without_command=True)
@format_option
@db_option
@click.pass_context
def runs(ctx, fmt, db):
    """List the runs (the default), or delete some: `runs delete 3 4`, `runs keep --last 5`.

    A run is deleted whole: its row in runs and its rows in every table with a run_id, in
    one transaction.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_runs, fmt=fmt, db=db)


def _db(db):
    """--db given after the subcommand, else before it (`runs --db W delete 3`)."""
    return db if db is not None else click.get_current_context().parent.params["db"]


@runs.command("list")
@format_option
@db_option
def list_runs(fmt, db):
    """List every run: run_id, status, k, features, silhouette, rows used, created."""
    columns, rows = spotclust.run_rows(_db(db))
    if not rows and fmt == "table":
        echo("no clustering runs yet: run `spotclust cluster`")
        return
    echo(render(columns, rows, fmt))


@runs.command()
@click.argument("run_ids", metavar="ID...", nargs=-1, required=True, type=int)
@db_option
def delete(run_ids, db):
    """Delete these runs and every row of them, all or nothing (an unknown ID: nothing is
    deleted). Example: spotclust runs delete 3 4"""
    deleted = spotclust.delete_runs(run_ids, _db(db))
    echo(f"deleted {_runs(deleted)}")


@runs.command()
@click.option(
    "--last", type=click.IntRange(min=0), required=True, help="How many of the newest runs to keep."
)
@db_option
def keep(last, db):
    """Delete every run but the newest N, all or nothing. Example: spotclust runs keep --last 5"""
    deleted = spotclust.keep_runs(last, _db(db))
    if deleted:
        echo(f"deleted {_runs(deleted)}; kept the newest {last}")
    else:
        echo(f"nothing to delete: the warehouse holds no more than {last} runs")


def _runs(ids) -> str:
    """'run 3 (its rows in every table)' or 'runs 3, 4 (their rows in every table)'."""
    listed = ", ".join(map(str, ids))
    if len(ids) == 1:
        return f"run {listed} (its rows in every table)"
    return f"runs {listed} (their rows in every table)"
