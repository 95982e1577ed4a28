"""What the commands share: option decorators, printing, the progress display."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

import click

from spotclust import SpotclustError
from spotclust.output import FORMATS, terminal_text


class FailedAfterCommit(click.ClickException):
    """The command's work was committed, then a later step (the chart pages, printing) failed
    or was interrupted: exit 3, never 1, which means nothing was changed."""

    exit_code = 3


def db_option(command):
    """--db PATH (or SPOTCLUST_DB); default warehouse/spotclust.duckdb."""
    return click.option(
        "--db",
        type=click.Path(readable=False),
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


def charts_options(command):
    """--no-charts and --charts-dir, for the commands that end by writing the chart pages."""
    command = click.option(
        "--charts-dir",
        type=click.Path(file_okay=False),
        default="charts",
        show_default=True,
        help="Where the chart pages go.",
    )(command)
    return click.option("--no-charts", is_flag=True, help="Do not write the chart pages.")(command)


MODEL_OPTIONS = [
    click.option(
        "--features",
        default=None,
        metavar="A,B,...",
        help="Comma-separated features [default: the 12 of feature_selection].",
    ),
    click.option(
        "--pca",
        "pca_components",
        type=int,
        default=2,
        show_default=True,
        help="PCA components to cluster on.",
    ),
    click.option("--no-pca", is_flag=True, help="Cluster the scaled features directly."),
    click.option("--seed", type=int, default=0, show_default=True, help="Random seed."),
    click.option("--n-init", type=int, default=10, show_default=True, help="k-means restarts."),
    click.option(
        "--rows",
        "row_rule",
        type=click.Choice(["tracks", "listings"]),
        default="tracks",
        show_default=True,
        help="tracks: one row per track; listings: every genre listing (as the notebook).",
    ),
    click.option(
        "--algorithm",
        type=click.Choice(["kmeans", "minibatch"]),
        default="kmeans",
        show_default=True,
        help="minibatch: MiniBatchKMeans, for very large data.",
    ),
    click.option(
        "--silhouette-sample",
        type=int,
        default=None,
        metavar="N",
        help="Estimate silhouette from N rows (with a 95% CI) instead of exactly.",
    ),
    click.option(
        "--exact-silhouette",
        is_flag=True,
        help="Exact silhouette even above the size where it switches to a sample.",
    ),
    click.option("-q", "--quiet", is_flag=True, help="No progress display."),
]


def model_options(command):
    """Options shared by cluster and sweep: what is clustered and how."""
    for option in reversed(MODEL_OPTIONS):
        command = option(command)
    return command


def config_options(features, no_pca, pca_components, **options) -> dict:
    """The model options as the API's keyword arguments (ClusterConfig fields)."""
    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features else None
    return {**options, "features": names, "pca_components": None if no_pca else pca_components}


def echo(text: str) -> None:
    """Print a block of output; control characters from data or paths are shown escaped."""
    if text:
        click.echo(terminal_text(text))


@contextmanager
def after_commit(committed: str, unfinished: str):
    """The steps after a command's commit (printing, chart pages): a failure or Ctrl-C in
    them is reported as 'committed run 7; charts not written: ...', with exit status 3."""
    try:
        yield
    except KeyboardInterrupt:
        problem = "interrupted (Ctrl-C)"
    except SpotclustError as exc:
        problem = terminal_text(str(exc))
    else:
        return
    raise FailedAfterCommit(f"committed {committed}; {unfinished}: {problem}")


_INTEGER = re.compile(r"[+-]?(0|[1-9]\d*)")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def guess_type(value: str):
    """Command-line values arrive as text; bind plain numbers as numbers so comparisons work.

    Only plain decimal notation counts: '007', 'nan', 'inf' and '1_000' stay text.
    """
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value) and not value.lstrip("+-").startswith(("00",)):
        return float(value)
    return value


@contextmanager
def progress(quiet: bool, total: int, label: str):
    """A per-stage progress display on a terminal; silent in pipes, CI and with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(name) -> None:
            bar.update(task, description=f"{label}: {name}")
            bar.advance(task)

        yield advance
