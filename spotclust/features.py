"""Which columns become the feature matrix, and its trip DuckDB -> Arrow -> polars -> numpy."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from spotclust.errors import ConfigError, WarehouseError

# Row rules: which rows of the clean data are clustered.
ROW_RULES = {
    "tracks": "tracks",  # one row per track_id (default)
    "listings": "valid_rows",  # every clean genre listing, as the original notebook did
}


def candidate_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every numeric feature a run may use, in feature_selection's order."""
    return [row[0] for row in con.execute("SELECT feature FROM feature_candidates").fetchall()]


def default_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The default set: the 12 features of the original analysis (see feature_selection for why)."""
    rows = con.execute("SELECT feature FROM feature_candidates WHERE in_default").fetchall()
    return [row[0] for row in rows]


def resolve_features(con: duckdb.DuckDBPyConnection, requested: list[str] | None) -> list[str]:
    """The requested features, checked; the default set when none are requested."""
    if not requested:
        return default_features(con)
    known = candidate_features(con)
    unknown = [f for f in requested if f not in known]
    if unknown:
        raise ConfigError(
            f"unknown feature(s) {', '.join(unknown)}: choose from {', '.join(known)}"
        )
    duplicated = sorted({f for f in requested if requested.count(f) > 1})
    if duplicated:
        raise ConfigError(f"feature(s) listed twice: {', '.join(duplicated)}")
    return list(requested)


@dataclass(frozen=True)
class FeatureFrame:
    """The rows a run clusters: identifiers, one genre label per row, and the matrix."""

    frame: pl.DataFrame  # row_number, track_id, genre, then one column per feature
    features: list[str]

    @property
    def matrix(self) -> np.ndarray:
        return self.frame.select(self.features).to_numpy().astype(np.float64, copy=False)

    @property
    def genres(self) -> np.ndarray:
        return self.frame["genre"].to_numpy()


def load_features(
    con: duckdb.DuckDBPyConnection, features: list[str], row_rule: str = "tracks"
) -> FeatureFrame:
    """Fetch the feature matrix through Arrow into polars, in a stable order (row_number)."""
    if row_rule not in ROW_RULES:
        raise ConfigError(f"unknown row rule {row_rule!r}: use one of {', '.join(ROW_RULES)}")
    # Feature names were checked against feature_selection, so quoting them is safe.
    columns = ", ".join(f'CAST("{f}" AS DOUBLE) AS "{f}"' for f in features)
    arrow = con.sql(
        f"SELECT row_number, track_id, genre, {columns} FROM {ROW_RULES[row_rule]} "
        "ORDER BY row_number"
    ).to_arrow_table()
    frame = pl.from_arrow(arrow)
    if frame.height == 0:
        raise WarehouseError("the warehouse has no clean tracks: run `spotclust ingest` first")
    return FeatureFrame(frame=frame, features=features)
