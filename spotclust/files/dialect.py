"""How DuckDB reads a CSV file, asked once per ingest: the sniffer's dialect and columns.

Every query that binds read_csv with detection on sniffs the file again, and for a gzip the
sniffer decompresses all of it: 0.3 s of the shipped 8 MB file, twice what reading it takes.
sniff() asks sniff_csv once; CsvLayout.reader() is a read_csv call with that answer pinned
(detection off, the dialect and columns given), which reads the same rows without sniffing:
what duckdb's own read_csv relation does, without its three sniffs. Values reach DuckDB as
parameters, never as SQL text.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

# How spotclust reads every CSV: a header row, commas, double quotes escaped by doubling,
# decompressed by content (DuckDB would guess from the extension).
_ASKED = "header = true, delim = ',', quote = '\"', escape = '\"', compression = $compression"
# The reader options the sniffer works out beyond those asked, and the column of
# sniff_csv's answer that holds each (the call its own Prompt writes).
_SNIFFED = (
    ("new_line", "NewLineDelimiter"),
    ("comment", "Comment"),
    ("skip", "SkipRows"),
    ("dateformat", "DateFormat"),
    ("timestampformat", "TimestampFormat"),
)
# How much of a gzip's start sniff_start() reads, decompressed: a header and a thousand rows
# or so, sniffed in milliseconds.
_START = 1 << 18


def compression(fmt: str) -> str:
    return "gzip" if fmt == "csv.gz" else "none"


@dataclass(frozen=True)
class CsvLayout:
    """A CSV file's layout as DuckDB's sniffer read it."""

    path: Path
    fmt: str  # 'csv' or 'csv.gz'
    sniffed: tuple[tuple[str, object], ...]  # (reader option, value), from _SNIFFED
    columns: tuple[tuple[str, str], ...]  # (header, sniffed type), in file order

    @property
    def headers(self) -> list[str]:
        return [header for header, _ in self.columns]

    def reader(self, types: dict[str, str] | None = None) -> tuple[str, dict]:
        """read_csv of the file without sniffing, and its parameters. Every column as text;
        with types (header -> DuckDB type), those columns so and the others as sniffed."""
        columns = {
            header: ("VARCHAR" if types is None else types.get(header, sniffed))
            for header, sniffed in self.columns
        }
        options = "".join(f", {option} = $csv_{option}" for option, _ in self.sniffed)
        call = f"read_csv($csv_path, {_ASKED}{options}, auto_detect = false, columns = $columns)"
        params = {
            "csv_path": str(self.path),
            "compression": compression(self.fmt),
            "columns": columns,
            **{f"csv_{option}": value for option, value in self.sniffed},
        }
        return call, params


def sniff(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> CsvLayout:
    """The layout of a CSV or .csv.gz file (DuckDB's error when it cannot be sniffed)."""
    answer = con.execute(
        f"SELECT * FROM sniff_csv($path, {_ASKED})",
        {"path": str(path), "compression": compression(fmt)},
    )
    names = [column[0] for column in answer.description]
    reported = dict(zip(names, answer.fetchall()[0], strict=True))
    # As duckdb's relation pins it: '(empty)' is sniff_csv's word for none; a format the
    # file did not need is NULL; and a DATE column read by the lenient ISO 8601 cast is
    # reported as '%Y-%m-%d', which pinned would refuse '2024-01-03 00:00:00'.
    if reported["DateFormat"] == "%Y-%m-%d":
        reported["DateFormat"] = None
    sniffed = tuple(
        (option, "" if reported[field] == "(empty)" else reported[field])
        for option, field in _SNIFFED
        if reported[field] is not None
    )
    columns = tuple((column["name"], column["type"]) for column in reported["Columns"])
    return CsvLayout(path, fmt, sniffed, columns)


def sniff_start(con: duckdb.DuckDBPyConnection, path: Path) -> CsvLayout | None:
    """A guess at sniff()'s answer for a .csv.gz in a few milliseconds: the layout of its
    first complete lines (up to 256 KiB decompressed), as a plain CSV. Only a guess: the
    sniffer's sample reaches further into the file (ingest checks it against sniff()).
    None when the start cannot tell (a damaged gzip, no complete line, no sniff)."""
    try:
        with gzip.open(path) as stream:
            start = stream.read(_START)
            whole = not stream.read(1)
    except (OSError, EOFError, zlib.error):
        return None
    end = len(start) if whole else start.rfind(b"\n") + 1
    if not end:
        return None
    with tempfile.TemporaryDirectory(prefix="spotclust-") as folder:
        copy = Path(folder) / "start.csv"
        copy.write_bytes(start[:end])
        try:
            layout = sniff(con, copy, "csv")
        except duckdb.Error:
            return None
    return replace(layout, path=path, fmt="csv.gz")
