"""Which columns become the feature matrix, and its trip DuckDB -> Arrow -> polars -> numpy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl

from spotclust.audio_features import AUDIO_FEATURES
from spotclust.errors import ConfigError, WarehouseError
from spotclust.model.config import BATCH_ROWS, ROW_RULE_NAMES, FeatureBatch

# Row rules: which rows of the clean data are clustered.
ROW_RULES = {
    "tracks": "tracks",  # one row per track_id (default)
    "listings": "valid_rows",  # every clean genre listing, as the original notebook did
}
assert tuple(ROW_RULES) == ROW_RULE_NAMES  # the model's names, each with its table


def candidate_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every numeric feature a run may use, in feature_candidates' order."""
    rows = con.execute("SELECT feature FROM feature_candidates WHERE available").fetchall()
    return [row[0] for row in rows]


def default_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The default set: the 12 features of the original analysis (see feature_selection for why)."""
    rows = con.execute("SELECT feature FROM feature_candidates WHERE in_default").fetchall()
    return [row[0] for row in rows]


def resolve_features(con: duckdb.DuckDBPyConnection, requested: list[str] | None) -> list[str]:
    """The requested features, checked; the default set when none are requested."""
    if not requested:
        return default_features(con)
    known = candidate_features(con)
    unavailable = [f for f in requested if f in AUDIO_FEATURES and f not in known]
    if unavailable:
        raise ConfigError(
            f"feature(s) {', '.join(unavailable)} absent from this data or the same in every "
            f"track: choose from {', '.join(known)}"
        )
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
class FeatureSource:
    """The rows a run clusters, read from DuckDB in Arrow batches, in row_number order."""

    con: duckdb.DuckDBPyConnection
    features: list[str]
    table: str
    rows: int
    genres: list[str]
    is_shuffled: bool = False  # a shuffled copy is read in its stored order

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[FeatureBatch]:
        """The rows in row_number order (a shuffled copy keeps its own order)."""
        # Feature names were checked against feature_candidates, so quoting them is safe.
        columns = ", ".join(f'CAST("{f}" AS DOUBLE) AS "{f}"' for f in self.features)
        order = "" if self.is_shuffled else "ORDER BY row_number"
        relation = self.con.sql(
            f"""
            SELECT row_number,
                   coalesce(CAST(list_position($genres, genre) - 1 AS SMALLINT), -1) AS genre,
                   {columns}
            FROM {self.table}
            {order}
            """,
            params={"genres": self.genres},
        )
        for batch in relation.to_arrow_reader(batch_rows):
            frame = pl.from_arrow(batch)
            yield FeatureBatch(
                row_number=frame["row_number"].to_numpy(),
                genre=frame["genre"].to_numpy(),
                matrix=frame.select(self.features).to_numpy().astype(np.float64, copy=False),
            )

    def shuffled(self, seed: int) -> FeatureSource:
        """A copy of the rows in a seeded pseudo-random order, in a temporary table.

        Streaming passes read it in its stored order: the shuffle (a sort) happens once,
        not once per pass. DuckDB spills the copy to disk beyond its memory budget.
        """
        columns = ", ".join(f'"{f}"' for f in self.features)
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE shuffled_rows AS
            SELECT row_number, genre, {columns} FROM {self.table}
            ORDER BY hash(row_number, $seed)
            """,
            {"seed": seed},
        )
        return replace(self, table="shuffled_rows", is_shuffled=True)

    def load(self) -> FeatureBatch:
        """Every row at once, filled batch by batch into arrays allocated once."""
        row_number = np.empty(self.rows, dtype=np.int64)
        genre = np.empty(self.rows, dtype=np.int16)
        matrix = np.empty((self.rows, len(self.features)), dtype=np.float64)
        start = 0
        for batch in self.batches():
            end = start + len(batch.row_number)
            row_number[start:end] = batch.row_number
            genre[start:end] = batch.genre
            matrix[start:end] = batch.matrix
            start = end
        if start != self.rows:
            raise WarehouseError("the warehouse changed while it was read: run the command again")
        return FeatureBatch(row_number=row_number, genre=genre, matrix=matrix)


def feature_source(
    con: duckdb.DuckDBPyConnection, features: list[str], row_rule: str = "tracks"
) -> FeatureSource:
    if row_rule not in ROW_RULES:
        raise ConfigError(f"unknown row rule {row_rule!r}: use one of {', '.join(ROW_RULES)}")
    table = ROW_RULES[row_rule]
    ((rows, genres),) = con.execute(
        f"SELECT count(*), coalesce(list(DISTINCT genre ORDER BY genre) "
        f"FILTER (WHERE genre IS NOT NULL), []) FROM {table}"
    ).fetchall()  # fetchall: DuckDB refuses con.sql() while a result is still open
    if rows == 0:
        raise WarehouseError("the warehouse has no clean tracks: run `spotclust ingest` first")
    return FeatureSource(con=con, features=features, table=table, rows=rows, genres=genres)
