"""Every translation of a DuckDB error message into one line a user can act on.

The library raises only SpotclustError subclasses: the functions of the public API run
inside `translated()`, which turns whatever DuckDB raised into the same clear line the CLI
prints. A new diagnosis goes here, next to its siblings.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import duckdb

from spotclust.errors import SpotclustError, WarehouseError
from spotclust.warehouse.damage import damage_cause, damaged, explain_damage


def first_line(message: str, default: str = "unknown error") -> str:
    return message.strip().splitlines()[0] if message.strip() else default


def not_a_warehouse(db: Path) -> str:
    return (
        f"{db} is not a DuckDB warehouse (some other kind of file, left as it is): pass --db "
        "with the warehouse's path, or a new path to make one"
    )


# The warehouse the current API call opened last (connect records it): an error met in the
# middle of a command (a block that fails its checksum) names no file; the diagnosis does.
_opened: ContextVar[Path | None] = ContextVar("spotclust_opened", default=None)


def record_opened(db: Path) -> None:
    _opened.set(db)


def same_process(db: Path | str) -> str:
    return (
        f"this process already has {db} open through another connection with other settings "
        "(e.g. duckdb.connect(..., read_only=True) in a notebook): close that connection "
        "(con.close()) and retry; nothing is wrong with the file"
    )


_SAME_PROCESS = "different configuration than existing connections"
_WAL_FAILURE = re.compile(r'Failure while replaying WAL file "[^"]*": (.*)', re.DOTALL)
_STORAGE = re.compile(r"database file with version number (\d+), but we can only read ([^.\n]+)")


def explain_open_error(db: Path, message: str) -> str:
    if problem := explain_wal_error(db, message):  # first: its reason may name the file
        return problem
    if _SAME_PROCESS in message:
        return same_process(db)
    if cause := damage_cause(message, db):
        return damaged(db, cause, "DuckDB cannot open it, so nothing of it reads")
    if "not a valid DuckDB database" in message:
        return not_a_warehouse(db)
    if storage := _STORAGE.search(message):
        fix = (
            "upgrade duckdb (pip install -U duckdb)"
            if "newer version" in message
            else "EXPORT DATABASE with the duckdb that wrote it, then IMPORT DATABASE here"
        )
        return (
            f"{db} was written by another version of DuckDB (storage version "
            f"{storage.group(1)}; duckdb {duckdb.__version__} reads {storage.group(2)}): "
            f"{fix}; the file was not changed"
        )
    if "Read-only file system" in message:
        return f"cannot write {db}: read-only file system; pass --db with a writable path"
    if "Permission denied" in message or "Operation not permitted" in message:
        return f"cannot write {db}: permission denied; pass --db with a writable path"
    return f"cannot open warehouse {db}: {first_line(message)}"


def explain_wal_error(db: Path, message: str) -> str | None:
    """The write-ahead log next to db (changes not yet folded into the file) cannot be
    replayed: whose log it is, and what to do. None for any other error."""
    found = _WAL_FAILURE.search(message)
    if found is None:
        return None
    reason, wal = found.group(1), db.with_name(db.name + ".wal")
    kept = "neither file was changed"
    if "WAL does not match database file" in reason:
        return (
            f"{wal} is the write-ahead log of another database (copied or left next to "
            f"{db.name}): it holds none of this warehouse's changes; move it away and retry "
            f"({kept})"
        )
    if "checkpoint iteration does not match" in reason:
        state = "a later" if "a newer version" in reason else "an earlier"
        return (
            f"{wal} was written for {state} state of {db.name} than the file holds (the file "
            "was replaced by a copy, or the log copied from one): put back the file it belongs "
            f"to, or move the log away to open {db.name} as it is ({kept})"
        )
    if "Corrupt WAL file" in reason:
        return (
            f"{wal}, the log of {db.name}'s changes since its last checkpoint, is damaged: "
            f"keep a copy of both files, then move the log away to open {db.name} as of that "
            f"checkpoint (without those changes), or restore both from a copy ({kept})"
        )
    return (
        f"cannot replay {wal}, the log of {db.name}'s changes since its last checkpoint: "
        f"{first_line(reason)}; keep a copy of both files, then move the log away to open "
        f"{db.name} as of that checkpoint, or restore both from a copy"
    )


_CANNOT_OPEN = re.compile(r'Cannot open file "([^"]+)": ([^\n]+)')


def explain_write_error(db: str | Path | None, message: str) -> str | None:
    """One line for a DuckDB error writing the warehouse db (None: any warehouse) or its
    write-ahead log: a folder where the log cannot be created, a full disk. None for any
    other error."""
    if problem := explain_damage(Path(db) if db is not None else _opened.get(), message):
        return problem
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


def explain_query_error(message: str, write: bool) -> str:
    if problem := explain_damage(_opened.get(), message):
        return problem
    first = first_line(message)
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
            "enable_external_access",
        )
    ):
        return f"{first} — files, ATTACH, INSTALL and LOAD are off: pass --allow-external to allow"
    if "the configuration has been locked" in message and "enable_external_access" not in message:
        return (
            f"{first} — ad-hoc SQL cannot change DuckDB's settings; the memory budget is "
            "SPOTCLUST_MEMORY_LIMIT"
        )
    return f"SQL error: {first}"


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_MAX_LINE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_CONVERT = re.compile(
    r'converting column "([^"]+)"\. Could not convert string "([^"]*)" to \'(\w+)\''
)
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
# What a value of a column read as each type must be, in words.
_TYPE_WORDS = {
    "double": "a number",
    "integer": "a whole number",
    "bigint": "a whole number",
    "boolean": "true or false",
}


def type_words(sql_type: str) -> str:
    """'a number' for DOUBLE, ...: what a value read as sql_type must be."""
    return _TYPE_WORDS.get(sql_type.lower(), sql_type.lower())


def explain_load_error(path: Path, message: str, read: Path | None = None) -> str:
    """Turn a DuckDB read error into one line that says what is wrong and what to do.

    read: the file DuckDB read, when it is not path itself (a copy of path without the
    blank lines at its end, files.ingest): diagnosed, but path is the file named."""
    read = read or path
    if _is_broken_gzip(read):  # DuckDB reads a damaged stream on and blames the garbage
        return f"{path} is a truncated or corrupt gzip file: compress or download it again"
    if too_long := _MAX_LINE.search(message):
        return _explain_long_line(path, int(too_long.group(1)), read)
    if "Error when sniffing file" in message:
        # DuckDB's sniffer gives up on any irregular row in its sample and only lists
        # generic "possible fixes" (which mention utf-8): find the culprit line ourselves.
        return _explain_unsniffable_csv(path, read)
    line = _CSV_LINE.search(message)
    where = f"line {line.group(1)}" if line else "the file"
    if convert := _CONVERT.search(message):
        column, value, sql_type = convert.groups()
        return (
            f"{path}: {where}, column {column}: {value!r} is not {type_words(sql_type)}: "
            "fix the value or remove the row"
        )
    if "unterminated quote" in message:  # the line the quoted field starts on
        return f"{path}: {where} has a quote that is not closed: fix that line"
    if fields := _FIELDS.search(message):
        expected, found = fields.groups()
        return f"{path}: {where} has {found} fields, the header has {expected}: fix that line"
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return f"{path}: {where} is not valid UTF-8: save the file as UTF-8 and retry"
    if "gzip" in message.lower() or "decompress" in message.lower():
        return f"{path} is a truncated or corrupt gzip file: compress or download it again"
    if "parquet" in message.lower() or "magic bytes" in message.lower():
        return f"{path} is not a valid Parquet file: export it again"
    return f"cannot load {path}: {first_line(message).replace(str(read), str(path))}"


def _explain_long_line(path: Path, limit: int, read: Path) -> str:
    """A line longer than DuckDB reads (2 MB by default): find which, 1 MiB at a time."""
    with read.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    line, length = 1, 0  # the line being read, and its bytes so far
    try:
        with gzip.open(read) if compressed else read.open("rb") as stream:
            while (block := stream.read(1 << 20)) and length <= limit:
                start = 0
                while (end := block.find(b"\n", start)) != -1:
                    length += end - start
                    if length > limit:
                        break
                    line, length, start = line + 1, 0, end + 1
                else:
                    length += len(block) - start
    except (OSError, EOFError, zlib.error):
        pass  # a broken stream: the line reached so far is the best answer
    return (
        f"{path}: line {line} is longer than {limit:,} bytes (a track row is a few hundred): "
        "it is not a CSV of tracks, or its line breaks are missing; fix that line"
    )


def _is_broken_gzip(path: Path) -> bool:
    """True for a gzip file that does not decompress to its end with a good checksum."""
    try:
        with path.open("rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return False
        with gzip.open(path) as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error):
        return True
    return False


def _explain_unsniffable_csv(path: Path, read: Path) -> str:
    """Why DuckDB could not work out the file's CSV layout: a binary file, a line that is
    not UTF-8, a quote that is not closed, or a line whose number of fields differs from
    the header's. A row is named by the line it starts on (a quoted field may span lines)."""
    bad_utf8: list[int] = []

    def text_lines(stream):
        for number, raw in enumerate(stream, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_utf8.append(number)
                return

    with read.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    reader, start = None, 1
    try:
        with gzip.open(read) if compressed else read.open("rb") as stream:
            if b"\x00" in stream.read(8192):
                return (
                    f"{path} is not a CSV file (it holds binary data): "
                    "give a CSV, .csv.gz or Parquet file"
                )
        with gzip.open(read) if compressed else read.open("rb") as stream:
            reader = csv.reader(text_lines(stream), strict=True)
            header = next(reader, [])
            start = reader.line_num + 1
            for row in reader:
                if row and len(row) != len(header):
                    if reader.line_num > start and _opens_a_quote(row):
                        return _open_quote(path, start, reader.line_num)
                    return (
                        f"{path}: line {start} has {len(row)} fields, "
                        f"the header has {len(header)}: fix that line"
                    )
                start = reader.line_num + 1
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        if compressed:
            return f"{path} is a truncated or corrupt gzip file: compress or download it again"
        return f"cannot read {path}: {exc}"
    except csv.Error as exc:
        if reader is None:
            return f"{path}: the file is not valid CSV ({exc}): fix it"
        if reader.line_num > start or "end of data" in str(exc) or "field limit" in str(exc):
            return _open_quote(path, start, reader.line_num)  # a quoted field ran on
        return f"{path}: line {start} is not valid CSV ({exc}): fix that line"
    if bad_utf8:
        return f"{path}: line {bad_utf8[0]} is not valid UTF-8: save the file as UTF-8 and retry"
    return (
        f"{path}: cannot work out its CSV layout: save it as a comma-separated UTF-8 file "
        "with one header row"
    )


def _opens_a_quote(row: list[str]) -> bool:
    """A row whose quoted field took in line breaks: a quote opened and closed lines later."""
    return any("\n" in field or "\r" in field for field in row)


def _open_quote(path: Path, start: int, end: int) -> str:
    runs_on = f" (its field runs on to line {end})" if end > start else ""
    return f"{path}: line {start} has a quote that is not closed{runs_on}: fix that line"


def out_of_memory() -> str:
    from spotclust.warehouse.connection import memory_limit

    now = memory_limit()
    return (
        "DuckDB ran out of its memory budget: set SPOTCLUST_MEMORY_LIMIT higher "
        f"(now {now}), e.g. SPOTCLUST_MEMORY_LIMIT={_more_memory(now)}, or free memory "
        "(a process limit such as ulimit -v also counts)"
    )


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)?\s*", re.IGNORECASE)
_GB = {"K": 1e-6, "M": 1e-3, "G": 1.0, "T": 1e3}


def _more_memory(now: str) -> str:
    """Twice the budget, at least 4GB: a suggestion above what failed."""
    found = _SIZE.fullmatch(now)
    if not found:
        return "4GB"
    unit = (found.group(2) or "GB")[0].upper()
    gigabytes = float(found.group(1)) * _GB[unit]
    return f"{max(4, round(2 * gigabytes)):g}GB"


def translate(exc: duckdb.Error) -> SpotclustError:
    """Any DuckDB error that reached the API's edge, as one line (a bug or the environment)."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return WarehouseError(out_of_memory())
    if problem := explain_write_error(None, str(exc)):
        return WarehouseError(problem)  # e.g. the write-ahead log cannot be made
    return WarehouseError(f"unexpected database error: {first_line(str(exc), type(exc).__name__)}")


@contextmanager
def translated() -> Iterator[None]:
    """Run a block so that it raises SpotclustError, never a raw DuckDB error.

    Ctrl-C inside a DuckDB query arrives as RuntimeError('Query interrupted'); it is raised
    as the KeyboardInterrupt it is (the query's transaction has rolled back).
    """
    opened = _opened.set(None)
    try:
        yield
    except duckdb.Error as exc:
        raise translate(exc) from exc
    except RuntimeError as exc:
        if str(exc) != "Query interrupted":
            raise
        raise KeyboardInterrupt from exc
    finally:
        _opened.reset(opened)
