"""What the commands share: option decorators, printing, the progress display."""

from __future__ import annotations

import re
import shlex
import sys
import textwrap
from contextlib import contextmanager

import click

import spotclust
from spotclust import SpotclustError
from spotclust.output import FORMATS, terminal_text, terminal_width


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


CHARTS_FOLDER = "charts/<warehouse file's stem>/run-<id>/"


def charts_options(command):
    """--no-charts and --charts-dir, for the commands that end by writing the chart pages."""
    command = click.option(
        "--charts-dir",
        type=click.Path(file_okay=False),
        default=None,
        help=f"Where the chart pages go [default: {CHARTS_FOLDER}].",
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


ENGINE_OPTIONS = [
    click.option(
        "--engine",
        type=click.Choice(["local", "spark"]),
        default="local",
        show_default=True,
        help="Where to fit: local (this process) or spark (Apache Spark's MLlib).",
    ),
    click.option(
        "--spark-master",
        default=None,
        metavar="URL",
        help="Spark's master: local[*], local[N], spark://HOST:7077, k8s://https://HOST:PORT "
        "or yarn [env SPOTCLUST_SPARK_MASTER; default local[*]].",
    ),
    click.option(
        "--spark-conf",
        multiple=True,
        metavar="KEY=VALUE",
        help="A Spark setting, e.g. spark.driver.memory=4g (repeatable).",
    ),
    click.option(
        "--spark-stage",
        type=click.Path(file_okay=False),
        default=None,
        metavar="DIR",
        help="Where rows pass to Spark and back as Parquet: on a cluster, storage every "
        "executor reads [default: <warehouse>.spark-stage beside the warehouse].",
    ),
]


def engine_options(command):
    """--engine and Spark's options, for the commands that fit (cluster, sweep, run)."""
    for option in reversed(ENGINE_OPTIONS):
        command = option(command)
    return command


def engine_choice(options: dict):
    """The engine options taken out of a command's options -> the API's spotclust.Engine."""
    return spotclust.Engine(
        options.pop("engine"),
        options.pop("spark_master"),
        options.pop("spark_conf"),
        options.pop("spark_stage"),
    )


def config_options(features, no_pca, pca_components, **options) -> dict:
    """The model options as the API's keyword arguments (ClusterConfig fields)."""
    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features else None
    return {**options, "features": names, "pca_components": None if no_pca else pca_components}


def echo(text: str) -> None:
    """Print a block of output; control characters from data or paths are shown escaped."""
    if text:
        click.echo(terminal_text(text))


def say(text: str) -> None:
    """Print prose: each line folded at spaces to the terminal's width (as it is in a pipe)."""
    width = terminal_width()
    if width:
        text = "\n".join(
            textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
            for line in text.splitlines()
        )
    echo(text)


def command_line(*args, db=None) -> list[str]:
    """`spotclust ARGS` as words to paste into a shell, with the --db that was used (none
    when it was the default and SPOTCLUST_DB unset: click gives db None only then)."""
    return ["spotclust", *map(str, args), *(["--db", str(db)] if db is not None else [])]


def hint(label: str, words: list[str]) -> None:
    """Print 'LABEL: COMMAND', each word quoted for a shell; at a terminal's width the
    command goes on over lines ending in a backslash, which a shell joins when pasted."""
    quoted = [shlex.quote(word) for word in words]
    width = terminal_width()
    lines = [f"{label}: {quoted[0]}"]
    for word in quoted[1:]:
        if width and len(lines[-1]) + len(word) + 3 > width:
            lines[-1] += " \\"
            lines.append("  " + word)
        else:
            lines[-1] += " " + word
    echo("\n".join(lines))


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
def progress(quiet: bool, total: int, label: str, eta: bool = False):
    """A per-stage progress display on a terminal; silent in pipes, CI and with --quiet.
    eta: steps alike enough to count (a sweep's k, each reported as it is done) and the time
    left estimated from them."""
    if quiet or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    counted = [MofNCompleteColumn(), TextColumn("ETA"), TimeRemainingColumn()] if eta else []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        *counted,
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(name) -> None:
            bar.update(task, description=f"{label}: {name}")
            bar.advance(task)

        yield advance
