"""Name the clusters of a run from its centroids and top genres ("calm, acoustic · ambient")."""

from __future__ import annotations

import duckdb

from spotclust.warehouse import read_sql

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
        read_sql("queries/label_centroids.sql"),
        {"run_id": run_id},
    ).fetchall()
    genre_rows = con.execute(
        read_sql("queries/label_genres.sql"),
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
