"""The spotclust command line: parse options, call the Python API, print. No logic here."""

from __future__ import annotations

import sys

import click

from spotclust import __version__, warehouse
from spotclust.errors import SpotclustError
from spotclust.ingest import ingest as run_ingest
from spotclust.output import FORMATS, render


class SpotclustGroup(click.Group):
    """Turns every SpotclustError into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SpotclustError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=SpotclustGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spotclust")
def cli():
    """Cluster music tracks by their audio features, with everything in a DuckDB warehouse."""


def db_option(command):
    """--db PATH (or SPOTCLUST_DB); default warehouse/spotclust.duckdb."""
    return click.option(
        "--db",
        type=click.Path(dir_okay=False),
        envvar="SPOTCLUST_DB",
        default=None,
        help="Warehouse file [env SPOTCLUST_DB; default warehouse/spotclust.duckdb].",
    )(command)


def format_option(command):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format; csv and json are fit for piping.",
    )(command)


def echo(text: str) -> None:
    if text:
        click.echo(text)


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True))
@db_option
def ingest(path, db):
    """Load PATH (CSV, .csv.gz or Parquet) into the warehouse; default: the shipped dataset.

    Replaces the previous data in one transaction and re-applies the SQL views.
    """
    result = run_ingest(path, db)
    rows = [
        ("source", str(result.source)),
        ("rows loaded", result.rows),
        ("distinct tracks", result.distinct_tracks),
        ("genres", result.genres),
        ("rows set aside by cleaning", result.rows_set_aside),
        ("clean tracks (one row each)", result.clean_tracks),
        ("seconds", round(result.seconds, 2)),
    ]
    echo(render(["ingest", f"#{result.ingest_id}"], rows))
    echo("See why rows were set aside: spotclust sql 'SELECT * FROM cleaning_report'")


@cli.command()
@click.argument("query")
@click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="Bind $NAME in the query to VALUE (repeatable).",
)
@click.option("--write", is_flag=True, help="Allow the query to change the warehouse.")
@click.option(
    "--allow-external",
    is_flag=True,
    help="Allow reading/writing files, ATTACH, INSTALL and LOAD (off by default).",
)
@format_option
@db_option
def sql(query, params, write, allow_external, fmt, db):
    """Run QUERY on the warehouse (read-only unless --write).

    Example: spotclust sql "SELECT genre, count(*) FROM tracks WHERE popularity > $p
    GROUP BY genre" -p p 80
    """
    bound = {name: _guess_type(value) for name, value in params}
    columns, rows = warehouse.run_query(
        query, bound, db, write=write, external_access=allow_external
    )
    if columns:
        echo(render(columns, rows, fmt))


def _guess_type(value: str):
    """Command-line values arrive as text; bind numbers as numbers so comparisons work."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


@cli.command()
@format_option
@db_option
def tables(fmt, db):
    """List the warehouse's tables and views with row counts and what each holds."""
    con = warehouse.connect(db, read_only=True)
    try:
        relations = warehouse.list_relations(con)
    finally:
        con.close()
    echo(render(["name", "kind", "rows", "description"], relations, fmt))


def main() -> None:
    cli(prog_name="spotclust")


if __name__ == "__main__":
    sys.exit(main())
