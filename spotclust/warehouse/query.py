"""Ad-hoc SQL on the warehouse, read-only and without file access unless asked: the whole
result (run_query, or run_query_frame as a DataFrame), or its rows a batch at a time, in
flat memory (stream_query)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import atomic, connection
from spotclust.warehouse.errors import explain_query_error

if TYPE_CHECKING:
    import polars as pl

# Rows a batch: a few of DuckDB's 2048-row chunks, so the cost of a batch is small next to
# its rows', and a batch of wide rows (a track's 20 columns) holds a few MB.
BATCH_ROWS = 10_000


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
    with _opened(db, write, external_access) as con:
        result = con.execute(sql, params or {})
        columns = _columns(result)
        return columns, result.fetchall() if columns else []


def run_query_frame(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> pl.DataFrame:
    """run_query's result as a polars DataFrame, typed as DuckDB typed it (no columns for a
    statement that returns nothing): spotclust.sql, Warehouse.sql."""
    import polars as pl  # only here: `spotclust sql` need not load it

    with _opened(db, write, external_access) as con:
        # con.sql() reads the result as Arrow (con.execute() would copy it on the way)
        relation = con.sql(sql, params=params or {})
        return pl.DataFrame() if relation is None else relation.pl()


@contextmanager
def stream_query(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[list[str], Iterator[list[tuple]]]]:
    """run_query, its rows read while the block runs, in lists of at most batch_rows: the
    memory taken is one batch's, however many rows there are.

    With write, the whole text runs in one transaction that commits when the block ends and
    rolls back if it raises (an error met in a later row included): all of it, or none.
    """
    with _opened(db, write, external_access) as con:
        result = con.execute(sql, params or {})
        columns = _columns(result)
        yield columns, _batches(result, batch_rows) if columns else iter(())


@contextmanager
def _opened(db, write: bool, external_access: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection under ad-hoc SQL's rules (read-only and no file access unless asked; with
    write, one transaction) open while the block runs and reads its result; DuckDB's errors,
    the block's included, raised as one line."""
    with connection(db, read_only=not write, external_access=external_access) as con:
        try:
            if not write:
                yield con
                return
            with atomic(con) as commit:
                commit.what = "the SQL"
                yield con
        except duckdb.Error as exc:
            raise WarehouseError(explain_query_error(str(exc), write)) from exc


def _columns(result) -> list[str]:
    return [] if result.description is None else [d[0] for d in result.description]


def _batches(result, size: int) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(size):
        yield batch
