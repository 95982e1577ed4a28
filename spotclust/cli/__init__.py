"""The spotclust command line: parse options, call the Python API, print. No logic here."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

import click
from rich.console import Console

from spotclust import __version__, warehouse
from spotclust.errors import SpotclustError
from spotclust.ingest import ingest as run_ingest
from spotclust.output import FORMATS, render, render_json

# Commands import the modelling stack (scikit-learn, numba) only when they need it, so that
# `spotclust sql` and `spotclust tables` start in a fraction of a second.


class OneLineUsageError(click.ClickException):
    """A bad option or argument: one line naming it, with where to read about it; exit 2."""

    exit_code = 2

    def __init__(self, error: click.UsageError):
        where = error.ctx.command_path if error.ctx is not None else "spotclust"
        super().__init__(f"{error.format_message()} (see `{where} --help`)")


class SpotclustGroup(click.Group):
    """Turns every SpotclustError into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        import duckdb

        try:
            return super().invoke(ctx)
        except SpotclustError as exc:
            raise click.ClickException(str(exc)) from None
        except click.UsageError as exc:
            # click would print a usage block and a hint before the error: keep it one line.
            raise OneLineUsageError(exc) from None
        except RuntimeError as exc:
            if str(exc) != "Query interrupted":
                raise
            # Ctrl-C inside a DuckDB query (DuckDB raises RuntimeError, not KeyboardInterrupt):
            # the transaction has rolled back; say so in one line like any other Ctrl-C.
            raise click.Abort() from None
        except duckdb.OutOfMemoryException:
            raise click.ClickException(
                "DuckDB ran out of its memory budget: set SPOTCLUST_MEMORY_LIMIT higher "
                f"(now {warehouse.memory_limit()}), e.g. SPOTCLUST_MEMORY_LIMIT=4GB"
            ) from None
        except duckdb.Error as exc:  # a bug or an environment problem: still one line
            if problem := warehouse.explain_write_error(None, str(exc)):
                raise click.ClickException(problem) from None  # e.g. the log cannot be made
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise click.ClickException(f"unexpected database error: {first}") from None


@click.group(cls=SpotclustGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spotclust")
def cli():
    """Cluster music tracks by their audio features, with everything in a DuckDB warehouse."""


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


def echo(text: str) -> None:
    if text:
        click.echo(text)


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True, readable=False))
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


_INTEGER = re.compile(r"[+-]?(0|[1-9]\d*)")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def _guess_type(value: str):
    """Command-line values arrive as text; bind plain numbers as numbers so comparisons work.

    Only plain decimal notation counts: '007', 'nan', 'inf' and '1_000' stay text.
    """
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value) and not value.lstrip("+-").startswith(("00",)):
        return float(value)
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


def model_options(command):
    """Options shared by cluster and sweep: what is clustered and how."""
    options = [
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
    for option in reversed(options):
        command = option(command)
    return command


def _config(k, features, pca_components, no_pca, seed, n_init, row_rule, algorithm,
            silhouette_sample, exact_silhouette):  # fmt: skip
    from spotclust.clustering import ClusterConfig

    names = tuple(f.strip() for f in features.split(",") if f.strip()) if features else None
    return ClusterConfig(
        k=k,
        features=names,
        pca_components=None if no_pca else pca_components,
        seed=seed,
        n_init=n_init,
        row_rule=row_rule,
        algorithm=algorithm,
        silhouette_sample=silhouette_sample,
        exact_silhouette=exact_silhouette,
    )


@contextmanager
def _progress(quiet: bool, total: int, label: str):
    """A per-stage progress display on a terminal; silent in pipes, CI and with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)

        def advance(name) -> None:
            progress.update(task, description=f"{label}: {name}")
            progress.advance(task)

        yield advance


@cli.command()
@click.option("--k", type=int, default=4, show_default=True, help="Number of clusters.")
@click.option(
    "--repeat",
    "repeat_run",
    type=int,
    default=None,
    metavar="RUN_ID",
    help="Run RUN_ID again with its recorded config; report if assignments are identical.",
)
@charts_options
@model_options
@db_option
def cluster(k, repeat_run, no_charts, charts_dir, quiet, db, **options):
    """Cluster the clean tracks into K groups and write the run to the warehouse."""
    from spotclust.clustering import STAGES, repeat
    from spotclust.clustering import run as run_cluster

    check = None
    with _progress(quiet, total=len(STAGES), label="cluster") as on_stage:
        if repeat_run is not None:  # the recorded config replaces the model options
            result, check = repeat(repeat_run, db, on_stage)
        else:
            result = run_cluster(_config(k, **options), db, on_stage)
    config = result.config
    rows = [
        (c["cluster"], c["size"], f"{c['share']:.1%}", c["label"], c["distinctive_features"])
        for c in result.summary
    ]
    echo(
        render(["cluster", "size", "share", "label: traits · top genres", "distinctive (z)"], rows)
    )
    m = result.metrics
    silhouette = "n/a" if m["silhouette"] is None else f"{m['silhouette']:.4f}"
    if m["silhouette_method"] == "sampled":
        silhouette += (
            f" (sampled from {m['silhouette_sample_size']} rows, "
            f"95% CI {m['silhouette_ci_low']:.4f}..{m['silhouette_ci_high']:.4f})"
        )
    echo(
        f"run {result.run_id}: k={config.k}, {result.rows_used} rows, silhouette {silhouette}, "
        f"Calinski-Harabasz {m['calinski_harabasz']:.1f}, "
        f"Davies-Bouldin {m['davies_bouldin']:.3f}, "
        f"adjusted Rand vs genre {m['adjusted_rand']:.3f}, {result.timings['total']:.1f} s"
    )
    echo(
        'Explore: spotclust sql "SELECT * FROM genre_breakdown WHERE run_id = '
        f'{result.run_id} AND rank_in_cluster <= 10"'
    )
    if check is not None:
        same = "identical" if check.identical else f"different in {check.rows_differing} rows"
        data = "same data" if check.same_data else "the data changed since (new ingest)"
        echo(
            f"Repeat of run {check.original_run}: assignments {same} "
            f"({check.rows_compared} rows compared; {data})"
        )
    if not no_charts:
        from spotclust.charts import save_all

        echo(f"Charts: open {save_all(db, result.run_id, charts_dir)}")


@cli.command()
@click.option(
    "--k", "k_range", default="2..12", show_default=True, help="Range (2..12) or list (2,4,8) of k."
)
@click.option(
    "--no-silhouette", is_flag=True, help="Skip the silhouette (inertia and cheap scores only)."
)
@click.option(
    "--stability",
    "stability_pairs",
    type=int,
    default=10,  # sweeps.DEFAULT_STABILITY (not imported: --help must stay fast)
    show_default=True,
    metavar="N",
    help="Resample pairs per k for stability (adjusted Rand between them); 0 skips it.",
)
@click.option("--gap", is_flag=True, help="Also compute the gap statistic and the gap rule.")
@click.option(
    "--gap-refs",
    type=int,
    default=None,
    metavar="N",
    help="Uniform reference datasets per k for the gap statistic [default 5]; implies --gap.",
)
@model_options
@db_option
def sweep(k_range, no_silhouette, stability_pairs, gap, gap_refs, quiet, db, **options):
    """Fit k-means for each k and score it: the elbow plot's numbers, stability, optionally
    the gap statistic, and a suggested k with the evidence for it."""
    from spotclust.sweeps import DEFAULT_GAP_REFS, parse_k_range
    from spotclust.sweeps import sweep as run_sweep

    ks = parse_k_range(k_range)
    config = _config(2, **options)  # k itself comes from the range
    if gap_refs is None:
        gap_refs = DEFAULT_GAP_REFS if gap else 0
    with _progress(quiet, total=len(ks), label="sweep") as on_k:
        result = run_sweep(
            ks,
            config,
            db,
            on_k=lambda k: on_k(f"k={k}"),
            score_silhouette=not no_silhouette,
            stability_pairs=stability_pairs,
            gap_refs=gap_refs,
        )

    def plus_minus(value, error):
        return None if value is None else f"{value:.3f} ± {error:.3f}"

    columns = ["k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    rows = []
    for r in result.rows:
        row = [r["k"], r["inertia"], r["silhouette"], r["calinski_harabasz"], r["davies_bouldin"]]
        if result.stability_pairs:
            row.append(plus_minus(r["stability_mean"], r["stability_std"]))
        if result.gap_refs:
            row.append(plus_minus(r["gap"], r["gap_se"]))
        rows.append((*row, ", ".join(result.picks(r["k"]))))
    columns += ["stability (ARI)"] if result.stability_pairs else []
    columns += ["gap"] if result.gap_refs else []
    echo(render([*columns, ""], rows))
    echo(f"sweep {result.sweep_id}: suggested k = {result.suggested_k} ({result.evidence})")
    echo(f"why: {result.suggestion_reason}")


@cli.command()
@click.option("--run", "run_id", type=int, default=None, help="Run to chart [default: the latest].")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="charts",
    show_default=True,
    help="Directory for the pages.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "png", "svg"]),
    default="html",
    show_default=True,
    help="html pages work offline; png and svg are for reports.",
)
@db_option
def charts(run_id, out_dir, fmt, db):
    """Write one page per chart of a run, plus index.html (pages work offline)."""
    from spotclust.charts import save_all

    echo(f"Charts: open {save_all(db, run_id, out_dir, fmt)}")


def _feature_options(command):
    """One --<feature> option per audio feature, for `place`."""
    from spotclust.features import AUDIO_FEATURES

    for feature in reversed(AUDIO_FEATURES):
        command = click.option(
            f"--{feature.replace('_', '-')}",
            feature,
            type=float,
            default=None,
            help=f"The song's {feature}.",
        )(command)
    return command


@cli.command()
@click.option("--name", default=None, help="A name for the song given by feature options.")
@_feature_options
@click.option(
    "--file",
    "song_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV or JSON of songs (columns: feature names, optional name).",
)
@click.option("--track-id", "track_ids", multiple=True, help="A warehouse track (repeatable).")
@click.option("--run", "run_id", type=int, default=None, help="Run to use [default: the latest].")
@click.option("--neighbours", type=click.IntRange(0, 1000), default=10, show_default=True)
@format_option
@db_option
def place(name, song_file, track_ids, run_id, neighbours, fmt, db, **features):
    """Place your own songs (or warehouse tracks) into the clusters of a run.

    Example: spotclust place --name "My song" --danceability 0.8 --energy 0.9 --tempo 128
    """
    from spotclust.place import place as run_place
    from spotclust.place import read_songs, version_note

    songs = read_songs(song_file) if song_file else []
    given = {f: v for f, v in features.items() if v is not None}
    if given:
        songs.insert(0, {"name": name, **given})
    model, placements = run_place(songs, list(track_ids), run_id, db, neighbours)
    if note := version_note(model):
        click.echo(note, err=True)
    if fmt == "json":
        echo(render_json([vars(p) for p in placements]))
        return
    rows = [
        (p.name, p.cluster, p.label, f"{p.typicality:.0%}", p.distances[p.cluster],
         ", ".join(p.assumed) or "-")
        for p in placements
    ]  # fmt: skip
    echo(
        render(["song", "cluster", "label", "more typical than", "distance", "assumed"], rows, fmt)
    )
    if fmt != "table":
        return
    for p in placements:
        echo(f"\n{p.name}: distance to each centroid (run {model.run_id})")
        echo(render(["cluster", "label", "distance"], [
            (c, model.labels[c], d) for c, d in enumerate(p.distances)
        ]))  # fmt: skip
        if p.neighbours:
            echo(f"{p.name}: the {len(p.neighbours)} nearest tracks (scaled features)")
            echo(render(
                ["artists", "track_name", "genres", "cluster", "distance"],
                [(t["artists"], t["track_name"], t["genres"], t["cluster"], t["distance"])
                 for t in p.neighbours],
            ))  # fmt: skip


@cli.command()
@click.option("--run", "run_id", type=int, default=None, help="Run to explain [default: latest].")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True)
@format_option
@db_option
def explain(run_id, top, fmt, db):
    """Why each cluster is what it is: effect sizes, genres by share and lift, typical tracks."""
    from spotclust.labels import explain as run_explain
    from spotclust.place import resolve_run

    con = warehouse.connect(db, read_only=True)
    try:
        run_id = resolve_run(con, run_id)
        explanations = run_explain(con, run_id, top)
    finally:
        con.close()
    if fmt == "json":
        echo(render_json([vars(e) for e in explanations]))
        return
    for e in explanations:
        echo(f"\ncluster {e.cluster} of run {run_id}: {e.label} ({e.size} tracks, {e.share:.1%})")
        echo(render(
            ["feature", "cluster mean", "rest mean", "Cohen's d"],
            [(x["feature"], x["mean"], x["rest_mean"], x["cohens_d"]) for x in e.effects],
            fmt,
        ))  # fmt: skip
        echo(render(
            ["top genre by share", "tracks", "share of cluster"],
            [(g["genre"], g["tracks"], g["share_of_cluster"]) for g in e.genres_by_share],
            fmt,
        ))  # fmt: skip
        echo(render(
            ["top genre by lift", "tracks", "share of cluster", "lift"],
            [(g["genre"], g["tracks"], g["share_of_cluster"], g["lift"]) for g in e.genres_by_lift],
            fmt,
        ))  # fmt: skip
        echo(render(
            ["representative track", "artists", "genre", "distance"],
            [(t["track_name"], t["artists"], t["genre"], t["distance"]) for t in e.representative],
            fmt,
        ))  # fmt: skip


@cli.command()
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Chart page to write [default: charts/compare_A_B.html].",
)
@click.option("--no-chart", is_flag=True, help="Do not write the chart page.")
@format_option
@db_option
def compare(run_a, run_b, out, no_chart, fmt, db):
    """Compare two runs on their common tracks: adjusted Rand, NMI, and how tracks moved
    between clusters (the contingency table). With csv or json, stdout holds the table only."""
    from spotclust.compare import CONTINGENCY_COLUMNS, save_chart
    from spotclust.compare import compare as run_compare

    result = run_compare(run_a, run_b, db)
    to_stderr = fmt in ("csv", "json")  # keep stdout parseable
    click.echo(result.summary, err=to_stderr)
    rows = [[cell[c] for c in CONTINGENCY_COLUMNS] for cell in result.contingency]
    echo(render(list(CONTINGENCY_COLUMNS), rows, fmt))
    if not no_chart:
        click.echo(f"Chart: open {save_chart(result, out)}", err=to_stderr)


@cli.command()
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
    from spotclust.export import export as run_export

    path, rows = run_export(run_id, fmt, out=out, db=db)
    echo(f"exported {rows} rows to {path}")


@cli.command()
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
    from spotclust.synth import synthesize

    path = synthesize(rows, out, seed=seed, source=source)
    echo(f"wrote {rows} synthetic tracks to {path}")


@cli.command("run")
@click.argument("path", required=False, type=click.Path(dir_okay=True, readable=False))
@click.option("--k", type=int, default=4, show_default=True, help="Number of clusters.")
@click.option(
    "--sweep",
    "k_range",
    default="1..10",
    show_default=True,
    help="The elbow step's k range (as the notebook: 1..10), or 'none' to skip it.",
)
@click.option(
    "--sweep-silhouette", is_flag=True, help="Also score every k of the sweep by silhouette."
)
@click.option(
    "--stability",
    "stability_pairs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Resample pairs per k for the sweep's stability (0 skips it).",
)
@charts_options
@model_options
@db_option
@click.pass_context
def run_all(ctx, path, k, k_range, sweep_silhouette, stability_pairs, quiet, db, **options):
    """The whole analysis in one go: ingest PATH (default: the shipped dataset), the elbow
    sweep, cluster with K, profiles and genres, and the chart pages.

    The same as `ingest`, `sweep` and `cluster` one after another, in one process.
    """
    no_charts, charts_dir = options.pop("no_charts"), options.pop("charts_dir")
    ctx.invoke(ingest, path=path, db=db)
    if k_range.lower() != "none":
        ctx.invoke(sweep, k_range=k_range, no_silhouette=not sweep_silhouette,
                   stability_pairs=stability_pairs, gap=False, gap_refs=None, quiet=quiet,
                   db=db, **options)  # fmt: skip
    ctx.invoke(cluster, k=k, repeat_run=None, no_charts=no_charts, charts_dir=charts_dir,
               quiet=quiet, db=db, **options)  # fmt: skip


def main() -> None:
    cli(prog_name="spotclust")


if __name__ == "__main__":
    sys.exit(main())
