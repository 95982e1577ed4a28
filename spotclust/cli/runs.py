"""Commands that fit models: cluster, sweep, and run (the whole analysis in one go)."""

from __future__ import annotations

import os

import click
from click.core import ParameterSource

import spotclust
from spotclust.cli.options import (
    after_commit,
    charts_options,
    command_line,
    config_options,
    db_option,
    echo,
    engine_choice,
    engine_options,
    hint,
    model_options,
    progress,
    say,
)
from spotclust.output import render


@click.command()
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
@engine_options
@db_option
def cluster(k, repeat_run, no_charts, charts_dir, quiet, db, **options):
    """Cluster the clean tracks into K groups and write the run to the warehouse."""
    check = None
    engine = engine_choice(options)
    with progress(quiet, total=len(spotclust.STAGES), label="cluster") as on_stage:
        if repeat_run is not None:  # the recorded config replaces the model options
            result, check = spotclust.repeat(repeat_run, db, on_stage, engine)
        else:
            result = spotclust.cluster(k, db, on_stage, engine, **config_options(**options))
    committed = f"run {result.run_id}"
    with after_commit(committed, "the result not printed"):
        _print_run(result, db)
        if check is not None:
            same = "identical" if check.identical else f"different in {check.rows_differing} rows"
            data = "same data" if check.same_data else "the data changed since (new ingest)"
            say(
                f"Repeat of run {check.original_run}: assignments {same} "
                f"({check.rows_compared} rows compared; {data})"
            )
    if not no_charts:
        with after_commit(committed, "charts not written"):
            echo(f"Charts: open {spotclust.write_charts(result.run_id, charts_dir, db=db)}")
        with after_commit(committed, "report not written"):
            out = None if charts_dir is None else os.path.join(charts_dir, "report.html")
            echo(f"Report: open {spotclust.report(result.run_id, out, db)}")


def _spark_line(m: dict) -> str:
    """Where a Spark run ran, and Spark's own silhouette, which measures something else."""
    reference = m.get("silhouette_reference_rows")
    sample = f"; the silhouette above: of a {reference}-row sample" if reference else ""
    return (
        f"fitted by Spark {m['engine_version']} on {m['engine_master']} ({m['kmeans_init']}, "
        f"{m['iterations']} iterations){sample}; Spark's own silhouette (squared Euclidean "
        f"distances, not comparable with the one above): {m['engine_silhouette']:.4f}"
    )


def _genre_agreement(m: dict) -> str:
    if m["adjusted_rand"] is None:
        return "no genres to compare with (the data has no genre column)"
    return f"adjusted Rand vs genre {m['adjusted_rand']:.3f}"


def _print_run(result, db) -> None:
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
    say(
        f"run {result.run_id}: k={result.config.k}, {result.rows_used} rows, "
        f"silhouette {silhouette}, Calinski-Harabasz {m['calinski_harabasz']:.1f}, "
        f"Davies-Bouldin {m['davies_bouldin']:.3f}, "
        f"{_genre_agreement(m)}, {result.timings['total']:.1f} s"
    )
    if m.get("engine") == "spark":
        say(_spark_line(m))
    query = (
        f"SELECT * FROM cluster_summary WHERE run_id = {result.run_id}"
        if m["adjusted_rand"] is None
        else f"SELECT * FROM genre_breakdown WHERE run_id = {result.run_id} "
        "AND rank_in_cluster <= 10"
    )
    hint("Explore", command_line("sql", query, db=db))


@click.command()
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
    default=10,  # model.selection.DEFAULT_STABILITY (not imported: --help must stay fast)
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
@charts_options
@model_options
@engine_options
@db_option
def sweep(k_range, no_silhouette, stability_pairs, gap, gap_refs, no_charts, charts_dir, quiet, db,
          **options):  # fmt: skip
    """Fit k-means for each k and score it: the elbow plot's numbers, stability, optionally
    the gap statistic, and a suggested k with the evidence for it. Refreshes the elbow and
    stability pages of the latest run where they were written."""
    if gap_refs is None and not gap:
        gap_refs = 0  # None: the API's default number of reference sets
    result = _swept(k_range, quiet, db, options, not no_silhouette, stability_pairs, gap_refs)
    if not no_charts:
        committed = f"sweep {result.sweep_id}"
        with after_commit(committed, "the elbow and stability pages not redrawn"):
            index = spotclust.write_charts(None, charts_dir, db=db, sweep_id=result.sweep_id,
                                           refresh=True)  # fmt: skip
            if index is not None:
                say(f"Charts: the elbow and stability pages redrawn with it: open {index}")


def _swept(k_range, quiet, db, options, score_silhouette, stability_pairs, gap_refs):
    """The sweep, with its progress display (an ETA over the k), printed -> SweepResult."""
    options = dict(options)  # run passes the same options on to cluster
    engine = engine_choice(options)
    with progress(quiet, len(spotclust.parse_k_range(k_range)), "sweep", eta=True) as on_k:
        result = spotclust.sweep(
            k_range,
            db,
            on_k=lambda k: on_k(f"k={k} fitted"),
            score_silhouette=score_silhouette,
            stability_pairs=stability_pairs,
            gap_refs=gap_refs,
            engine=engine,
            **config_options(**options),
        )
    with after_commit(f"sweep {result.sweep_id}", "the result not printed"):
        _print_sweep(result)
    return result


def _span(ks: list[int]) -> str:
    """The k swept, as the --k option gives them: '2..12', or '2, 4, 8'."""
    if ks == list(range(ks[0], ks[-1] + 1)) and len(ks) > 2:
        return f"{ks[0]}..{ks[-1]}"
    return ", ".join(map(str, ks))


def _print_sweep(result) -> None:
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
    suggested = (
        "no suggested k" if result.suggested_k is None else f"suggested k = {result.suggested_k}"
    )
    say(f"sweep {result.sweep_id}: {suggested} ({result.evidence})")
    say(f"why: {result.suggestion_reason}")
    if result.knee_k is not None:
        say(
            "The knee is where the inertia curve bends most over the k swept "
            f"({_span([r['k'] for r in result.rows])}): it depends on that range, and another "
            "range can move it."
        )


@click.command("run")
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
    "--sweep-silhouette/--no-sweep-silhouette",
    default=True,
    show_default=True,
    help="Score every k of the sweep by silhouette (sampled above 5,000 rows).",
)
@click.option(
    "--stability",
    "stability_pairs",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Resample pairs per k for the sweep's stability (0 skips it).",
)
@charts_options
@model_options
@engine_options
@db_option
@click.pass_context
def run_all(ctx, path, k, k_range, sweep_silhouette, stability_pairs, quiet, db, **options):
    """The whole analysis in one go: ingest PATH (default: the shipped dataset), the elbow
    sweep, cluster with K, profiles and genres, the chart pages and report.html.

    The same as `ingest`, `sweep` and `cluster` one after another, in one process.
    """
    import gc

    from spotclust import preload
    from spotclust.cli.data import ingest

    no_charts, charts_dir = options.pop("no_charts"), options.pop("charts_dir")
    loading = preload.start()  # the model and chart stack, while DuckDB ingests
    ctx.invoke(ingest, path=path, db=db)
    loading.join()
    gc.freeze()  # the imported stack lives to the end: the collections of the run skip it
    with after_commit("the ingest", "the analysis not finished"):
        if k_range.lower() != "none":
            swept = _swept(k_range, quiet, db, options, sweep_silhouette, stability_pairs, 0)
            if swept.suggested_k is not None and swept.suggested_k != k:
                default = ctx.get_parameter_source("k") == ParameterSource.DEFAULT
                say(_not_suggested(k, default, swept))
        ctx.invoke(cluster, k=k, repeat_run=None, no_charts=no_charts, charts_dir=charts_dir,
                   quiet=quiet, db=db, **options)  # fmt: skip


def _not_suggested(k: int, default: bool, swept) -> str:
    """One line: why `run` clusters with a k other than the one its sweep suggests."""
    given = "the default of `run`, the original analysis's k" if default else "as given"
    return (
        f"Clustering with k = {k} ({given}), not the sweep's suggested k = {swept.suggested_k} "
        f"({swept.suggestion_reason}): that was measured over k = "
        f"{_span([r['k'] for r in swept.rows])}, and another range can move it. "
        f"Pass --k {swept.suggested_k} to cluster with it."
    )
