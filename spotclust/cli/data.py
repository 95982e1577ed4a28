"""Commands that load, query and write out data: ingest, sql, tables, export, synth."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

import click

import spotclust
from spotclust.cli import maintenance
from spotclust.cli.options import (
    after_commit,
    command_line,
    db_option,
    echo,
    format_option,
    guess_type,
    hint,
)
from spotclust.output import render, stream, terminal_text


def ingest_options(command):
    """How a file of another shape is read: --map, --mapping and --label-column."""
    options = [
        click.option(
            "--map",
            "column_map",
            multiple=True,
            metavar="CANONICAL=COLUMN",
            help="Read the file's COLUMN as CANONICAL, e.g. --map artists=Artist (repeatable).",
        ),
        click.option(
            "--mapping",
            "mapping_file",
            type=click.Path(dir_okay=False),
            default=None,
            help="A TOML or JSON file of CANONICAL = COLUMN pairs (--map wins).",
        ),
        click.option(
            "--label-column",
            default=None,
            metavar="COLUMN",
            help="The column used as the genre label, e.g. playlist_subgenre.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True, readable=False))
@ingest_options
@db_option
def ingest(path, column_map, mapping_file, label_column, db):
    """Load PATH (CSV, .csv.gz or Parquet) into the warehouse; default: the shipped dataset.

    The file's shape (the shipped dataset, SpotifyFeatures, the 600k and 170k datasets,
    tracks_features, genres_v2, tidytuesday's spotify_songs, an Exportify playlist, or any
    table with columns named like the canonical ones) is detected from its header.
    Replaces the previous data in one transaction and re-applies the SQL models.
    """
    result = spotclust.ingest(
        path, db, column_map=spotclust.read_column_map(column_map, mapping_file),
        label_column=label_column,
    )  # fmt: skip
    if result.unchanged:
        echo(
            f"already ingested: {result.source} has the same content as ingest "
            f"{result.ingest_id}; nothing changed"
        )
        return
    with after_commit(f"ingest {result.ingest_id}", "the result not printed"):
        _print_ingest(result, db)


def _print_ingest(result, db) -> None:
    rows = [
        ("source", str(result.source)),
        ("shape", f"{result.shape}: {result.description}"),
        ("rows loaded", result.rows),
        ("distinct tracks", result.distinct_tracks),
        ("genres", result.genres),
        ("rows set aside by cleaning", result.rows_set_aside),
        ("clean tracks (one row each)", result.clean_tracks),
        ("seconds", round(result.seconds, 2)),
    ]
    echo(render(["ingest", f"#{result.ingest_id}"], rows))
    if result.shape != "spotify_tracks" or result.ignored:
        echo(render(["canonical column", "from the file's column"], list(result.columns.items())))
    if result.ignored:
        echo(f"Kept in raw_tracks.extra but not used: {', '.join(result.ignored)}")
    if result.rescaled:
        echo(f"Rescaled from 0..100 to 0..1: {', '.join(result.rescaled)}")
    absent = [c for c in spotclust.AUDIO_FEATURES if c not in result.columns]
    if absent:
        echo(f"Not in this file (left out of the features): {', '.join(absent)}")
    if not result.genres:
        echo("No genre column: genre breakdowns, agreement scores and genre charts are skipped.")
    hint("See why rows were set aside", command_line("sql", "SELECT * FROM cleaning_report", db=db))


@click.command()
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

    csv, json and markdown print every row as it comes; a table shows the first 1,000 rows
    and counts the rest.

    Example: spotclust sql "SELECT genre, count(*) FROM tracks WHERE popularity > $p
    GROUP BY genre" -p p 80
    """
    bound = {name: guess_type(value) for name, value in params}
    batched = spotclust.query_batches(query, bound, db, write=write, external_access=allow_external)
    with batched as (columns, batches):
        if columns:  # printed inside the query's transaction: with --write, all or nothing
            _print_chunks(stream(columns, batches, fmt), write)


def _print_chunks(chunks: Iterable[str], write: bool) -> None:
    """Print each chunk as it comes. A reader that stops early (`| head`) ends the printing
    quietly, and --write keeps its changes (every statement had run); any other failure to
    write the output is an error, and --write changes nothing."""
    try:
        for chunk in chunks:
            click.echo(terminal_text(chunk), nl=False)
    except BrokenPipeError:
        # What is left in the buffer goes to /dev/null, not into an error at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except OSError as exc:
        kept = "; nothing was changed" if write else ""
        raise click.ClickException(
            f"cannot write the output: {exc.strerror or exc}{kept}"
        ) from None


@click.command()
@click.option("--check", "verify", is_flag=True, help="Verify the warehouse: `spotclust check`.")
@format_option
@db_option
@click.pass_context
def tables(ctx, verify, fmt, db):
    """List the warehouse's tables and views with row counts and what each holds."""
    if verify:
        ctx.invoke(maintenance.check, fmt=fmt, db=db)
        return
    echo(render(["name", "kind", "rows", "description"], spotclust.tables(db), fmt))


@click.command()
@click.option(
    "--run", "run_id", type=int, default=None, help="Run to export [default: the latest]."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default=None,
    help="File format [default: from the --out suffix; parquet when it has none].",
)
@click.option("--out", required=True, type=click.Path(), help="File to write (.parquet or .csv).")
@db_option
def export(run_id, fmt, out, db):
    """Write a run's assignments with the tracks' details and cluster labels to a file."""
    path, rows = spotclust.export(run_id, fmt, out=out, db=db)
    echo(f"exported {rows} rows to {path}")


@click.command()
@click.option("--rows", type=int, required=True, help="How many tracks to write.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help=".csv, .csv.gz or .parquet"
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same file.")
@click.option(
    "--source",
    type=click.Path(dir_okay=False),
    default=None,
    help="Fit the per-genre distributions to this file [default: the shipped dataset].",
)
def synth(rows, out, seed, source):
    """Write synthetic tracks with the dataset's schema and per-genre distributions."""
    path = spotclust.synth(rows, out, seed=seed, source=source)
    echo(f"wrote {rows} synthetic tracks to {path}")
