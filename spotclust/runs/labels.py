"""Name and explain the clusters of a run: short labels, effect sizes, genres, typical tracks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from spotclust import warehouse

# How to say that a cluster sits above / below the average on a feature.
WORDS = {
    "popularity": ("popular", "obscure"),
    "explicit": ("explicit", "clean"),
    "danceability": ("danceable", "hard to dance to"),
    "energy": ("energetic", "calm"),
    "key": ("higher keys", "lower keys"),
    "mode": ("major", "minor"),
    "speechiness": ("speechy", "little speech"),
    "acousticness": ("acoustic", "low acousticness"),
    "instrumentalness": ("instrumental", "vocal"),
    "liveness": ("live", "studio"),
    "tempo": ("fast", "slow"),
    "time_signature": ("longer bars", "shorter bars"),
    "loudness": ("loud", "quiet"),
    "valence": ("cheerful", "gloomy"),
    "duration_ms": ("long", "short"),
}
TRAIT_MIN_Z = 0.5  # a trait must be at least half a standard deviation from the average
MAX_TRAITS = 3
MAX_GENRES = 3


def describe_traits(z_by_feature: dict[str, float]) -> str:
    """'energetic, low acousticness' from standardised means, strongest first."""
    ranked = sorted(z_by_feature.items(), key=lambda item: (-abs(item[1]), item[0]))
    strong = [(f, z) for f, z in ranked if abs(z) >= TRAIT_MIN_Z][:MAX_TRAITS]
    if not strong:  # an average cluster: name its strongest lean, and say it is mild
        feature, z = ranked[0]
        return f"average (slightly {_word(feature, z)})"
    return ", ".join(_word(f, z) for f, z in strong)


def _word(feature: str, z: float) -> str:
    high, low = WORDS.get(feature, (f"high {feature}", f"low {feature}"))
    return high if z > 0 else low


def write_labels(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Label every cluster of the run from its centroids and genre_breakdown (same transaction)."""
    z_rows = con.execute(
        "SELECT cluster, dimension, value FROM centroids "
        "WHERE run_id = $run_id AND space = 'scaled'",
        {"run_id": run_id},
    ).fetchall()
    genre_rows = con.execute(
        """
        SELECT cluster, list(genre ORDER BY rank_in_cluster)
        FROM genre_breakdown WHERE run_id = $run_id AND rank_in_cluster <= $top
        GROUP BY cluster
        """,
        {"run_id": run_id, "top": MAX_GENRES},
    ).fetchall()
    genres = dict(genre_rows)
    z: dict[int, dict[str, float]] = {}
    for cluster, feature, value in z_rows:
        z.setdefault(cluster, {})[feature] = value
    rows = []
    for cluster in sorted(z):
        traits = describe_traits(z[cluster])
        top = ", ".join(genres.get(cluster, []))
        rows.append((run_id, cluster, f"{traits} · {top}" if top else traits, traits, top))
    con.executemany("INSERT INTO cluster_labels VALUES (?, ?, ?, ?, ?)", rows)


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


def explain(con: duckdb.DuckDBPyConnection, run_id: int, top: int = 5) -> list[Explanation]:
    """Why each cluster of a run is what it is."""
    warehouse.check_run_data(con, run_id, then="explain")
    params = {"run_id": run_id}
    profiles = con.execute(
        "SELECT cluster, feature, count, mean, std FROM cluster_profiles WHERE run_id = $run_id",
        params,
    ).fetchall()
    summary = con.execute(
        """
        SELECT s.cluster, coalesce(l.label, ''), s.size, s.share
        FROM cluster_summary s LEFT JOIN cluster_labels l USING (run_id, cluster)
        WHERE s.run_id = $run_id ORDER BY s.cluster
        """,
        params,
    ).fetchall()
    genres = con.execute(
        """
        WITH overall AS (
            SELECT genre, sum(tracks) / sum(sum(tracks)) OVER () AS overall_share
            FROM genre_breakdown WHERE run_id = $run_id GROUP BY genre
        )
        SELECT b.cluster, b.genre, b.tracks, b.share_of_cluster,
               b.share_of_cluster / o.overall_share AS lift
        FROM genre_breakdown b JOIN overall o USING (genre)
        WHERE b.run_id = $run_id
        """,
        params,
    ).fetchall()
    representative = con.execute(
        """
        SELECT cluster, track_id, artists, track_name, genre, distance FROM (
            SELECT a.cluster, a.track_id, t.artists, t.track_name, t.genre, a.distance,
                   row_number() OVER (
                       PARTITION BY a.cluster ORDER BY a.distance, a.row_number
                   ) AS rank
            FROM assignments a JOIN tracks t USING (track_id)
            WHERE a.run_id = $run_id
        ) WHERE rank <= $top ORDER BY cluster, rank
        """,
        {**params, "top": top},
    ).fetchall()

    out = []
    for cluster, label, size, share in summary:
        effects = _effects(profiles, cluster)
        mine = [g for g in genres if g[0] == cluster]
        by_share = sorted(mine, key=lambda g: (-g[2], g[1]))[:top]
        by_lift = sorted((g for g in mine if g[2] >= 10), key=lambda g: (-g[4], g[1]))[:top]
        out.append(
            Explanation(
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
        )
    return out


def _effects(profiles: list[tuple], cluster: int) -> list[dict]:
    """Cohen's d of each feature: the cluster against all other rows of the run, pooled sd."""
    effects = []
    for feature in sorted({p[1] for p in profiles}):
        rows = [p for p in profiles if p[1] == feature]
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
