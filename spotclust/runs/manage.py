"""The runs a warehouse holds: list them, delete some, keep the latest N.

A run's rows are in every table of tables.sql with a run_id column (schema.run_tables),
never a list written here. Deleting removes all of them in one transaction; rows left by a
run whose runs row was deleted by hand (`spotclust sql "DELETE FROM runs ..." --write`)
count as that run, so `spotclust runs delete` removes them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from spotclust.errors import ConfigError
from spotclust.warehouse import atomic, connection, quote_identifier, read_sql
from spotclust.warehouse.schema import run_tables

# What `spotclust runs` lists.
COLUMNS = ("run_id", "status", "k", "features", "silhouette", "rows_used", "created_at")


def run_rows(db: str | Path | None = None) -> tuple[list[str], list[tuple]]:
    """(columns, rows): COLUMNS of every run, oldest first (read-only). Plain rows, so that
    listing runs loads no data-frame library."""
    with connection(db, read_only=True) as con:
        if "runs" not in _present(con, ["runs"]):  # a warehouse from before clustering
            return list(COLUMNS), []
        result = con.execute(read_sql("queries/runs_list.sql"))
        return [c[0] for c in result.description], result.fetchall()


def list_runs(db: str | Path | None = None):
    """run_rows as a polars DataFrame (also when there are no runs: the same columns)."""
    import polars as pl

    types = (pl.Int32, pl.String, pl.Int32, pl.List(pl.String), pl.Float64, pl.Int64,
             pl.Datetime(time_zone="UTC"))  # fmt: skip
    columns, rows = run_rows(db)
    return pl.DataFrame(rows, schema=dict(zip(columns, types, strict=True)), orient="row")


def delete(run_ids: Iterable[int], db: str | Path | None = None) -> list[int]:
    """Delete every row of these runs, all or nothing -> their ids, sorted.

    An id the warehouse holds no row of is refused, and nothing is deleted.
    """
    ids = sorted({int(run_id) for run_id in run_ids})
    if not ids:
        raise ConfigError("no run given: name the runs to delete, e.g. `spotclust runs delete 3`")
    with connection(db) as con, atomic(con) as commit:
        tables = _present(con, run_tables())
        held = _held(con, tables)
        if unknown := [run_id for run_id in ids if run_id not in held]:
            raise ConfigError(f"no {_runs(unknown)}: see `spotclust runs`; nothing was deleted")
        commit.what = f"the deletion of {_runs(ids)}"
        _delete(con, tables, ids)
    return ids


def keep(last: int, db: str | Path | None = None) -> list[int]:
    """Delete every run but the `last` most recent ones (and rows left by runs deleted by
    hand), all or nothing -> the ids deleted, sorted."""
    if last < 0:
        raise ConfigError(f"--last must be 0 or more, not {last}")
    with connection(db) as con, atomic(con) as commit:
        tables = _present(con, run_tables())
        kept = set(_ids(con, "runs")[-last:]) if last and "runs" in tables else set()
        ids = sorted(_held(con, tables) - kept)
        if ids:
            commit.what = f"the deletion of {_runs(ids)}"
            _delete(con, tables, ids)
    return ids


def _present(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[str]:
    """Those of the tables named that the warehouse has (an older layout lacks some)."""
    rows = con.execute(read_sql("queries/present_tables.sql"), {"names": names}).fetchall()
    return [name for (name,) in rows]


def _ids(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    sql = read_sql("queries/run_ids_of_table.sql").format(table=quote_identifier(table))
    return [run_id for (run_id,) in con.execute(sql).fetchall()]


def _held(con: duckdb.DuckDBPyConnection, tables: list[str]) -> set[int]:
    """Every run id the warehouse holds a row of, in any of its run tables."""
    return {run_id for table in tables for run_id in _ids(con, table)}


def _delete(con: duckdb.DuckDBPyConnection, tables: list[str], ids: list[int]) -> None:
    for table in tables:  # no foreign keys: any order
        sql = read_sql("queries/delete_run_rows.sql").format(table=quote_identifier(table))
        con.execute(sql, {"run_ids": ids})


def _runs(ids: list[int]) -> str:
    """'run 3' or 'runs 3, 4'."""
    return f"run{'' if len(ids) == 1 else 's'} {', '.join(map(str, ids))}"
