"""Ad-hoc SQL on the warehouse, read-only and without file access unless asked: the whole
result (run_query), or its rows a batch at a time, in flat memory (stream_query)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.connection import atomic, connection
from spotclust.warehouse.errors import explain_query_error

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
    with _executed(sql, params, db, write, external_access) as result:
        columns = _columns(result)
        return columns, result.fetchall() if columns else []


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
    with _executed(sql, params, db, write, external_access) as result:
        columns = _columns(result)
        yield columns, _batches(result, batch_rows) if columns else iter(())


@contextmanager
def _executed(sql, params, db, write: bool, external_access: bool) -> Iterator:
    """The query executed, its connection (and with write, its transaction) open while the
    block reads the result; DuckDB's errors, the block's included, raised as one line."""
    with connection(db, read_only=not write, external_access=external_access) as con:
        try:
            if not write:
                yield con.execute(sql, params or {})
                return
            with atomic(con) as commit:
                commit.what = "the SQL"
                yield con.execute(sql, params or {})
        except duckdb.Error as exc:
            raise WarehouseError(explain_query_error(str(exc), write)) from exc


def _columns(result) -> list[str]:
    return [] if result.description is None else [d[0] for d in result.description]


def _batches(result, size: int) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(size):
        yield batch
