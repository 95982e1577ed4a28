"""A warehouse verified end to end: it opens, its schema version, every table and every view
of spotclust's SQL reads to its last row, and the rows agree (each run's assignments,
clusters and sizes; no rows of a run that runs lacks; the last ingest's rows). One line per
check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from spotclust.warehouse.connection import connection, default_db_path, quote_identifier
from spotclust.warehouse.damage import TABLES, Reading, damage_cause, read_all
from spotclust.warehouse.errors import first_line
from spotclust.warehouse.schema import (
    SCHEMA_VERSION,
    declared_tables,
    run_tables,
    schema_version,
)
from spotclust.warehouse.sql_files import models, read_sql

_LOCATION = re.compile(r"location (\d+)")
_VIEWS = """
    SELECT view_name FROM duckdb_views()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
"""
# Row checks: (name, the relations it reads, SQL listing what is wrong, one line each).
_ROW_CHECKS = (
    (
        "every run has its assignments",
        ("runs", "assignments"),
        """
        SELECT 'run ' || r.run_id || ': ' || count(a.run_id) || ' assignments, ' || r.rows_used
            || ' rows used'
        FROM runs AS r LEFT JOIN assignments AS a USING (run_id)
        GROUP BY r.run_id, r.rows_used HAVING count(a.run_id) <> r.rows_used ORDER BY r.run_id
        """,
    ),
    (
        "every run's clusters are 0..k-1, with k centroids",
        ("runs", "assignments", "centroids"),
        """
        WITH used AS (
            SELECT run_id, min(cluster) AS low, max(cluster) AS high FROM assignments GROUP BY 1
        ), centres AS (
            SELECT run_id, count(DISTINCT cluster) AS n FROM centroids
            WHERE space = 'model' GROUP BY 1
        )
        SELECT 'run ' || r.run_id || ': k = ' || r.k || ', clusters ' || coalesce(u.low, -1)
            || '..' || coalesce(u.high, -1) || ', ' || coalesce(c.n, 0) || ' centroids'
        FROM runs AS r LEFT JOIN used AS u USING (run_id) LEFT JOIN centres AS c USING (run_id)
        WHERE u.low < 0 OR u.high >= r.k OR c.n IS DISTINCT FROM r.k
        ORDER BY r.run_id
        """,
    ),
    (
        "cluster sizes match cluster_profiles",
        ("cluster_summary", "cluster_profiles"),
        """
        SELECT DISTINCT 'run ' || s.run_id || ' cluster ' || s.cluster || ': ' || s.size
            || ' rows, profiled as ' || p.count
        FROM cluster_summary AS s JOIN cluster_profiles AS p USING (run_id, cluster)
        WHERE p.in_model AND p.count <> s.size
        """,
    ),
    (
        "raw_tracks holds the last ingest's rows",
        ("ingests", "raw_tracks"),
        """
        WITH last AS (SELECT * FROM ingests ORDER BY ingest_id DESC LIMIT 1)
        SELECT 'ingest ' || l.ingest_id || ' loaded ' || l.rows || ' rows; raw_tracks holds '
            || count(t.ingest_id) || ', ' || count(t.ingest_id) FILTER (t.ingest_id = l.ingest_id)
            || ' of them from that ingest'
        FROM last AS l LEFT JOIN raw_tracks AS t ON true
        GROUP BY l.ingest_id, l.rows
        HAVING count(t.ingest_id) <> l.rows OR bool_or(t.ingest_id <> l.ingest_id)
        """,
    ),
)


@dataclass(frozen=True)
class Finding:
    """One check: what was checked, 'ok', 'problem' or 'skipped', and what was found."""

    check: str
    status: str
    detail: str


@dataclass(frozen=True)
class CheckReport:
    db: Path
    findings: tuple[Finding, ...]

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == "problem")


def check(db: str | Path | None = None) -> CheckReport:
    """Open the warehouse read-only (the open's own diagnoses: a stale log, a damaged
    catalog, a newer schema) and verify it; nothing is written."""
    with connection(db, read_only=True) as con:
        version = schema_version(con)
        readings = _readings(con)
        current = version == SCHEMA_VERSION
        unreadable = {r.name for r in readings if r.error is not None}  # or missing
        findings = [
            _version_finding(version),
            *(_reading_finding(r, current) for r in readings),
            *(_row_check(con, *row_check, unreadable) for row_check in _ROW_CHECKS),
            *_orphan_checks(con, readings, unreadable),
        ]
    return CheckReport(Path(db) if db is not None else default_db_path(), tuple(findings))


def _names(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [name for (name,) in con.execute(sql).fetchall()]


def _readings(con: duckdb.DuckDBPyConnection) -> list[Reading]:
    """Every table (the user's too: damage is damage), spotclust's views (a view of the
    user's is the user's SQL), and spotclust's tables and views that are missing."""
    tables = _names(con, TABLES)
    present = {*tables, *_names(con, _VIEWS)}
    views = [m.name for m in models() if m.materialized == "view" and m.name in present]
    expected = {
        **{name: "table" for name in declared_tables()},
        **{m.name: m.materialized for m in models()},
    }
    missing = [
        Reading(name, kind, None, "missing")
        for name, kind in expected.items()
        if name not in present
    ]
    return [*read_all(con, tables, "table"), *read_all(con, views, "view"), *missing]


def _orphan_checks(con, readings: list[Reading], unreadable: set[str]) -> list[Finding]:
    """Per table with a run_id: no rows of a run that runs lacks (deleted by hand with
    `DELETE FROM runs`). A table that an older layout lacks is not checked."""
    present = {r.name for r in readings if r.error != "missing"}
    return [
        _row_check(
            con,
            f"no orphaned rows in {table}",
            ("runs", table),
            read_sql("queries/orphan_rows.sql").format(table=quote_identifier(table)),
            unreadable,
        )
        for table in run_tables()
        if table != "runs" and table in present
    ]


def _version_finding(version: int | None) -> Finding:
    if version is None:
        return Finding("schema version", "problem", "no spotclust tables: run `spotclust ingest`")
    if version < SCHEMA_VERSION:
        return Finding(
            "schema version",
            "ok",
            f"{version}, older than this spotclust's {SCHEMA_VERSION}: the next ingest, cluster "
            "or sweep upgrades it",
        )
    return Finding("schema version", "ok", str(version))


def _reading_finding(reading: Reading, current: bool) -> Finding:
    what = f"{reading.kind} {reading.name}"
    if reading.error is None:
        return Finding(what, "ok", f"{reading.rows:,} row{'' if reading.rows == 1 else 's'} read")
    if reading.error == "missing":  # an older layout lacks tables made since
        return Finding(what, "problem" if current else "ok", "missing")
    if cause := damage_cause(reading.error):
        where = _LOCATION.search(reading.error)
        at = f" (at byte {int(where.group(1)):,})" if where else ""
        return Finding(what, "problem", f"does not read: damaged, {cause}{at}")
    return Finding(what, "problem", f"does not read: {reading.error}")


def _row_check(con, name: str, needs: tuple[str, ...], sql: str, unreadable: set[str]):
    if blocked := [table for table in needs if table in unreadable]:
        return Finding(name, "skipped", f"needs {', '.join(blocked)}, which did not read")
    try:
        wrong = [line for (line,) in con.execute(sql).fetchall()]
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        return Finding(name, "problem", f"cannot be checked: {first_line(str(exc))}")
    if not wrong:
        return Finding(name, "ok", "yes")
    more = f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
    return Finding(name, "problem", "; ".join(wrong[:3]) + more)
