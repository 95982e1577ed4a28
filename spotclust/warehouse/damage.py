"""A damaged warehouse file (a block that fails its checksum, a file cut short): the cause
in words, which tables still read, and the one line that says so. Reading a table to its
last row is the only test of it: DuckDB checks a block's checksum when it reads the block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from spotclust.errors import WarehouseError

_SHORT_READ = re.compile(r'Could not read enough bytes from file "([^"]+)"')
# Every column of every row: hash(t) needs them all (a count alone may read no column).
_READ_ALL = "SELECT count(*), bit_xor(hash(t)) FROM query_table($name) AS t"
TABLES = """
    SELECT table_name FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
    ORDER BY table_name
"""


def damage_cause(message: str, db: Path | str | None = None) -> str | None:
    """What damage to the warehouse file DuckDB met, in words; None for any other error
    (a short read of another file, e.g. a temporary one, is not the warehouse's)."""
    if "Corrupt database file" in message:
        return "a block of it fails its checksum"
    short = _SHORT_READ.search(message)
    if short is None:
        return None
    path = Path(short.group(1))
    if db is not None and path.resolve() != Path(db).resolve():
        return None
    if db is None and path.suffix in (".wal", ".tmp", ".block"):
        return None
    return "the file ends before its last block: it was cut short"


def damaged(db: Path | str, cause: str, reads: str) -> str:
    """One line for a damaged warehouse: the cause, what still reads, and what to do."""
    return (
        f"{db} is damaged or truncated ({cause}): {reads}; restore it from a copy, or ingest "
        "again into a new --db path (this file is left as it is)"
    )


def what_reads(db: Path | str, unreadable: list[str], readable: int) -> str:
    listed = ", ".join(unreadable[:8]) + (", ..." if len(unreadable) > 8 else "")
    return (
        f"{listed} cannot be read, {readable} other tables still read "
        f"(`spotclust check --db {db}` lists them)"
    )


def explain_damage(db: Path | None, message: str) -> str | None:
    """A DuckDB error met in the middle of a command because the warehouse file is damaged,
    as one line that says which tables still read (None: not that kind of error)."""
    cause = damage_cause(message, db)
    if cause is None:
        return None
    if db is None and (short := _SHORT_READ.search(message)):
        db = Path(short.group(1))
    if db is None:
        return damaged("the warehouse", cause, "`spotclust check` lists what still reads")
    found = readable_tables(db)
    if found is None:  # it cannot be opened to look (another process writes it, say)
        return damaged(db, cause, f"`spotclust check --db {db}` lists what still reads")
    return damaged(db, cause, what_reads(db, *found))


@dataclass(frozen=True)
class Reading:
    name: str
    kind: str  # 'table' or 'view'
    rows: int | None  # None: missing, or unreadable
    error: str | None  # why it did not read ('missing' for a relation that is not there)


def read_all(con: duckdb.DuckDBPyConnection, names: list[str], kind: str) -> list[Reading]:
    """Each relation read to its last row, every column."""
    readings = []
    for name in names:
        try:
            [(rows, _)] = con.execute(_READ_ALL, {"name": name}).fetchall()
            readings.append(Reading(name, kind, rows, None))
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error as exc:
            message = str(exc).strip()
            readings.append(Reading(name, kind, None, message.splitlines()[0] if message else "?"))
    return readings


def read_tables(con: duckdb.DuckDBPyConnection) -> list[Reading]:
    """Every table of the warehouse, read to its last row."""
    return read_all(con, [name for (name,) in con.execute(TABLES).fetchall()], "table")


def readable_tables(db: Path) -> tuple[list[str], int] | None:
    """(the tables that do not read, how many do) of a warehouse; None if it cannot be
    opened to look (busy, say, or open in this process with other settings)."""
    con = None
    # The second: alongside the connection of `sql`, still open while its error is explained.
    for config in ({}, {"enable_external_access": False}):
        try:
            con = duckdb.connect(str(db), read_only=True, config=config)
            break
        except duckdb.Error:
            continue
    if con is None:
        return None
    try:
        readings = read_tables(con)
    except duckdb.Error:
        return None
    finally:
        con.close()
    return [r.name for r in readings if r.error], sum(1 for r in readings if not r.error)


def refuse_damaged(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Raise the damage line if a table of the warehouse does not read: a command that is
    about to replace its data (ingest) must not bury the damage under a success."""
    readings = read_tables(con)
    bad = [r for r in readings if r.error and damage_cause(r.error, db)]
    if bad:
        good = sum(1 for r in readings if not r.error)
        cause = damage_cause(bad[0].error or "", db) or ""
        raise WarehouseError(damaged(db, cause, what_reads(db, [r.name for r in bad], good)))
