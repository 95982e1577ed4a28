"""The one place that opens the DuckDB warehouse: paths, locking, settings, transactions."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError
from spotclust.warehouse.damage import damaged, refuse_damaged
from spotclust.warehouse.errors import explain_open_error, not_a_warehouse, record_opened

DEFAULT_DB = Path("warehouse") / "spotclust.duckdb"
# How long a command waits for another process to release the warehouse (DuckDB allows one
# writer, or any number of readers, per file): SPOTCLUST_LOCK_TIMEOUT seconds, default 60.
DEFAULT_LOCK_TIMEOUT_S = 60.0
LOCK_TIMEOUT_ENV = "SPOTCLUST_LOCK_TIMEOUT"


def default_db_path() -> Path:
    """`SPOTCLUST_DB` if set, else warehouse/spotclust.duckdb under the current directory."""
    return Path(os.environ.get("SPOTCLUST_DB") or DEFAULT_DB)


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    create: bool = False,
    external_access: bool = True,
    lock_timeout: float | None = None,
    alone: bool = False,
    to_write: str = "",
    told: list[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.

    read_only: nothing can be changed through the connection.
    create: make a new warehouse if there is none (only ingest does); otherwise it must exist.
    external_access=False: queries cannot read or write files, ATTACH, INSTALL or LOAD
    (used for ad-hoc SQL so that a query can only see the warehouse).
    If another process holds the lock, wait up to lock_timeout seconds for it (default:
    SPOTCLUST_LOCK_TIMEOUT, else 60), saying so once on stderr, then give up with a 'busy' error.
    to_write: what the connection is opened to write ('the fitted run'), named in both; told:
    a list shared by a command's connections, so that it says it is waiting only once.
    alone: a database of its own, refused (as opened with other settings) if this process
    has the file open already through another connection (see runs/write.py SharedWarehouse).
    Every connection checks the schema version: a warehouse written by a newer spotclust is
    refused, by every command, before anything reads or writes it. With create (ingest, which
    replaces the data), every table must read to its end first: a damaged warehouse is
    refused untouched, not buried under a successful ingest.
    """
    from spotclust.warehouse.schema import check_version

    db = Path(path) if path is not None else default_db_path()
    if db.is_dir():
        raise WarehouseError(
            f"{db} is a directory, not a warehouse file: pass --db PATH/name.duckdb"
        )
    if not create and not db.exists():
        raise WarehouseError(f"no warehouse at {db}: run `spotclust ingest` first (or pass --db)")
    if not _is_duckdb_file(db):
        # DuckDB would open a CSV or Parquet path as an in-memory database with the file attached.
        raise WarehouseError(not_a_warehouse(db))
    if create:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create {db.parent}: {exc.strerror}; pass --db") from exc
    timeout = lock_timeout_s() if lock_timeout is None else lock_timeout
    config = {} if external_access else {"enable_external_access": False}
    if alone:  # any setting of its own: DuckDB then refuses to share another connection's
        config["custom_user_agent"] = "spotclust"
    con = _open_waiting(db, read_only, config, timeout, to_write, [] if told is None else told)
    con = _configure(con, locked=not external_access)
    record_opened(db)  # an error met later names this file
    try:
        check_version(con, db)
        if create:
            refuse_damaged(con, db)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connection(path: str | Path | None = None, **options) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` as a context manager: the connection is closed however the block ends."""
    con = connect(path, **options)
    try:
        yield con
    finally:
        con.close()


class Commit:
    """What a transaction commits, named for the line that reports it ('run 7')."""

    def __init__(self) -> None:
        self.what = "the transaction"


# The commits made in the current API call (see recording_commits), newest last.
_commits: ContextVar[list[str] | None] = ContextVar("spotclust_commits", default=None)


@contextmanager
def recording_commits() -> Iterator[list[str]]:
    """Collect what every atomic() block inside commits, so that a fault after a commit can
    be reported as such instead of as a failure that changed nothing."""
    commits: list[str] = []
    token = _commits.set(commits)
    try:
        yield commits
    finally:
        _commits.reset(token)


@contextmanager
def atomic(con: duckdb.DuckDBPyConnection) -> Iterator[Commit]:
    """All or nothing: commit if the block finishes, roll back on any exception.

    The block may name what it commits (`commit.what = f"run {run_id}"`). Ctrl-C during the
    COMMIT itself is held until the COMMIT has finished, then raised: the work is in, and
    the caller can say so. Inside a transaction that is already open (ingest's, say) the
    block joins it, and the outer transaction decides.
    """
    commit = Commit()
    if in_transaction(con):
        yield commit
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield commit
    except BaseException:
        con.execute("ROLLBACK")
        raise
    with _interrupts_held() as interrupted:
        con.execute("COMMIT")
        if (made := _commits.get()) is not None:
            made.append(commit.what)
    if interrupted:
        raise KeyboardInterrupt


@contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Ctrl-C (SIGINT) is noted instead of raised inside the block; the list says if it came.
    Only the main thread can set signal handlers; elsewhere the block runs as it is."""
    noted: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield noted  # a handler not set from Python could not be put back
        return
    signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether con has an open transaction. (A failed BEGIN would abort the open one, so ask:
    outside a transaction every statement runs in a transaction of its own, with a new id.)"""
    # fetchall: a result left half-read would block the connection's next con.sql()
    [(first,)] = con.execute("SELECT txid_current()").fetchall()
    [(second,)] = con.execute("SELECT txid_current()").fetchall()
    return first == second


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
_LOCKED = "Could not set lock on file"


def _open_waiting(
    db: Path, read_only: bool, config: dict, timeout: float, to_write: str, told: list[str]
):
    """duckdb.connect, waiting up to timeout seconds while another process holds the lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            message = str(exc)
            if _LOCKED not in message:  # (not "lock": a path may hold it, e.g. /data/blocks)
                raise WarehouseError(explain_open_error(db, message)) from exc
            holder = _HOLDER.search(message)
            who = f"process {holder.group(1)}" if holder else "another process"
            if time.monotonic() >= deadline:
                waited = f"waited {timeout:g} s; " if timeout > 0 else ""
                lost = f"{to_write} was not written; " if to_write else ""
                raise WarehouseError(
                    f"warehouse {db} is busy: {who} has it open (DuckDB lets one process "
                    f"write, or several read, at a time); {waited}{lost}try again when it has "
                    f"finished, or set {LOCK_TIMEOUT_ENV}=SECONDS to wait longer"
                ) from None
            if not told:
                purpose = f" to write {to_write}" if to_write else ""
                print(
                    f"waiting for {who} to finish with {db}{purpose} "
                    f"(up to {timeout:g} s, {LOCK_TIMEOUT_ENV}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                told.append(who)
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        except duckdb.Error as exc:
            raise WarehouseError(explain_open_error(db, str(exc))) from exc


# A DuckDB file: three 4 KiB headers, then 256 KiB blocks.
_HEADERS, _BLOCK = 3 * 4096, 256 * 1024


def _is_duckdb_file(db: Path) -> bool:
    """True for a DuckDB database file, a missing file or an empty one (DuckDB fills it).
    A file laid out in DuckDB's blocks whose header has lost its magic bytes is a damaged
    warehouse, not some other kind of file: that is raised as such."""
    try:
        with db.open("rb") as f:
            header = f.read(12)
        size = db.stat().st_size
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise WarehouseError(f"cannot read {db}: {exc.strerror}: check its permissions") from exc
    if not header or header[8:12] == b"DUCK":
        return True
    if size > _HEADERS and (size - _HEADERS) % _BLOCK == 0:
        reads = "DuckDB cannot open it, so nothing of it reads"
        raise WarehouseError(damaged(db, "its header has lost DuckDB's mark", reads))
    return False


def _configure(con: duckdb.DuckDBPyConnection, locked: bool) -> duckdb.DuckDBPyConnection:
    """Our settings; locked: ad-hoc SQL may change none (memory, threads, logging, ...)."""
    try:
        # DuckDB's own progress bar would mix with our output on long steps.
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = $limit", {"limit": memory_limit()})
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            f"SPOTCLUST_MEMORY_LIMIT={memory_limit()!r} is not a memory size: use e.g. 2GB"
        ) from exc
    if locked:
        # e.g. CALL enable_logging(storage='file') in the sandbox aborted the whole process
        con.execute("SET lock_configuration = true")
    return con


def memory_limit() -> str:
    """DuckDB's memory budget: SPOTCLUST_MEMORY_LIMIT (e.g. '4GB'), default 1GB.

    DuckDB would otherwise take up to 80% of RAM for its buffers; with a budget it spills
    large sorts and windows to disk instead, so the Python side (the feature matrix,
    scikit-learn) keeps the room it needs at 10M rows.
    """
    return os.environ.get("SPOTCLUST_MEMORY_LIMIT", "1GB")


def quote_identifier(name: str) -> str:
    """A table, view or column name as a SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'
