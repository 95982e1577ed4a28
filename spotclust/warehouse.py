"""The one place that opens the DuckDB warehouse, creates its tables and applies the SQL views."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError

DEFAULT_DB = Path("warehouse") / "spotclust.duckdb"
SCHEMA_VERSION = 1
# How long a command waits for another spotclust process to release the warehouse.
DEFAULT_LOCK_TIMEOUT_S = 60.0


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
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.

    read_only: nothing can be changed through the connection.
    create: make a new warehouse if there is none (only ingest does); otherwise it must exist.
    external_access=False: queries cannot read or write files, ATTACH, INSTALL or LOAD
    (used for ad-hoc SQL so that a query can only see the warehouse).
    If another process holds the write lock, wait up to lock_timeout seconds for it.
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
    config = {} if external_access else {"enable_external_access": False}
    deadline = time.monotonic() + lock_timeout
    told = False
    while True:
        try:
            con = duckdb.connect(str(db), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise WarehouseError(_explain_open_error(db, message)) from exc
            if time.monotonic() >= deadline:
                raise WarehouseError(
                    f"warehouse {db} is busy: another spotclust command is writing to it; "
                    "try again when it has finished"
                ) from exc
            if not told:
                print(f"waiting for another command to finish with {db} ...", file=sys.stderr)
                told = True
            time.sleep(0.25)
        except duckdb.Error as exc:
            raise WarehouseError(_explain_open_error(db, str(exc))) from exc
        return _configure(con)


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
    if "Permission denied" in message or "Read-only file system" in message:
        return f"cannot write {db}: permission denied; pass --db with a writable path"
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"cannot open warehouse {db}: {first_line}"


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


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables that are missing and record the schema version."""
    found = schema_version(con)
    if found is not None and found > SCHEMA_VERSION:
        raise WarehouseError(
            f"this warehouse has schema version {found}, newer than this spotclust "
            f"understands ({SCHEMA_VERSION}): upgrade spotclust"
        )
    con.execute((_sql_dir() / "tables.sql").read_text())
    con.execute(
        "INSERT OR REPLACE INTO spotclust_meta VALUES ('schema_version', ?)",
        [str(SCHEMA_VERSION)],
    )


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'spotclust_meta'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute("SELECT value FROM spotclust_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


_HEADER = re.compile(r"^--\s*(\w+)\s*:\s*(.+)$")
_CREATE = re.compile(r"^CREATE OR REPLACE (VIEW|TABLE) (\w+)", re.MULTILINE)


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every model in sql/views/, in order, with its header line as the comment.

    Most models are views; the few whose file says CREATE OR REPLACE TABLE are materialized
    here, once per ingest, because computing them on every query would cost too much.
    """
    for f in view_files():
        text = f.read_text()
        con.execute(text)
        header = _HEADER.match(text.splitlines()[0])
        create = _CREATE.search(text)
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
        rows = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        out.append((name, kind, rows, description))
    return out


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
