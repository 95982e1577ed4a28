"""Why each cluster of a run is what it is: effect sizes, genres by share and lift, and
the tracks nearest its centroid."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb

from spotclust.runs.resolve import check_run_data, resolve_run
from spotclust.warehouse import connection, read_sql


@dataclass(frozen=True)
class Explanation:
    cluster: int
    label: str
    size: int
    share: float
    effects: list[dict]  # feature, cluster mean, rest mean, Cohen's d; largest |d| first
    genres_by_share: list[dict]  # genre, tracks, share of cluster
    genres_by_lift: list[dict]  # genre, tracks, share of cluster, lift
    representative: list[dict]  # the tracks closest to the centroid


def explain(
    run_id: int | None = None, top: int = 5, db: str | Path | None = None
) -> tuple[int, list[Explanation]]:
    """Why each cluster of a run (default: the latest) is what it is: (run_id, explanations)."""
    with connection(db, read_only=True) as con:
        run = resolve_run(con, run_id)
        check_run_data(con, run, then="explain")
        return run["run_id"], explanations(con, run["run_id"], top)


def explanations(con: duckdb.DuckDBPyConnection, run_id: int, top: int) -> list[Explanation]:
    """The explanation of each cluster of run run_id (found and checked by the caller)."""
    params = {"run_id": run_id}
    profiles = con.execute(read_sql("queries/explain_profiles.sql"), params).fetchall()
    summary = con.execute(read_sql("queries/explain_summary.sql"), params).fetchall()
    genres = con.execute(read_sql("queries/explain_genres.sql"), params).fetchall()
    representative = (
        con.execute(
            read_sql("queries/explain_representative.sql"), {**params, "top": top}
        ).fetchall()
        if top > 0
        else []  # (min_by takes at least one)
    )
    return [
        _explanation(cluster, label, size, share, top, profiles, genres, representative)
        for cluster, label, size, share in summary
    ]


def _explanation(cluster, label, size, share, top, profiles, genres, representative):
    effects = _effects(profiles, cluster)
    mine = [g for g in genres if g[0] == cluster]
    by_share = sorted(mine, key=lambda g: (-g[2], g[1]))[:top]
    by_lift = sorted((g for g in mine if g[2] >= 10), key=lambda g: (-g[4], g[1]))[:top]
    return Explanation(
        cluster=cluster,
        label=label,
        size=size,
        share=share,
        effects=effects[:top],
        genres_by_share=[
            {"genre": g, "tracks": n, "share_of_cluster": s} for _, g, n, s, _ in by_share
        ],
        genres_by_lift=[
            {"genre": g, "tracks": n, "share_of_cluster": s, "lift": lift}
            for _, g, n, s, lift in by_lift
        ],
        representative=[
            {"track_id": t, "artists": a, "track_name": name, "genre": g, "distance": d}
            for c, t, a, name, g, d in representative
            if c == cluster
        ],
    )


def _effects(profiles: list[tuple], cluster: int) -> list[dict]:
    """Cohen's d of each feature: the cluster against all other rows of the run, pooled sd."""
    effects = []
    for feature in sorted({p[1] for p in profiles}):
        # count 0: the data has no value of the feature (absent from the file)
        rows = [p for p in profiles if p[1] == feature and p[2]]
        inside = [p for p in rows if p[0] == cluster]
        rest = [p for p in rows if p[0] != cluster]
        if not inside or not rest:
            continue
        _, _, n_c, mean_c, sd_c = inside[0]
        n_r = sum(p[2] for p in rest)
        mean_r = sum(p[2] * p[3] for p in rest) / n_r
        # variance of the union of the other clusters: within plus between parts
        ss_r = sum((p[2] - 1) * (p[4] or 0) ** 2 + p[2] * (p[3] - mean_r) ** 2 for p in rest)
        pooled = math.sqrt(((n_c - 1) * (sd_c or 0) ** 2 + ss_r) / max(n_c + n_r - 2, 1))
        d = (mean_c - mean_r) / pooled if pooled > 0 else 0.0
        effects.append({"feature": feature, "mean": mean_c, "rest_mean": mean_r, "cohens_d": d})
    return sorted(effects, key=lambda e: -abs(e["cohens_d"]))
