"""The one place that opens the DuckDB warehouse, creates its tables and applies the SQL views."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from spotclust.errors import ConfigError, WarehouseError

DEFAULT_DB = Path("warehouse") / "spotclust.duckdb"
# The layout of the warehouse this spotclust writes; recorded in spotclust_meta.
# 0: before versioning (no spotclust_meta). 1: spotclust_meta. 2: row_checks, tracks,
# track_genres and feature_correlations are tables materialized at ingest (they were views);
# cluster_labels, run_features.pca_mean and the sweeps' evidence columns. 3: row_checks
# holds the checks only, by row_number (it copied every value). See MIGRATIONS.
SCHEMA_VERSION = 3
# How long a command waits for another process to release the warehouse (DuckDB allows one
# writer, or any number of readers, per file): SPOTCLUST_LOCK_TIMEOUT seconds, default 60.
DEFAULT_LOCK_TIMEOUT_S = 60.0
LOCK_TIMEOUT_ENV = "SPOTCLUST_LOCK_TIMEOUT"


def default_db_path() -> Path:
    """`SPOTCLUST_DB` if set, else warehouse/spotclust.duckdb under the current directory."""
    return Path(os.environ.get("SPOTCLUST_DB") or DEFAULT_DB)


def _sql_dir():
    return resources.files("spotclust") / "sql"


def view_files() -> list:
    """The view definitions in the order they are applied (their numeric prefix)."""
    views = [f for f in (_sql_dir() / "views").iterdir() if f.name.endswith(".sql")]
    return sorted(views, key=lambda f: f.name)


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    create: bool = False,
    external_access: bool = True,
    lock_timeout: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.

    read_only: nothing can be changed through the connection.
    create: make a new warehouse if there is none (only ingest does); otherwise it must exist.
    external_access=False: queries cannot read or write files, ATTACH, INSTALL or LOAD
    (used for ad-hoc SQL so that a query can only see the warehouse).
    If another process holds the lock, wait up to lock_timeout seconds for it (default:
    SPOTCLUST_LOCK_TIMEOUT, else 60), saying so once on stderr, then give up with a 'busy' error.
    Every connection checks the schema version: a warehouse written by a newer spotclust is
    refused, by every command, before anything reads or writes it.
    """
    db = Path(path) if path is not None else default_db_path()
    if db.is_dir():
        raise WarehouseError(
            f"{db} is a directory, not a warehouse file: pass --db PATH/name.duckdb"
        )
    if not create and not db.exists():
        raise WarehouseError(f"no warehouse at {db}: run `spotclust ingest` first (or pass --db)")
    if not _is_duckdb_file(db):
        # DuckDB would open a CSV or Parquet path as an in-memory database with the file attached.
        raise WarehouseError(
            f"{db} is not a DuckDB warehouse: pass --db with another path, or move the file away"
        )
    if create:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create {db.parent}: {exc.strerror}; pass --db") from exc
    timeout = lock_timeout_s() if lock_timeout is None else lock_timeout
    config = {} if external_access else {"enable_external_access": False}
    con = _open_waiting(db, read_only, config, timeout)
    con = _configure(con)
    try:
        check_version(con, db)
    except BaseException:
        con.close()
        raise
    return con


def lock_timeout_s() -> float:
    """Seconds to wait for a busy warehouse: SPOTCLUST_LOCK_TIMEOUT, default 60."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise WarehouseError(
            f"{LOCK_TIMEOUT_ENV}={text!r} is not a number of seconds: use e.g. 60 (0: do not wait)"
        )
    return value


_HOLDER = re.compile(r"\(PID (\d+)\)")


def _open_waiting(db: Path, read_only: bool, config: dict, timeout: float):
    """duckdb.connect, waiting up to timeout seconds while another process holds the lock."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise WarehouseError(_explain_open_error(db, message)) from exc
            holder = _HOLDER.search(message)
            who = f"process {holder.group(1)}" if holder else "another process"
            if time.monotonic() >= deadline:
                waited = f"waited {timeout:g} s; " if timeout > 0 else ""
                raise WarehouseError(
                    f"warehouse {db} is busy: {who} has it open (DuckDB lets one process "
                    f"write, or several read, at a time); {waited}try again when it has "
                    f"finished, or set {LOCK_TIMEOUT_ENV}=SECONDS to wait longer"
                ) from None
            if not told:
                print(
                    f"waiting for {who} to finish with {db} "
                    f"(up to {timeout:g} s, {LOCK_TIMEOUT_ENV}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        except duckdb.Error as exc:
            raise WarehouseError(_explain_open_error(db, str(exc))) from exc


def _is_duckdb_file(db: Path) -> bool:
    """True for a DuckDB database file, a missing file or an empty one (DuckDB fills it)."""
    try:
        with db.open("rb") as f:
            header = f.read(12)
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise WarehouseError(f"cannot read {db}: {exc.strerror}: check its permissions") from exc
    return not header or header[8:12] == b"DUCK"


def _configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    try:
        # DuckDB's own progress bar would mix with our output on long steps.
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = $limit", {"limit": memory_limit()})
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            f"SPOTCLUST_MEMORY_LIMIT={memory_limit()!r} is not a memory size: use e.g. 2GB"
        ) from exc
    return con


def memory_limit() -> str:
    """DuckDB's memory budget: SPOTCLUST_MEMORY_LIMIT (e.g. '4GB'), default 1GB.

    DuckDB would otherwise take up to 80% of RAM for its buffers; with a budget it spills
    large sorts and windows to disk instead, so the Python side (the feature matrix,
    scikit-learn) keeps the room it needs at 10M rows.
    """
    return os.environ.get("SPOTCLUST_MEMORY_LIMIT", "1GB")


def _explain_open_error(db: Path, message: str) -> str:
    if "not a valid DuckDB database" in message or "database file" in message.lower():
        return f"{db} is not a DuckDB warehouse: pass --db with another path, or move the file away"
    if "Could not read enough bytes" in message or "checksum" in message.lower():
        return (
            f"{db} is damaged or truncated (DuckDB cannot read it): restore it from a copy, "
            "or pass --db with another path"
        )
    if "Read-only file system" in message:
        return f"cannot write {db}: read-only file system; pass --db with a writable path"
    if "Permission denied" in message or "Operation not permitted" in message:
        return f"cannot write {db}: permission denied; pass --db with a writable path"
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"cannot open warehouse {db}: {first_line}"


_CANNOT_OPEN = re.compile(r'Cannot open file "([^"]+)": ([^\n]+)')


def explain_write_error(db: str | Path | None, message: str) -> str | None:
    """One line for a DuckDB error writing the warehouse db (None: any warehouse) or its
    write-ahead log: a folder where the log cannot be created, a full disk. None for any
    other error."""
    found = _CANNOT_OPEN.search(message)
    if found is None:
        mine = False
    elif db is None:
        mine = found.group(1).endswith(".wal")
    else:
        target = Path(db).resolve()
        mine = Path(found.group(1)).resolve() in (target, target.with_name(target.name + ".wal"))
    if mine:
        return (
            f"cannot write {found.group(1)}: {found.group(2).strip()}: make its folder "
            "writable or pass --db with a writable path; nothing was changed"
        )
    if "No space left on device" in message:
        return f"cannot write {db or 'the warehouse'}: no space left on the device: free some"
    return None


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit if the block finishes, roll back on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def _transaction_unless_open(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A transaction of its own, or the caller's when one is already open (ingest's)."""
    if _in_transaction(con):
        yield
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether con has an open transaction. (A failed BEGIN would abort the open one, so ask:
    outside a transaction every statement runs in a transaction of its own, with a new id.)"""
    # fetchall: a result left half-read would block the connection's next con.sql()
    [(first,)] = con.execute("SELECT txid_current()").fetchall()
    [(second,)] = con.execute("SELECT txid_current()").fetchall()
    return first == second


# ------------------------------------------------------------------------- schema versions


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute((_sql_dir() / "tables.sql").read_text())


# Values for the rows already there when a migration adds a NOT NULL column.
BACKFILL: dict[tuple[str, str], str] = {
    # PCA was fitted on the standardised features, whose means are 0 by construction: its
    # centre in scaled units is 0 (to rounding) for every run made before it was recorded.
    ("run_features", "pca_mean"): "0.0",
}


# (table, column, type, nullable) of the warehouse's own tables, in column order.
_TABLE_COLUMNS = """
    SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
    FROM duckdb_columns() AS c
    JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name)
    WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT t.internal
    ORDER BY c.table_name, c.column_index
"""


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the columns tables.sql defines that an older warehouse's tables lack.

    Rows already there get the BACKFILL value (and the column its NOT NULL), or NULL: the
    older spotclust did not record the value.
    """
    reference = duckdb.connect()  # tables.sql applied to an empty in-memory database
    try:
        reference.execute((_sql_dir() / "tables.sql").read_text())
        wanted = reference.execute(_TABLE_COLUMNS).fetchall()
    finally:
        reference.close()
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


def _to_version_2(con: duckdb.DuckDBPyConnection) -> None:
    _create_tables(con)  # tables added since (results, for a warehouse from before clustering)
    _add_missing_columns(con)
    apply_views(con)  # models that were views are tables now (and every view is current)


def _to_version_3(con: duckdb.DuckDBPyConnection) -> None:
    apply_views(con)  # row_checks is rebuilt narrow from raw_tracks (no data is lost)


# MIGRATIONS[n] takes a warehouse from version n - 1 to n. ensure_schema runs the ones a
# warehouse needs in order, in one transaction, and records the new version.
# Changing tables.sql or the kind of a model means: SCHEMA_VERSION + 1 and a migration here
# (tests/test_schema.py pins the layout of each version and checks every upgrade path).
MIGRATIONS: dict[int, tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = {
    1: ("record the schema version in spotclust_meta", _create_tables),
    2: (
        "materialize the models that are tables now; add the new tables and columns",
        _to_version_2,
    ),
    3: ("rebuild the models: row_checks keeps the checks only, by row_number", _to_version_3),
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
    with _transaction_unless_open(con):
        if found is None:
            _create_tables(con)
        else:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version][1](con)
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


def check_run_data(con: duckdb.DuckDBPyConnection, run_id: int, then: str) -> None:
    """Refuse a run whose data the warehouse no longer holds (re-ingested since).

    assignments keep row numbers and track ids only: the tracks, genres and correlations a
    run is joined with are those of the latest ingest, so they must be the data it used.
    then: what to do after clustering again (e.g. 'export').
    """
    rows = con.execute(  # fetchall, never fetchone: see _in_transaction
        """
        SELECT
            (SELECT data_sha256 FROM runs WHERE run_id = $run_id),
            (SELECT source_sha256 FROM ingests ORDER BY ingest_id DESC LIMIT 1)
        """,
        {"run_id": run_id},
    ).fetchall()
    run_sha, current_sha = rows[0]
    if run_sha != current_sha:
        raise ConfigError(
            f"run {run_id} clustered other data than the warehouse holds now (it was "
            f"re-ingested since): its tracks and genres are gone; cluster again, then {then}"
        )


_HEADER = re.compile(r"^--\s*(\w+)\s*:\s*(.+)$")
_CREATE = re.compile(r"^CREATE OR REPLACE (VIEW|TABLE) (\w+)", re.MULTILINE)


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every model in sql/views/, in order, with its header line as the comment.

    Most models are views; the few whose file says CREATE OR REPLACE TABLE are materialized
    here, once per ingest, because computing them on every query would cost too much.
    """
    existing = _relations(con)
    for f in view_files():
        text = f.read_text()
        create = _CREATE.search(text)
        if create:
            kind, name = create.groups()
            # A warehouse of an older layout may hold the model as the other kind (a view
            # now materialized as a table): CREATE OR REPLACE cannot change the kind.
            other = existing.get(name)
            if other is not None and other != kind.lower():
                con.execute(f'DROP {other.upper()} "{name}"')
        con.execute(text)
        header = _HEADER.match(text.splitlines()[0])
        if header and create:
            kind, name = create.groups()
            con.execute(f"COMMENT ON {kind} {name} IS $${header.group(2).strip()}$$")


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


def quote_identifier(name: str) -> str:
    """A table, view or column name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def run_query(
    sql: str,
    params: dict | None = None,
    db: str | Path | None = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> tuple[list[str], list[tuple]]:
    """Run ad-hoc SQL: read-only and unable to touch files unless asked. Returns (columns, rows)."""
    con = connect(db, read_only=not write, external_access=external_access)
    try:
        result = con.execute(sql, params or {})
        if result.description is None:
            return [], []
        columns = [d[0] for d in result.description]
        return columns, result.fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(_explain_query_error(str(exc), write)) from exc
    finally:
        con.close()


def _explain_query_error(message: str, write: bool) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if "Values were not provided for the following parameters" in message:
        return f"SQL error: {first} — bind each one with -p NAME VALUE"
    if "read-only" in message and not write:
        return f"{first} — the warehouse is opened read-only: pass --write to change it"
    if any(
        hint in message.lower()
        for hint in (
            "disabled by configuration",
            "disabled through configuration",
            "external access",
        )
    ):
        return f"{first} — files, ATTACH, INSTALL and LOAD are off: pass --allow-external to allow"
    return f"SQL error: {first}"
