"""Load a CSV, gzipped CSV or Parquet file into raw_tracks, atomically, and record it in ingests."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from spotclust import warehouse
from spotclust.errors import InputFileError, WarehouseError
from spotclust.warehouse.errors import explain_load_error, explain_write_error

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
    fmt = detect_format(path)
    sha256 = _sha256(path)

    with duckdb.connect() as scratch:  # header checks happen before the warehouse is touched
        index_column = _check_columns(scratch, path, fmt)

    target = Path(db) if db is not None else warehouse.default_db_path()
    fresh = not target.exists()  # a failed first ingest must not leave an empty warehouse
    done = False
    con = warehouse.connect(db, create=True)
    try:
        with warehouse.atomic(con):
            ingest_id, rows, summary = _replace_data(con, path, fmt, index_column, sha256, started)
        done = True
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the API's edge says to raise SPOTCLUST_MEMORY_LIMIT
    except duckdb.Error as exc:
        if problem := explain_write_error(target, str(exc)):
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


def _replace_data(con, path: Path, fmt: str, index_column, sha256: str, started: datetime):
    """Inside the caller's transaction: the file's rows, its ingests row, the models."""
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
    warehouse.apply_models(con)
    [summary] = con.execute(warehouse.read_sql("queries/ingest_summary.sql")).fetchall()
    return ingest_id, rows, summary


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


def detect_format(path: Path) -> str:
    """'parquet', 'csv.gz' or 'csv', from the file's first bytes."""
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
