"""The per-genre model of a Spotify Tracks file (the shipped dataset by default), fitted with
DuckDB.

For each genre the model keeps, from the real listings of that genre (rows with every field
present and ``tempo > 0``):

* the sorted values of each of the 15 numeric features, whose empirical distribution a draw
  inverts (see ``features``);
* the rank correlations between features (a Gaussian copula: correlation of normal scores), so
  that within a genre energy still goes with loudness, acousticness against energy, and so on;
* how many tracks it shares with each other genre, and so how often its rows repeat a track
  listed under another genre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from spotclust.errors import InputFileError
from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset
from spotclust.files.source_file import detect_format

# The 15 numeric features (popularity .. time_signature), in COLUMN_TYPES order.
FEATURES = tuple(c for c, t in COLUMN_TYPES.items() if t != "VARCHAR")

# Measured on the shipped dataset (114,000 rows).
REPEAT_RATE = 24_259 / 114_000  # rows whose track_id was listed earlier (multi-genre tracks)
MAX_REPEAT_RATE = 0.6
MIN_FIT_ROWS = 100  # fit a genre to all its listings when it has fewer own tracks


@dataclass(frozen=True)
class GenreModel:
    """Per-genre distributions fitted to a Spotify Tracks file."""

    genres: tuple[str, ...]
    values: tuple[np.ndarray, ...]  # per genre: (n_g, 15) float64, every column sorted
    chol: np.ndarray  # (G, 15, 15) Cholesky factors of the normal-score correlations
    repeat_rate: np.ndarray  # (G,) chance that a row of the genre repeats another genre's track
    colisting: np.ndarray  # (G, G) tracks the two genres share in the source (0 on the diagonal)


def fit_model(source: str | Path | None = None) -> GenreModel:
    """Fit per-genre distributions (sorted values, copula correlations, co-listings) with DuckDB."""
    path = Path(source) if source is not None else shipped_dataset()
    if not path.is_file():
        raise InputFileError(f"no such file: {path}: check the path")
    with duckdb.connect() as con:
        con.execute(
            f"CREATE TEMP TABLE src AS SELECT * FROM {_source_relation(path)}", {"path": str(path)}
        )
        genres, table = _fitting_rows(con, path)
        pairs, shared = _genre_pairs(con), _multi_genre_shares(con)
    index = {g: i for i, g in enumerate(genres)}
    values, chols = _sorted_values_and_copulas(table)
    return GenreModel(
        tuple(genres),
        tuple(values),
        np.stack(chols),
        _repeat_rates(shared, index),
        _colisting_matrix(pairs, index),
    )


def _source_relation(path: Path) -> str:
    if detect_format(path) == "parquet":
        return "read_parquet($path)"
    return "read_csv($path, header = true, quote = '\"', escape = '\"')"


def _fitting_rows(
    con: duckdb.DuckDBPyConnection, path: Path
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The genres with complete rows, and the rows each is fitted to, ordered by genre."""
    columns = ", ".join(f'CAST("{f}" AS DOUBLE) AS "{f}"' for f in FEATURES)
    complete = " AND ".join(f'"{c}" IS NOT NULL' for c in COLUMN_TYPES)
    genres = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT track_genre FROM src WHERE {complete} AND tempo > 0 ORDER BY 1"
        ).fetchall()
    ]
    if not genres:
        raise InputFileError(f"{path}: no complete rows to fit distributions to")
    # Fit each genre to its own tracks (listed under no other genre) when it has enough:
    # the multi-genre tracks are added back as copies of other genres' tracks.
    table = con.execute(
        f"""
        WITH fit AS (
            SELECT track_genre, {columns},
                   count(DISTINCT track_genre) OVER (PARTITION BY track_id) = 1 AS own
            FROM src WHERE {complete} AND tempo > 0
        )
        SELECT * EXCLUDE (own) FROM fit
        QUALIFY own OR count(*) FILTER (WHERE own) OVER (PARTITION BY track_genre) < $least
        ORDER BY track_genre, {", ".join(f'"{f}"' for f in FEATURES)}
        """,
        {"least": MIN_FIT_ROWS},
    ).fetchnumpy()
    return genres, table


def _genre_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(genre, other genre, tracks listed under both), for every pair that shares a track."""
    return con.execute(
        """
        WITH listing AS (SELECT DISTINCT track_id, track_genre FROM src
                         WHERE track_id IS NOT NULL AND track_genre IS NOT NULL)
        SELECT a.track_genre, b.track_genre, count(*)
        FROM listing AS a JOIN listing AS b USING (track_id)
        WHERE a.track_genre <> b.track_genre
        GROUP BY ALL
        """
    ).fetchall()


def _multi_genre_shares(con: duckdb.DuckDBPyConnection) -> list[tuple[str, float]]:
    """(genre, share of its rows whose track is also listed under another genre)."""
    return con.execute(
        """
        WITH listing AS (SELECT track_id, track_genre,
                                count(DISTINCT track_genre) OVER (PARTITION BY track_id) AS n
                         FROM src WHERE track_id IS NOT NULL AND track_genre IS NOT NULL)
        SELECT track_genre, avg((n > 1)::DOUBLE) FROM listing GROUP BY ALL
        """
    ).fetchall()


def _sorted_values_and_copulas(
    table: dict[str, np.ndarray],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per genre of the (genre-ordered) fitting rows: sorted columns and copula factor."""
    labels = table["track_genre"]
    matrix = np.column_stack([np.asarray(table[f], dtype=np.float64) for f in FEATURES])
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1], True])
    values, chols = [], []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        block = matrix[start:end]
        values.append(np.sort(block, axis=0))
        chols.append(_copula_cholesky(block))
    return values, chols


def _copula_cholesky(block: np.ndarray) -> np.ndarray:
    """Cholesky factor of the correlation of the normal scores of each column."""
    n, f = block.shape
    if n < 3:
        return np.eye(f)
    scores = ndtri(rankdata(block, axis=0) / (n + 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(scores, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)  # constant columns: independent
    np.fill_diagonal(corr, 1.0)
    # Nearest positive-definite correlation: clip eigenvalues, restore the unit diagonal.
    w, v = np.linalg.eigh(corr)
    corr = (v * np.clip(w, 1e-6, None)) @ v.T
    d = np.sqrt(np.diag(corr))
    corr = corr / np.outer(d, d)
    return np.linalg.cholesky(corr)


def _colisting_matrix(pairs: list[tuple[str, str, int]], index: dict[str, int]) -> np.ndarray:
    """(G, G) tracks shared by two fitted genres (pairs with an unfitted genre are left out)."""
    colisting = np.zeros((len(index), len(index)))
    for a, b, n in pairs:
        if a in index and b in index:
            colisting[index[a], index[b]] = n
    return colisting


def _repeat_rates(shared: list[tuple[str, float]], index: dict[str, int]) -> np.ndarray:
    """(G,) each genre's chance of repeating a track: its share of multi-genre tracks, scaled
    so that the genres average the real repeat rate (before the cap)."""
    share = np.zeros(len(index))
    for genre, s in shared:
        if genre in index:
            share[index[genre]] = s
    mean_share = share.mean()
    if mean_share > 0:
        return np.clip(share * REPEAT_RATE / mean_share, 0, MAX_REPEAT_RATE)
    return share
