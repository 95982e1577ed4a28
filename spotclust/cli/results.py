"""Commands that read a run: charts, place, explain, compare."""

from __future__ import annotations

import click

import spotclust
from spotclust.cli.options import CHARTS_FOLDER, db_option, echo, format_option
from spotclust.output import render, render_json


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="Run to chart [default: the latest].")
@click.option(
    "--sweep",
    "sweep_id",
    type=int,
    default=None,
    help="Sweep the elbow and stability pages draw [default: the latest].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help=f"Directory for the pages [default: {CHARTS_FOLDER}].",
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
def charts(run_id, sweep_id, out_dir, fmt, db):
    """Write one page per chart of a run, plus index.html (pages work offline)."""
    echo(f"Charts: open {spotclust.write_charts(run_id, out_dir, fmt, db, sweep_id)}")


def _feature_options(command):
    """One --<feature> option per audio feature, for `place`."""
    for feature in reversed(spotclust.AUDIO_FEATURES):
        command = click.option(
            f"--{feature.replace('_', '-')}",
            feature,
            type=float,
            default=None,
            help=f"The song's {feature}.",
        )(command)
    return command


@click.command()
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
    given = {f: v for f, v in features.items() if v is not None}
    songs = [{"name": name, **given}] if given else []
    model, placements = spotclust.place(songs, track_ids, run_id, db, neighbours, song_file)
    if note := model.version_note():
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
    if fmt == "table":
        _print_details(model, placements)


DETAILED_SONGS = 10  # songs whose centroid distances and neighbours a table shows


def _print_details(model, placements) -> None:
    for p in placements[:DETAILED_SONGS]:
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
    if len(placements) > DETAILED_SONGS:
        echo(
            f"\n(distances and nearest tracks of the other {len(placements) - DETAILED_SONGS} "
            "songs: --format json)"
        )


@click.command()
@click.option("--run", "run_id", type=int, default=None, help="Run to explain [default: latest].")
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True)
@format_option
@db_option
def explain(run_id, top, fmt, db):
    """Why each cluster is what it is: effect sizes, genres by share and lift, typical tracks."""
    run_id, explanations = spotclust.explain(run_id, top, db)
    if fmt == "json":
        echo(render_json([vars(e) for e in explanations]))
        return
    has_genres = any(e.genres_by_share for e in explanations)
    if not has_genres:
        echo("This data has no genre column: genre tables are left out.")
    for e in explanations:
        echo(f"\ncluster {e.cluster} of run {run_id}: {e.label} ({e.size} tracks, {e.share:.1%})")
        echo(render(
            ["feature", "cluster mean", "rest mean", "Cohen's d"],
            [(x["feature"], x["mean"], x["rest_mean"], x["cohens_d"]) for x in e.effects],
            fmt,
        ))  # fmt: skip
        if has_genres:
            echo(render(
                ["top genre by share", "tracks", "share of cluster"],
                [(g["genre"], g["tracks"], g["share_of_cluster"]) for g in e.genres_by_share],
                fmt,
            ))  # fmt: skip
            echo(render(
                ["top genre by lift", "tracks", "share of cluster", "lift"],
                [(g["genre"], g["tracks"], g["share_of_cluster"], g["lift"])
                 for g in e.genres_by_lift],
                fmt,
            ))  # fmt: skip
        echo(render(
            ["representative track", "artists", "genre", "distance"],
            [(t["track_name"], t["artists"], t["genre"], t["distance"]) for t in e.representative],
            fmt,
        ))  # fmt: skip


@click.command()
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
    result = spotclust.compare(run_a, run_b, db)
    to_stderr = fmt in ("csv", "json")  # keep stdout parseable
    click.echo(result.summary, err=to_stderr)
    rows = [[cell[c] for c in result.columns] for cell in result.contingency]
    echo(render(list(result.columns), rows, fmt))
    if not no_chart:
        click.echo(f"Chart: open {spotclust.compare_chart(result, out)}", err=to_stderr)
