"""Ad-hoc SQL on the warehouse, read-only and without file access unless asked."""

from __future__ import annotations

from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import connection
from spotclust.warehouse.errors import explain_query_error


def run_query(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> tuple[list[str], list[tuple]]:
    """Run ad-hoc SQL: read-only and unable to touch files unless asked. Returns (columns, rows)."""
    with connection(db, read_only=not write, external_access=external_access) as con:
        try:
            result = con.execute(sql, params or {})
            if result.description is None:
                return [], []
            columns = [d[0] for d in result.description]
            return columns, result.fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(explain_query_error(str(exc), write)) from exc
