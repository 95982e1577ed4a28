"""The numbers of a run's report, told in the order of the original analysis: the data and
its cleaning, the features, PCA, the evidence for k, each cluster, the agreement with genres
and how to repeat the run.

Every sentence is a template filled from the warehouse's numbers: nothing here is a claim
written by hand. The page itself (HTML, charts) is charts/report_page.py; the specs of the
charts it draws are read here with the numbers, at the same time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from spotclust.features import ROW_RULES
from spotclust.model.selection import SweepResult
from spotclust.runs.explain import explanations
from spotclust.runs.resolve import check_run_data, resolve_run
from spotclust.warehouse import connection, read_sql

SHUFFLE_SEED = 0  # the genres' permutation for the baseline: the same report every time
STRONG_R = 0.6  # correlations worth a sentence
CHARTS = ("correlations", "pca_map", "elbow", "profiles")  # the charts the sections may draw


@dataclass(frozen=True)
class Section:
    """One part of the report: a title, sentences, an optional table and the charts after."""

    key: str
    title: str
    sentences: list[str]
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    charts: tuple[str, ...] = ()  # names of charts (charts/registry.py) drawn after it
    specs: dict[str, dict] = field(default_factory=dict)  # their Vega-Lite specs, by name


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _rows(con, sql: str, params: dict) -> list[dict]:
    result = con.execute(sql, params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _data_section(con, run: dict) -> Section:
    steps = _rows(con, "SELECT * FROM cleaning_report ORDER BY step", {})
    source = con.execute(
        "SELECT source_path, source_sha256 FROM ingests WHERE ingest_id = $i",
        {"i": run["ingest_id"]},
    ).fetchone()
    loaded, kept = steps[0]["rows_in"], steps[-1]["rows_out"]
    sentences = [
        f"The file {source[0] if source else '?'} had {loaded:,} rows; after cleaning, "
        f"{kept:,} tracks remain ({_pct(kept / loaded if loaded else None)} of the rows).",
        *(
            f"Step {s['step']}, {s['name']}: {s['rows_removed']:,} "
            f"{'row' if s['rows_removed'] == 1 else 'rows'} set aside ({s['reason']})."
            for s in steps[1:]
        ),
        f"The run clustered {run['rows_used']:,} rows (row rule: {run['row_rule']}).",
    ]
    columns = ["step", "name", "rows in", "rows out", "rows removed", "reason"]
    rows = [
        [str(s["step"]), s["name"], _num(s["rows_in"]), _num(s["rows_out"]),
         _num(s["rows_removed"]), s["reason"]]
        for s in steps
    ]  # fmt: skip
    return Section("data", "The data and its cleaning", sentences, columns, rows)


def _features_section(con, run: dict) -> Section:
    selection = _rows(con, "SELECT * FROM feature_selection", {})
    pairs = con.execute(read_sql("queries/report_correlations.sql"), {"min_r": STRONG_R})
    used = list(run["features"])
    sentences = [
        f"The run clusters on {len(used)} features: {', '.join(used)}.",
        *(f"{a} and {b} correlate strongly (r = {r:.2f})." for a, b, r in pairs.fetchall()),
        *(
            f"{f['feature']} is left out of the default set: {f['reason']}."
            for f in selection
            if not f["in_default"]
        ),
    ]
    columns = ["feature", "in the default set", "most correlated with", "r", "reason"]
    rows = [
        [f["feature"], "yes" if f["in_default"] else "no", f["most_correlated_with"] or "",
         _num(f["r"], 2), f["reason"]]
        for f in selection
    ]  # fmt: skip
    return Section(
        "features", "Features and their correlations", sentences, columns, rows,
        charts=("correlations",),
    )  # fmt: skip


def _pca_section(con, run: dict) -> Section:
    if not run["pca_components"]:
        return Section("pca", "PCA", ["The run clusters the scaled features directly (no PCA)."])
    shares = [
        r[0]
        for r in con.execute(
            read_sql("charts/explained_variance.sql"), {"run_id": run["run_id"]}
        ).fetchall()
    ]
    n, kept = run["pca_components"], run["explained_variance"]
    sentences = [
        f"{n} component{'s' if n != 1 else ''} keep {_pct(kept)} of the variance "
        f"of the {len(run['features'])} scaled features.",
        *(f"pc{i} keeps {_pct(share)}." for i, share in enumerate(shares, 1)),
    ]
    return Section("pca", "What PCA keeps", sentences, charts=("pca_map",))


def _sweep_section(con) -> Section:
    sweep_id = con.execute("SELECT max(sweep_id) FROM sweeps").fetchone()[0]
    if sweep_id is None:
        return Section(
            "sweep", "The evidence for k",
            ["There is no sweep in this warehouse: `spotclust sweep` measures the evidence."],
        )  # fmt: skip
    rows = _rows(con, read_sql("queries/sweep_rows.sql"), {"sweep_id": sweep_id})

    def flagged(flag: str):
        return next((r["k"] for r in rows if r[flag]), None)

    result = SweepResult(
        sweep_id=sweep_id, rows=rows, knee_k=flagged("is_knee"),
        best_silhouette_k=flagged("is_best_silhouette"),
        most_stable_k=flagged("is_most_stable"), gap_k=flagged("is_gap_choice"),
        suggested_k=flagged("is_suggested"),
        suggestion_reason=rows[0]["suggestion_reason"] or "",
        stability_pairs=rows[0]["stability_pairs"] or 0, gap_refs=rows[0]["gap_refs"] or 0,
    )  # fmt: skip
    suggested = result.suggested_k
    sentences = [
        f"Sweep {sweep_id} fitted k = {rows[0]['k']} to {rows[-1]['k']} over "
        f"{rows[0]['rows_used']:,} rows. What each kind of evidence picks: {result.evidence}.",
        "No k is suggested." if suggested is None
        else f"Suggested: k = {suggested} ({result.suggestion_reason}).",
    ]  # fmt: skip
    columns = ["k", "inertia", "silhouette", "stability (ARI)", "gap", "picked by"]
    table = [
        [str(r["k"]), _num(r["inertia"], 1), _num(r["silhouette"]), _num(r["stability_mean"]),
         _num(r["gap"]), ", ".join(result.picks(r["k"]))]
        for r in rows
    ]  # fmt: skip
    return Section("sweep", "The evidence for k", sentences, columns, table, charts=("elbow",))


def _cluster_sentences(e) -> list[str]:
    effects = "; ".join(
        f"{x['feature']} (d = {x['cohens_d']:+.2f}: mean {x['mean']:.3g} against "
        f"{x['rest_mean']:.3g} elsewhere)"
        for x in e.effects[:3]
    )
    genres = ", ".join(
        f"{g['genre']} ({g['lift']:.1f}x, {g['tracks']:,} tracks)" for g in e.genres_by_lift
    )
    typical = "; ".join(
        f"{t['track_name']} by {t['artists']} ({t['genre']}, distance {t['distance']:.3f})"
        for t in e.representative
    )
    return [
        f"Cluster {e.cluster}, {e.label or 'unnamed'}: {e.size:,} tracks ({_pct(e.share)}).",
        f"Most distinctive features: {effects or 'none'}.",
        f"Genres by lift: {genres}." if genres else "No genre has 10 tracks here to weigh.",
        f"Most typical tracks (nearest the centroid): {typical or 'none'}.",
    ]


def _on_cursor(section, cursor, *args):
    """section(cursor, *args) on a thread of its own; the cursor closed after."""
    with cursor:
        return section(cursor, *args)


def _clusters_sections(con, run_id: int) -> list[Section]:
    sections = [
        Section(f"cluster-{e.cluster}", f"Cluster {e.cluster}: {e.label}", _cluster_sentences(e))
        for e in explanations(con, run_id, 3)
    ]
    if sections:  # the profiles chart after the last cluster
        last = sections[-1]
        sections[-1] = Section(last.key, last.title, last.sentences, charts=("profiles",))
    return sections


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _contingency(truth: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rows of each truth x label (whole numbers from 0), as a truth x labels table."""
    width = int(labels.max()) + 1
    table = np.bincount(truth * width + labels, minlength=(int(truth.max()) + 1) * width)
    return table.astype(np.int64).reshape(-1, width)


def _purity(table: np.ndarray, n: int) -> float:
    """The share of the n rows whose truth is the most common truth of their label."""
    return float(table.max(axis=0).sum() / n)


def purity(truth: np.ndarray, labels: np.ndarray) -> float | None:
    """agreement's purity alone (None: no rows)."""
    return _purity(_contingency(truth, labels), len(labels)) if len(labels) else None


def agreement(truth: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """(adjusted Rand, NMI, purity) of labels against truth (whole numbers from 0), from their
    contingency table: scikit-learn's adjusted_rand_score and normalized_mutual_info_score
    (arithmetic mean), without its per-call checks (tests/test_report.py compares them)."""
    n, table = len(labels), _contingency(truth, labels)
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    purity = _purity(table, n)
    # ordered pairs of rows: together in both (tp), in truth only (fn), in labels only (fp)
    same = int((table**2).sum())
    fn, fp = int(rows @ rows) - same, int(columns @ columns) - same
    tp, tn = same - n, n * n - fp - fn - same
    if fn == fp == 0:  # the same partition
        ari = 1.0
    else:
        ari = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    if (rows > 0).sum() == (columns > 0).sum() == 1:
        return ari, 1.0, purity
    i, j = np.nonzero(table)
    share = table[i, j] / n
    terms = share * np.log(share * n * n / (rows[i] * columns[j]).astype(np.float64))
    mi = max(float(np.where(np.abs(terms) < np.finfo(float).eps, 0.0, terms).sum()), 0.0)
    nmi = mi / ((_entropy(rows) + _entropy(columns)) / 2) if mi > 0 else 0.0
    return ari, nmi, purity


def shuffled_agreement(clusters: np.ndarray, genres: np.ndarray, seed: int = SHUFFLE_SEED):
    """(adjusted Rand, NMI, purity) of the clusters against the genres permuted at random:
    what agreement chance alone gives (genres: whole numbers from 0)."""
    shuffled = np.random.default_rng(seed).permutation(genres)
    return agreement(shuffled, clusters)


def _agreement_section(con, run: dict) -> Section:
    title = "Clusters and genres"
    if run["adjusted_rand"] is None:
        return Section("genres", title, ["This data has no genres to compare the clusters with."])
    params = {"run_id": run["run_id"], "table": ROW_RULES[run["row_rule"]]}
    pairs = con.sql(read_sql("queries/report_genres.sql"), params=params).pl()
    genres = pairs["genre"].cast(pl.Categorical).to_physical()  # a whole number per genre
    clusters = pairs["cluster"].to_numpy().astype(np.int64)
    genres = genres.to_numpy().astype(np.int64)
    ari0, nmi0, purity0 = shuffled_agreement(clusters, genres)
    found = purity(genres, clusters)  # the share of rows in their cluster's main genre
    sentences = [
        f"Against the genres, the clusters score adjusted Rand {_num(run['adjusted_rand'])}, "
        f"NMI {_num(run['normalized_mutual_info'])} and purity {_pct(found)}.",
        f"With the genres shuffled at random (seed {SHUFFLE_SEED}), the same clusters would "
        f"score adjusted Rand {_num(ari0)}, NMI {_num(nmi0)} and purity {_pct(purity0)}.",
    ]
    columns = ["", "adjusted Rand", "NMI", "purity"]
    rows = [
        ["this run", _num(run["adjusted_rand"]), _num(run["normalized_mutual_info"]),
         _pct(found)],
        ["shuffled genres", _num(ari0), _num(nmi0), _pct(purity0)],
    ]  # fmt: skip
    return Section("genres", title, sentences, columns, rows)


def repeat_command(run: dict) -> str:
    """The command that fits the run again with its config."""
    parts = ["spotclust", "cluster", "--k", str(run["k"]), "--features", ",".join(run["features"])]
    parts += ["--pca", str(run["pca_components"])] if run["pca_components"] else ["--no-pca"]
    parts += ["--seed", str(run["seed"]), "--n-init", str(run["n_init"])]
    parts += ["--rows", run["row_rule"], "--algorithm", run["algorithm"]]
    if run["silhouette_method"] == "sampled" and run["silhouette_sample_size"]:
        parts += ["--silhouette-sample", str(run["silhouette_sample_size"])]
    return " ".join(parts)


def _metadata_section(con, run: dict) -> Section:
    source = con.execute(
        "SELECT source_path, source_sha256 FROM ingests WHERE ingest_id = $i",
        {"i": run["ingest_id"]},
    ).fetchone() or ("?", "?")
    facts = [
        ("run", str(run["run_id"])),
        ("created", str(run["created_at"])),
        ("config", f"k {run['k']}, {run['algorithm']}, pca {run['pca_components']}, "
                   f"n_init {run['n_init']}, rows {run['row_rule']}"),
        ("seed", str(run["seed"])),
        ("spotclust version", run["spotclust_version"]),
        ("library versions", f"scikit-learn {run['sklearn_version']}, duckdb "
                             f"{run['duckdb_version']}, numpy {run['numpy_version']}"),
        ("data file", source[0]),
        ("file sha256", source[1]),
        ("data sha256", run["data_sha256"]),
        ("the exact command", repeat_command(run)),
        ("or", f"spotclust cluster --repeat {run['run_id']}"),
    ]  # fmt: skip
    return Section(
        "repeat", "Repeating this run",
        ["To repeat the run, ingest the same file (the sha256 below) and run the command."],
        ["", "value"], [[k, v] for k, v in facts],
    )  # fmt: skip


def report_sections(run_id: int | None = None, db: str | Path | None = None):
    """(the run's row, [Section] with the specs of their charts) for the report of run_id
    (default: the latest).

    DuckDB runs each of these small queries on one core, so several threads read at once,
    each through a cursor of its own: the clusters' sections (explain), the agreement with
    the genres, the charts' specs (charts/report_page.py, two more; none when the run's pages
    were just written) and, here, the other sections."""
    from spotclust.charts.report_page import report_charts

    with connection(db, read_only=True) as con, ThreadPoolExecutor(3) as pool:
        run = resolve_run(con, run_id)
        check_run_data(con, run, then="write the report")
        clusters = pool.submit(_on_cursor, _clusters_sections, con.cursor(), run["run_id"])
        agreeing = pool.submit(_on_cursor, _agreement_section, con.cursor(), run)
        charts = pool.submit(report_charts, db, run["run_id"], CHARTS)
        before = [_data_section(con, run), _features_section(con, run), _pca_section(con, run),
                  _sweep_section(con)]  # fmt: skip
        after = [agreeing.result(), _metadata_section(con, run)]
        sections, specs = [*before, *clusters.result(), *after], charts.result()
    return run, [replace(s, specs={name: specs[name] for name in s.charts}) for s in sections]
