"""Ad-hoc SQL whose result comes back as a polars DataFrame, typed as DuckDB typed it (through
Arrow): run_query's rules, for notebooks (spotclust.sql, Warehouse.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import atomic, connection
from spotclust.warehouse.errors import explain_query_error


def run_query_frame(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> pl.DataFrame:
    """Run ad-hoc SQL: read-only and unable to touch files unless asked -> a DataFrame (no
    columns for a statement that returns nothing).

    With write, the whole text runs in one transaction: all of its statements, or none.
    """
    with connection(db, read_only=not write, external_access=external_access) as con:
        try:
            if not write:
                return _frame(con.sql(sql, params=params or {}))
            with atomic(con) as commit:
                commit.what = "the SQL"
                return _frame(con.sql(sql, params=params or {}))
        except duckdb.Error as exc:
            raise WarehouseError(explain_query_error(str(exc), write)) from exc


def _frame(relation: duckdb.DuckDBPyRelation | None) -> pl.DataFrame:
    # con.sql() reads the result as Arrow (con.execute() would copy it on the way)
    return pl.DataFrame() if relation is None else relation.pl()
