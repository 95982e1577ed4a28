"""Load a CSV, gzipped CSV or Parquet file into raw_tracks, atomically, and record it in ingests."""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from spotclust import warehouse
from spotclust.errors import InputFileError, WarehouseError

# The Spotify Tracks columns and the types they are loaded as, in file order.
COLUMN_TYPES: dict[str, str] = {
    "track_id": "VARCHAR",
    "artists": "VARCHAR",
    "album_name": "VARCHAR",
    "track_name": "VARCHAR",
    "popularity": "INTEGER",
    "duration_ms": "BIGINT",
    "explicit": "BOOLEAN",
    "danceability": "DOUBLE",
    "energy": "DOUBLE",
    "key": "INTEGER",
    "loudness": "DOUBLE",
    "mode": "INTEGER",
    "speechiness": "DOUBLE",
    "acousticness": "DOUBLE",
    "instrumentalness": "DOUBLE",
    "liveness": "DOUBLE",
    "valence": "DOUBLE",
    "tempo": "DOUBLE",
    "time_signature": "INTEGER",
    "track_genre": "VARCHAR",
}
# Names an unnamed leading index column gets from DuckDB, pandas or R exports.
_INDEX_COLUMN = re.compile(r"^(column0+|unnamed: ?0|index|)$", re.IGNORECASE)
_REPEATED = re.compile(r"(.+)_\d+")


def shipped_dataset() -> Path:
    """The Spotify Tracks dataset that ships inside the package (see data/SOURCE.md)."""
    return Path(str(resources.files("spotclust") / "data" / "spotify_tracks.csv.gz"))


@dataclass(frozen=True)
class IngestResult:
    ingest_id: int
    source: Path
    rows: int
    distinct_tracks: int
    genres: int
    rows_set_aside: int
    clean_tracks: int
    seconds: float


def ingest(source: str | Path | None = None, db: str | Path | None = None) -> IngestResult:
    """Replace raw_tracks with the file's rows, in one transaction, and re-apply the views.

    With no source, loads the shipped Spotify Tracks dataset. On any error the warehouse
    is left exactly as it was.
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    path = Path(source) if source is not None else shipped_dataset()
    _check_file(path)
    fmt = _detect_format(path)
    sha256 = _sha256(path)

    scratch = duckdb.connect()  # header checks happen before the warehouse is touched
    try:
        index_column = _check_columns(scratch, path, fmt)
    finally:
        scratch.close()

    target = Path(db) if db is not None else warehouse.default_db_path()
    fresh = not target.exists()  # a failed first ingest must not leave an empty warehouse
    done = False
    con = warehouse.connect(db, create=True)
    try:
        with warehouse.transaction(con):
            warehouse.ensure_schema(con)
            ingest_id = con.execute("SELECT nextval('ingest_id_seq')").fetchone()[0]
            con.execute("DELETE FROM raw_tracks")
            _load(con, path, fmt, index_column, ingest_id)
            rows = con.execute("SELECT count(*) FROM raw_tracks").fetchone()[0]
            if rows == 0:
                raise InputFileError(f"{path} has a header but no data rows: add rows and retry")
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ingest_id,
                    str(path.resolve()),
                    sha256,
                    path.stat().st_size,
                    fmt,
                    rows,
                    started,
                    datetime.now(UTC),
                    _version(),
                ],
            )
            warehouse.apply_views(con)
            summary = con.execute(
                """
                SELECT
                    (SELECT count(DISTINCT track_id) FROM raw_tracks),
                    (SELECT count(DISTINCT track_genre) FROM raw_tracks),
                    (SELECT count(*) FROM raw_tracks) - (SELECT count(*) FROM valid_rows),
                    (SELECT count(*) FROM tracks)
                """
            ).fetchone()
        done = True
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the CLI says to raise SPOTCLUST_MEMORY_LIMIT
    except duckdb.Error as exc:
        if problem := warehouse.explain_write_error(target, str(exc)):
            raise WarehouseError(problem) from exc  # the warehouse's fault, not the file's
        raise InputFileError(explain_load_error(path, str(exc))) from exc
    finally:
        con.close()
        if fresh and not done:
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
    distinct_tracks, genres, set_aside, clean_tracks = summary
    return IngestResult(
        ingest_id=ingest_id,
        source=path,
        rows=rows,
        distinct_tracks=distinct_tracks,
        genres=genres,
        rows_set_aside=set_aside,
        clean_tracks=clean_tracks,
        seconds=time.perf_counter() - t0,
    )


def _version() -> str:
    from spotclust import __version__

    return __version__


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputFileError(f"no such file: {path}: check the path")
    if path.is_dir():
        raise InputFileError(f"{path} is a directory: give a CSV, .csv.gz or Parquet file")
    try:
        with path.open("rb") as f:
            first = f.read(1)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}: check its permissions") from exc
    if not first:
        raise InputFileError(f"{path} is empty: give a file with a header row and data rows")


def _detect_format(path: Path) -> str:
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return "parquet"
    name = path.name.lower()
    if name.endswith(".parquet"):
        raise InputFileError(f"{path} is not a valid Parquet file: export it again")
    return "csv.gz" if magic[:2] == b"\x1f\x8b" else "csv"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reader(fmt: str, types: bool) -> str:
    """The DuckDB table function reading the file (bound to parameter $path)."""
    if fmt == "parquet":
        return "read_parquet($path)"
    # Decompress by content, not by name: DuckDB would guess from the extension alone.
    compression = "gzip" if fmt == "csv.gz" else "none"
    options = (
        f"header = true, delim = ',', quote = '\"', escape = '\"', compression = '{compression}'"
    )
    if types:
        return f"read_csv($path, {options}, types = $types)"
    return f"read_csv($path, {options}, all_varchar = true)"


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> str | None:
    """Check the header; return the name of the leading index column, if the file has one."""
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM {_reader(fmt, types=False)}", {"path": str(path)}
        ).fetchall()
    except duckdb.Error as exc:
        raise InputFileError(explain_load_error(path, str(exc))) from exc
    names = [row[0] for row in described]
    index_column = names[0] if names and _INDEX_COLUMN.match(names[0]) else None
    present = [n for n in names if n != index_column]
    missing = [c for c in COLUMN_TYPES if c not in present]
    extra = [c for c in present if c not in COLUMN_TYPES]
    # DuckDB renames a repeated header name to name_1, name_2, ...: report the repeat itself.
    repeated = {}
    for name in extra:
        base = _REPEATED.fullmatch(name)
        if base and base.group(1) in present:
            repeated[name] = base.group(1)
    extra = [c for c in extra if c not in repeated]
    if not names or (missing and len(missing) == len(COLUMN_TYPES)):
        raise InputFileError(
            f"{path} does not look like the Spotify Tracks data (no known column in its header): "
            f"expected columns {', '.join(COLUMN_TYPES)}"
        )
    problems = []
    if repeated:
        twice = sorted(set(repeated.values()), key=present.index)
        problems.append(f"column(s) {', '.join(twice)} appear more than once in the header")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {', '.join(extra)}")
    if problems:
        raise InputFileError(
            f"{path}: {'; '.join(problems)}: the file needs exactly the Spotify Tracks columns "
            f"({', '.join(COLUMN_TYPES)}), plus optionally a leading index column"
        )
    return index_column


def _load(con, path: Path, fmt: str, index_column: str | None, ingest_id: int) -> None:
    # Parquet columns keep their own types, so cast them by name (errors become NULL here
    # and are reported by _check_types); CSV columns are typed by read_csv itself.
    casts = ", ".join(
        f'TRY_CAST("{c}" AS {t}) AS "{c}"' if fmt == "parquet" else f'"{c}"'
        for c, t in COLUMN_TYPES.items()
    )
    index = f'TRY_CAST("{index_column}" AS BIGINT)' if index_column else "NULL::BIGINT"
    params = {"path": str(path), "ingest_id": ingest_id}
    if fmt != "parquet":
        params["types"] = COLUMN_TYPES
    if fmt == "parquet":  # the reader numbers rows itself: no window (19 s -> 11 s at 10M)
        row_number, reader = "file_row_number + 1", "read_parquet($path, file_row_number = true)"
    else:  # row_number() over the scan follows file order (DuckDB preserves insertion order)
        row_number, reader = "row_number() OVER ()", _reader(fmt, types=True)
    con.execute(
        f"""
        INSERT INTO raw_tracks
        SELECT {row_number} AS row_number, {index} AS source_index, {casts},
               $ingest_id AS ingest_id
        FROM {reader}
        """,
        params,
    )
    if fmt == "parquet":
        _check_parquet_types(con, path, casts_from=_reader(fmt, types=True))


def _check_parquet_types(con, path: Path, casts_from: str) -> None:
    """A Parquet value that cannot become the column's type is an error, as in a CSV."""
    for column, sql_type in COLUMN_TYPES.items():
        bad = con.execute(
            f"""
            SELECT row_number, value FROM (
                SELECT row_number() OVER () AS row_number, "{column}"::VARCHAR AS value,
                       TRY_CAST("{column}" AS {sql_type}) AS typed
                FROM {casts_from}
            ) WHERE value IS NOT NULL AND typed IS NULL LIMIT 1
            """,
            {"path": str(path)},
        ).fetchone()
        if bad:
            raise InputFileError(
                f"{path}: row {bad[0]}, column {column}: {bad[1]!r} is not {sql_type.lower()}: "
                "fix the value or remove the row"
            )


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
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"cannot load {path}: {first}"


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
