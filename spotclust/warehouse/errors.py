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
from pathlib import Path

import duckdb

from spotclust.errors import SpotclustError, WarehouseError


def first_line(message: str, default: str = "unknown error") -> str:
    return message.strip().splitlines()[0] if message.strip() else default


def not_a_warehouse(db: Path) -> str:
    return f"{db} is not a DuckDB warehouse: pass --db with another path, or move the file away"


def explain_open_error(db: Path, message: str) -> str:
    if "not a valid DuckDB database" in message or "database file" in message.lower():
        return not_a_warehouse(db)
    if "Could not read enough bytes" in message or "checksum" in message.lower():
        return (
            f"{db} is damaged or truncated (DuckDB cannot read it): restore it from a copy, "
            "or pass --db with another path"
        )
    if "Read-only file system" in message:
        return f"cannot write {db}: read-only file system; pass --db with a writable path"
    if "Permission denied" in message or "Operation not permitted" in message:
        return f"cannot write {db}: permission denied; pass --db with a writable path"
    return f"cannot open warehouse {db}: {first_line(message)}"


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


def explain_query_error(message: str, write: bool) -> str:
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
        )
    ):
        return f"{first} — files, ATTACH, INSTALL and LOAD are off: pass --allow-external to allow"
    return f"SQL error: {first}"


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_MAX_LINE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_CONVERT = re.compile(
    r'converting column "([^"]+)"\. Could not convert string "([^"]*)" to \'(\w+)\''
)
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def explain_load_error(path: Path, message: str) -> str:
    """Turn a DuckDB read error into one line that says what is wrong and what to do."""
    if _is_broken_gzip(path):  # DuckDB reads a damaged stream on and blames the garbage
        return f"{path} is a truncated or corrupt gzip file: compress or download it again"
    if too_long := _MAX_LINE.search(message):
        return _explain_long_line(path, int(too_long.group(1)))
    if "Error when sniffing file" in message:
        # DuckDB's sniffer gives up on any irregular row in its sample and only lists
        # generic "possible fixes" (which mention utf-8): find the culprit line ourselves.
        return _explain_unsniffable_csv(path)
    line = _CSV_LINE.search(message)
    where = f"line {line.group(1)}" if line else "the file"
    if convert := _CONVERT.search(message):
        column, value, sql_type = convert.groups()
        return (
            f"{path}: {where}, column {column}: {value!r} is not {sql_type.lower()}: "
            "fix the value or remove the row"
        )
    if fields := _FIELDS.search(message):
        expected, found = fields.groups()
        return f"{path}: {where} has {found} fields, the header has {expected}: fix that line"
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return f"{path}: {where} is not valid UTF-8: save the file as UTF-8 and retry"
    if "gzip" in message.lower() or "decompress" in message.lower():
        return f"{path} is a truncated or corrupt gzip file: compress or download it again"
    if "parquet" in message.lower() or "magic bytes" in message.lower():
        return f"{path} is not a valid Parquet file: export it again"
    return f"cannot load {path}: {first_line(message)}"


def _explain_long_line(path: Path, limit: int) -> str:
    """A line longer than DuckDB reads (2 MB by default): find which, 1 MiB at a time."""
    with path.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    line, length = 1, 0  # the line being read, and its bytes so far
    try:
        with gzip.open(path) if compressed else path.open("rb") as stream:
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


def _explain_unsniffable_csv(path: Path) -> str:
    """Why DuckDB could not work out the file's CSV layout: a binary file, a line that is
    not UTF-8, or a line whose number of fields differs from the header's."""
    bad_utf8: list[int] = []

    def text_lines(stream):
        for number, raw in enumerate(stream, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_utf8.append(number)
                return

    with path.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    reader = None
    try:
        with gzip.open(path) if compressed else path.open("rb") as stream:
            if b"\x00" in stream.read(8192):
                return (
                    f"{path} is not a CSV file (it holds binary data): "
                    "give a CSV, .csv.gz or Parquet file"
                )
        with gzip.open(path) if compressed else path.open("rb") as stream:
            reader = csv.reader(text_lines(stream))
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    return (
                        f"{path}: line {reader.line_num} has {len(row)} fields, "
                        f"the header has {len(header)}: fix that line"
                    )
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        if compressed:
            return f"{path} is a truncated or corrupt gzip file: compress or download it again"
        return f"cannot read {path}: {exc}"
    except csv.Error as exc:
        where = f"line {reader.line_num}" if reader else "the file"
        return f"{path}: {where} is not valid CSV ({exc}): fix that line"
    if bad_utf8:
        return f"{path}: line {bad_utf8[0]} is not valid UTF-8: save the file as UTF-8 and retry"
    return (
        f"{path}: cannot work out its CSV layout: save it as a comma-separated UTF-8 file "
        "with one header row"
    )


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
    try:
        yield
    except duckdb.Error as exc:
        raise translate(exc) from exc
    except RuntimeError as exc:
        if str(exc) != "Query interrupted":
            raise
        raise KeyboardInterrupt from exc
