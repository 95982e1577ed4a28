"""The warehouse's layout: its tables, their versions and migrations, and the SQL models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import atomic, quote_identifier
from spotclust.warehouse.sql_files import models, read_sql

# The layout of the warehouse this spotclust writes; recorded in spotclust_meta.
# 0: before versioning (no spotclust_meta). 1: spotclust_meta. 2: row_checks, tracks,
# track_genres and feature_correlations are tables materialized at ingest (they were views);
# cluster_labels, run_features.pca_mean and the sweeps' evidence columns. 3: row_checks
# holds the checks only, by row_number (it copied every value). 4: files of other shapes:
# ingests records the shape and column mapping; raw_tracks keeps genre lists and the file's
# other columns. 5: raw_tracks' whole-number columns are DOUBLE, so a fraction reaches the
# row checks as it is (never rounded on the way in). 6: silhouette_values, each scored row's
# s(i) per run. 7: runs and sweeps record their engine (local or Spark), and a Spark run its
# version, master, k-means settings and Spark's own silhouette. 8: cluster_genres, each run's
# genre counts, made when the run is written (genre_breakdown reads them). See MIGRATIONS.
SCHEMA_VERSION = 8


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("tables.sql"))


# Values for the rows already there when a migration adds a NOT NULL column.
BACKFILL: dict[tuple[str, str], str] = {
    # PCA was fitted on the standardised features, whose means are 0 by construction: its
    # centre in scaled units is 0 (to rounding) for every run made before it was recorded.
    ("run_features", "pca_mean"): "0.0",
    # Every run and sweep before engines were recorded was fitted in one process.
    ("runs", "engine"): "'local'",
    ("sweeps", "engine"): "'local'",
}
# Columns whose default tables.sql declares: a writer that names no engine is local. (A
# column added by _add_missing_columns loses its default; _engine_columns puts it back.)
ENGINE_DEFAULTS = (("runs", "engine"), ("sweeps", "engine"))


# (table, column, type, nullable) of the warehouse's own tables, in column order.
_TABLE_COLUMNS = """
    SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
    FROM duckdb_columns() AS c
    JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name)
    WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT t.internal
    ORDER BY c.table_name, c.column_index
"""


@cache
def declared_columns() -> list[tuple[str, str, str, bool]]:
    """(table, column, type, nullable) of every table tables.sql declares, in column order:
    the one list of the warehouse's own tables, read from the SQL itself."""
    with duckdb.connect() as reference:  # tables.sql applied to an empty in-memory database
        reference.execute(read_sql("tables.sql"))
        return reference.execute(_TABLE_COLUMNS).fetchall()


def declared_tables() -> list[str]:
    """The names of the tables tables.sql declares."""
    return sorted({table for table, *_ in declared_columns()})


def run_tables() -> list[str]:
    """The tables tables.sql declares with a run_id column, runs among them: every row of a
    run is in one of these (what `spotclust runs delete` deletes, what check's orphans read)."""
    return sorted({table for table, column, *_ in declared_columns() if column == "run_id"})


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the columns tables.sql defines that an older warehouse's tables lack.

    Rows already there get the BACKFILL value (and the column its NOT NULL), or NULL: the
    older spotclust did not record the value.
    """
    wanted = declared_columns()
    have = {(table, column) for table, column, _, _ in con.execute(_TABLE_COLUMNS).fetchall()}
    tables = {table for table, _ in have}
    # Names, types and values all come from our own tables.sql and BACKFILL, never a user.
    for table, column, data_type, nullable in wanted:
        if table not in tables or (table, column) in have:
            continue  # (a missing table is made whole by tables.sql)
        fill = BACKFILL.get((table, column))
        if fill is None:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {data_type}')
            continue
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {data_type} DEFAULT {fill}')
        if not nullable:
            con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET NOT NULL')
        con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')


def _add_tables_and_columns(con: duckdb.DuckDBPyConnection) -> None:
    _create_tables(con)  # tables added since (results, for a warehouse from before clustering)
    _add_missing_columns(con)


def _models_only(con: duckdb.DuckDBPyConnection) -> None:
    """Nothing but the models change: the pass that ends every upgrade rebuilds them."""


def _engine_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The engine columns, 'local' in every older row and by default (tables.sql)."""
    _add_tables_and_columns(con)
    for table, column in ENGINE_DEFAULTS:  # names of tables.sql, not a user's
        con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT \'local\'')


# raw_tracks' columns of whole numbers, DOUBLE since version 5 (INTEGER or BIGINT before).
WHOLE_NUMBER_COLUMNS = ("popularity", "duration_ms", "key", "mode", "time_signature")


def _whole_numbers_as_read(con: duckdb.DuckDBPyConnection) -> None:
    """raw_tracks keeps a whole-number column's fractions: its rows convert exactly (they
    were loaded rounded: ingest the file again for the row checks to see the fractions)."""
    for column in WHOLE_NUMBER_COLUMNS:  # column names of tables.sql
        con.execute(f'ALTER TABLE raw_tracks ALTER COLUMN "{column}" TYPE DOUBLE')


# Every upgrade ends by rebuilding the models from the current SQL, once the tables have
# all their columns: models that were views are tables now (and the other way round),
# row_checks keeps the checks only (version 3), and every view is current.

# MIGRATIONS[n] takes a warehouse from version n - 1 to n. ensure_schema runs the ones a
# warehouse needs in order, in one transaction, and records the new version.
# Changing tables.sql or the kind of a model means: SCHEMA_VERSION + 1 and a migration here
# (tests/test_schema.py pins the layout of each version and checks every upgrade path).
MIGRATIONS: dict[int, tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = {
    1: ("record the schema version in spotclust_meta", _create_tables),
    2: (
        "materialize the models that are tables now; add the new tables and columns",
        _add_tables_and_columns,
    ),
    3: ("rebuild the models: row_checks keeps the checks only, by row_number", _models_only),
    4: (
        "record each ingest's shape and mapping; keep genre lists and other columns",
        _add_tables_and_columns,
    ),
    5: ("keep fractions in raw_tracks' whole-number columns (DOUBLE)", _whole_numbers_as_read),
    6: ("store each scored row's silhouette (silhouette_values)", _add_tables_and_columns),
    7: ("record each run's and sweep's engine (local or Spark) and its settings", _engine_columns),
    8: ("store each run's genre counts (cluster_genres)", _add_tables_and_columns),
}


def _count_every_runs_genres(con: duckdb.DuckDBPyConnection) -> None:
    """cluster_genres for every run before version 8, counted as the run's write counts them
    now (from its assignments and track_genres: what genre_breakdown showed for it)."""
    runs = con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()
    for (run_id,) in runs:
        con.execute(read_sql("queries/insert_cluster_genres.sql"), {"run_id": run_id})


# AFTER_MODELS[n]: what the upgrade to version n does once the models are rebuilt, because it
# reads them (track_genres is a model, of its own version until then).
AFTER_MODELS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    8: _count_every_runs_genres,
}
# Tables that mark a warehouse made by spotclust before it recorded a schema version.
_VERSION_0_TABLES = ("raw_tracks", "ingests")


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """name -> 'table' | 'view' for the user-made relations of the warehouse."""
    rows = con.execute(
        """
        SELECT table_name, 'table' FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
        UNION ALL
        SELECT view_name, 'view' FROM duckdb_views()
        WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
        """
    ).fetchall()
    return dict(rows)


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's schema version; 0 before versioning; None for an empty database."""
    relations = _relations(con)
    if relations.get("spotclust_meta") == "table":
        rows = con.execute(  # fetchall, never fetchone: see _in_transaction
            "SELECT value FROM spotclust_meta WHERE key = 'schema_version'"
        ).fetchall()
        if rows:
            row = rows[0]
            try:
                return int(row[0])
            except ValueError:
                raise WarehouseError(
                    f"{_path_of(con)}: spotclust_meta holds an unreadable schema_version "
                    f"{row[0]!r}: the warehouse was changed by hand; restore it from a copy"
                ) from None
        return 0
    if any(relations.get(name) == "table" for name in _VERSION_0_TABLES):
        return 0
    return None


def _path_of(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else "the warehouse"


def check_version(con: duckdb.DuckDBPyConnection, db: str | Path | None = None) -> None:
    """Refuse a warehouse written by a newer spotclust (without touching it)."""
    found = schema_version(con)
    if found is not None and found > SCHEMA_VERSION:
        raise WarehouseError(
            f"{db or _path_of(con)} has schema version {found}, newer than this spotclust "
            f"({_spotclust_version()}) understands ({SCHEMA_VERSION}): "
            "upgrade spotclust (pip install -U spotclust); the warehouse was not changed"
        )


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Make the warehouse the current layout before a command writes to it.

    An empty database gets every table. An older spotclust warehouse is upgraded in place,
    migration by migration, in one transaction (the caller's, if one is open): all or
    nothing. A newer one, or a DuckDB file of some other application, is refused untouched.
    """
    found = schema_version(con)
    if found == SCHEMA_VERSION:
        return
    check_version(con)
    if found is None:
        others = sorted(_relations(con))
        if others:
            raise WarehouseError(
                f"{_path_of(con)} is a DuckDB file but not a spotclust warehouse "
                f"(it holds {', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}): pass --db with another path"
            )
    with atomic(con) as commit:
        commit.what = f"the upgrade of the warehouse to schema version {SCHEMA_VERSION}"
        if found is None:
            commit.what = "a new, empty warehouse"
            _create_tables(con)
        else:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version][1](con)
            apply_models(con)
            for version in range(found + 1, SCHEMA_VERSION + 1):
                if version in AFTER_MODELS:
                    AFTER_MODELS[version](con)
            con.execute(
                "INSERT OR REPLACE INTO spotclust_meta VALUES ('upgraded_from', $v), "
                "('upgraded_at', $at)",
                {"v": str(found), "at": datetime.now(UTC).isoformat(timespec="seconds")},
            )
        con.execute(
            "INSERT OR REPLACE INTO spotclust_meta VALUES ('schema_version', $v)",
            {"v": str(SCHEMA_VERSION)},
        )


def _spotclust_version() -> str:
    from spotclust import __version__

    return __version__


def apply_models(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every SQL model, in order, with its header's first line as the comment.

    Most models are views; those declared `-- materialized: table` are built here, once per
    ingest, because computing them on every query would cost too much.
    """
    existing = _relations(con)
    for model in models():
        # A warehouse of an older layout may hold the model as the other kind (a view
        # now materialized as a table): CREATE OR REPLACE cannot change the kind.
        other = existing.get(model.name)
        if other is not None and other != model.materialized:
            con.execute(f"DROP {other.upper()} {quote_identifier(model.name)}")
        con.execute(model.create_statement())
        comment = model.description.replace("'", "''")  # from our own files, quoted anyway
        con.execute(
            f"COMMENT ON {model.materialized.upper()} {quote_identifier(model.name)} IS '{comment}'"
        )


def list_relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """(name, 'table' | 'view', rows, description) for everything a user can query."""
    relations = con.execute(
        """
        SELECT table_name AS name, 'table' AS kind, coalesce(comment, '') AS description
        FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal
        UNION ALL
        SELECT view_name, 'view', coalesce(comment, '')
        FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal
        ORDER BY kind, name
        """
    ).fetchall()
    out = []
    for name, kind, description in relations:
        try:  # a name is an identifier, not a value: quoted, never bound
            [(rows,)] = con.execute(f"SELECT count(*) FROM {quote_identifier(name)}").fetchall()
        except duckdb.Error:  # e.g. a view of the user's whose table has gone
            rows = None
        out.append((name, kind, rows, description))
    return out
