"""Ad-hoc SQL on the warehouse, read-only and without file access unless asked."""

from __future__ import annotations

from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import atomic, connection
from spotclust.warehouse.errors import explain_query_error


def run_query(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> tuple[list[str], list[tuple]]:
    """Run ad-hoc SQL: read-only and unable to touch files unless asked. Returns (columns, rows).

    With write, the whole text runs in one transaction: all of its statements, or none.
    """
    with connection(db, read_only=not write, external_access=external_access) as con:
        try:
            if not write:
                return _fetch(con.execute(sql, params or {}))
            with atomic(con) as commit:
                commit.what = "the SQL"
                return _fetch(con.execute(sql, params or {}))
        except duckdb.Error as exc:
            raise WarehouseError(explain_query_error(str(exc), write)) from exc


def _fetch(result) -> tuple[list[str], list[tuple]]:
    if result.description is None:
        return [], []
    return [d[0] for d in result.description], result.fetchall()
