"""A warehouse read back: its whole state, to check that a command which failed (or only read)
changed nothing, or which runs a command that was killed left; and one query's rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import duckdb

from spotclust.warehouse.schema import declared_columns, declared_tables
from spotclust.warehouse.sql_files import models

# The tables spotclust makes, from its SQL files: the models materialized at ingest from the
# file's rows (views/ files of kind table) ...
MODEL_TABLES = tuple(m.name for m in models() if m.materialized == "table")
# ... and with them, every table: tables.sql's (spotclust_meta and cluster_labels included).
SPOTCLUST_TABLES = (*declared_tables(), *MODEL_TABLES)
# The tables of tables.sql that hold rows per run (a run_id column), runs itself aside.
RUN_TABLES = tuple(
    sorted({table for table, column, *_ in declared_columns() if column == "run_id"} - {"runs"})
)

# A table's rows are grouped by the first of these columns it has (by_run=True).
GROUP_COLUMNS = ("run_id", "sweep_id")


def query(db: Path, sql: str, params: Sequence | dict | None = None) -> list[tuple]:
    """The rows of sql, from a read-only connection that is closed again."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _plain(value):
    """NaN is not equal to itself: compare it as text."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _rows(con, table: str) -> list[tuple]:
    return [
        tuple(_plain(v) for v in row)
        for row in con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
    ]


def _groups(con, table: str, columns: list[str]) -> dict:
    """{run_id or sweep_id (None for a table with neither): (rows, sum of the rows' hashes)}"""
    key = next((c for c in GROUP_COLUMNS if c in columns), None)
    by = f'"{key}"' if key else "NULL"
    return {
        group: (rows, digest)
        for group, rows, digest in con.execute(
            f'SELECT {by}, count(*), sum(hash(t)::HUGEINT) FROM "{table}" AS t GROUP BY ALL'
        ).fetchall()
    }


def warehouse_state(db: Path, by_run: bool = False) -> dict[str, object]:
    """{table name: its rows, in a stable order; '(views)': the view definitions;
    '(sequences)': the sequences' last values}.

    by_run: each table as {run_id, sweep_id or None: (row count, sum of the rows' hashes)}
    instead, computed by DuckDB: cheap on the full dataset, and it says which runs a table
    holds rows of, and how many. Equal states: equal warehouses (but for a hash collision).
    """
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT c.table_name, list(c.column_name) FROM duckdb_columns() AS c "
            "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
            "WHERE c.schema_name = 'main' AND NOT t.internal GROUP BY 1 ORDER BY 1"
        ).fetchall()
        state: dict[str, object] = {
            name: _groups(con, name, columns) if by_run else _rows(con, name)
            for name, columns in tables
        }
        state["(views)"] = con.execute(
            "SELECT view_name, sql FROM duckdb_views() "
            "WHERE schema_name = 'main' AND NOT internal ORDER BY 1"
        ).fetchall()
        state["(sequences)"] = con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1"
        ).fetchall()
        return state
    finally:
        con.close()
