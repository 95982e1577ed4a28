"""Load a CSV, gzipped CSV or Parquet file into raw_tracks, atomically, and record it in ingests."""

from __future__ import annotations

import contextlib
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from spotclust import warehouse
from spotclust.errors import InputFileError, WarehouseError
from spotclust.files.convert import (
    check_values,
    no_clean_tracks,
    prepare,
    select_canonical,
    unit_scales,
)
from spotclust.files.dialect import CsvLayout, sniff, sniff_start
from spotclust.files.load import COLUMN_TYPES, READ_TYPES, in_scan_order, load_complete
from spotclust.files.shapes import Mapping, choose_mapping, shapes
from spotclust.files.source_file import (
    blank_tail,
    check_file,
    detect_format,
    sha256_of,
    without_blank_tail,
)
from spotclust.warehouse.damage import refuse_damaged
from spotclust.warehouse.errors import explain_load_error, explain_write_error

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
    shape: str = "spotify_tracks"  # the layout detected (sql/shapes/<shape>.sql)
    description: str = ""  # what that layout is
    columns: dict[str, str] | None = None  # canonical column -> the file's column
    ignored: tuple[str, ...] = ()  # the file's columns spotclust keeps but does not use
    rescaled: tuple[str, ...] = ()  # 0..1 features the file had on 0..100
    unchanged: bool = False  # the same content, read the same way, as ingest ingest_id: no-op


def ingest(
    source: str | Path | None = None,
    db: str | Path | None = None,
    column_map: dict[str, str] | None = None,
    label_column: str | None = None,
    source_name: str | None = None,
) -> IngestResult:
    """Replace raw_tracks with the file's rows, in one transaction, and re-apply the views.

    With no source, loads the shipped Spotify Tracks dataset. The file's shape is detected
    from its header (sql/shapes/); column_map (canonical column -> the file's column) names
    columns under other names; label_column picks the column used as the genre. On any
    error the warehouse is left exactly as it was. The file the latest ingest loaded (the
    same content, read the same way) again changes nothing (result.unchanged). source_name:
    what the ingests row records instead of the file's path (files/frames: a data frame).
    """
    path = Path(source) if source is not None else shipped_dataset()
    check_file(path)
    fmt = detect_format(path)
    try:
        return _ingest(path, fmt, db, column_map, label_column, path, source_name)
    except InputFileError:
        keep = None if fmt == "parquet" else blank_tail(path)
        if keep is None:
            raise
    # Blank lines at the end that DuckDB's reader refuses (LF lines after CRLF rows, lines
    # of spaces): read a copy of the file without them; path stays the file ingested.
    with without_blank_tail(path, keep) as read:
        return _ingest(path, fmt, db, column_map, label_column, read, source_name)


def _ingest(path: Path, fmt: str, db, column_map, label_column, read: Path, name) -> IngestResult:
    """ingest() of path, whose rows DuckDB reads from read (path, or a copy of it)."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    sha256 = sha256_of(path)
    target = Path(db) if db is not None else warehouse.default_db_path()
    plan = None
    first = fmt == "csv.gz" and read == path and not target.exists()
    if first and not column_map and not label_column:  # maybe the shipped shape, new
        with duckdb.connect() as scratch, ThreadPoolExecutor(max_workers=1) as pool:
            if (guess := _guess(scratch, path)) is not None:
                exact = pool.submit(_whole_plan, scratch.cursor(), path, fmt)
                written = _overlapped(path, fmt, db, guess, exact, (sha256, started, name, t0))
                if written is not None:
                    return written
                plan = exact.result()  # it reads the file otherwise: the normal path's
    if plan is None:
        plan = _scratch_plan(path, fmt, column_map, label_column, read)
    if (same := _already_ingested(db, sha256, plan)) is not None:
        return _result(path, plan, *same, t0, unchanged=True)
    return _write(path, fmt, db, plan, sha256, started, name, t0)


def _scratch_plan(path: Path, fmt: str, column_map, label_column, read: Path) -> _Plan:
    with duckdb.connect() as scratch:  # the file is read and checked before the warehouse
        return _plan(scratch, path, fmt, column_map, label_column, read)


def _whole_plan(cursor, path: Path, fmt: str) -> _Plan:
    """The plan of the whole file, on a cursor of its own (in another thread)."""
    with cursor:
        return _plan(cursor, path, fmt, None, None, path)


def _guess(con, path: Path) -> _Plan | None:
    """The plan of a .csv.gz of the complete shipped shape, from the start of the file alone
    (dialect.sniff_start); None for any other file, or when the start cannot tell."""
    layout = sniff_start(con, path)
    if layout is None:
        return None
    try:
        _check_repeated(path, layout.headers)
        mapping = choose_mapping(str(path), layout.headers)
    except InputFileError:
        return None
    return _Plan(mapping, True, {}, path, "csv.gz", layout) if _strict(mapping) else None


class _Unconfirmed(Exception):
    """The plan made from the whole file is not the one guessed from its start."""


def _overlapped(
    path: Path, fmt: str, db, guess: _Plan, exact: Future, record
) -> IngestResult | None:
    """Write the file as guess plans it while exact, the plan made from the whole file, is
    worked out on the other core: the sniffer decompresses the whole gzip, which takes as
    long as reading it. Committed only if exact reads the file the same way, so the result
    is the normal path's; its errors come first, as when it runs before the warehouse is
    touched. None (nothing written) when it reads the file otherwise."""

    def confirm() -> None:  # inside the transaction, before the commit
        if not _same_load(exact.result(), guess):
            raise _Unconfirmed

    try:
        return _write(path, fmt, db, guess, *record, confirm=confirm)
    except _Unconfirmed:
        return None
    except Exception:
        if exact.exception() is not None:
            raise exact.exception() from None
        if not _same_load(exact.result(), guess):
            return None  # the error was the guess's: the normal path decides
        raise


def _same_load(plan: _Plan, guess: _Plan) -> bool:
    """plan reads the file into raw_tracks exactly as guess does."""
    return (
        plan.strict
        and plan.mapping == guess.mapping
        and plan.layout.reader(READ_TYPES) == guess.layout.reader(READ_TYPES)
    )


def _write(path, fmt, db, plan: _Plan, sha256, started, name, t0, confirm=None) -> IngestResult:
    """Replace the warehouse's data with the file's rows as plan reads them, in one
    transaction; confirm() is called before its commit."""
    target = Path(db) if db is not None else warehouse.default_db_path()
    fresh = not target.exists()  # a failed first ingest must not leave an empty warehouse
    made = _missing_folders(target.parent)  # ... nor the folders made for it
    done = False
    con = warehouse.connect(db, create=True)
    try:
        with warehouse.atomic(con) as commit:
            ingest_id, rows, summary = _replace_data(con, path, fmt, plan, sha256, started, name)
            if confirm is not None:
                confirm()
            commit.what = f"ingest {ingest_id} ({rows} rows)"
        done = True
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the API's edge says to raise SPOTCLUST_MEMORY_LIMIT
    except duckdb.Error as exc:
        if problem := explain_write_error(target, str(exc)):
            raise WarehouseError(problem) from exc  # the warehouse's fault, not the file's
        raise InputFileError(explain_load_error(path, str(exc), plan.read)) from exc
    finally:
        con.close()
        if fresh and not done:
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
            for folder in made:  # innermost first; only if nothing else was put there
                with contextlib.suppress(OSError):
                    folder.rmdir()
    return _result(path, plan, ingest_id, rows, summary, t0)


def _result(path: Path, plan, ingest_id, rows, summary, t0, unchanged=False) -> IngestResult:
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
        shape=plan.mapping.shape,
        description=shapes()[plan.mapping.shape].description,
        columns=dict(plan.mapping.columns),
        ignored=tuple(plan.mapping.ignored),
        rescaled=tuple(f for f, scale in plan.scales.items() if scale != 1),
        unchanged=unchanged,
    )


def _already_ingested(db, sha256: str, plan) -> tuple[int, int, tuple] | None:
    """(ingest_id, rows, summary) when the warehouse holds what ingesting this file would
    write: its latest ingest loaded the same content (sha256), read the same way (shape,
    column mapping, columns kept), with this spotclust, and its rows are all there. None
    otherwise, also for no warehouse yet or one of an older layout (the ingest upgrades
    it). Read-only: nothing is written to find out."""
    target = Path(db) if db is not None else warehouse.default_db_path()
    if not target.is_file():
        return None
    con = warehouse.connect(target, read_only=True)
    try:
        if warehouse.schema_version(con) != warehouse.SCHEMA_VERSION:
            return None
        latest = con.execute(
            "SELECT ingest_id, rows, source_sha256, shape, column_mapping, ignored_columns, "
            "spotclust_version FROM ingests ORDER BY ingest_id DESC LIMIT 1"
        ).fetchall()
        if not latest:
            return None
        ingest_id, rows, *how = latest[0]
        mapping = plan.mapping
        if how != [sha256, mapping.shape, mapping.columns, list(mapping.ignored), _version()]:
            return None
        [(loaded, from_it)] = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE ingest_id = $id) FROM raw_tracks",
            {"id": ingest_id},
        ).fetchall()
        if loaded != rows or from_it != rows:  # rows deleted or added since (sql --write)
            return None
        [summary] = con.execute(warehouse.read_sql("queries/ingest_summary.sql")).fetchall()
        refuse_damaged(con, target)  # "nothing changed" must not hide a damaged warehouse
        return ingest_id, rows, summary
    except duckdb.Error:
        return None  # e.g. another application's DuckDB file: the ingest says what is wrong
    finally:
        con.close()


@dataclass(frozen=True)
class _Plan:
    mapping: Mapping
    strict: bool  # the complete shipped shape: typed by DuckDB's reader, checked by it
    scales: dict[str, float]  # divisor of each 0..1 feature (100: published on 0..100)
    read: Path  # the file DuckDB reads: the one given, or a copy without its blank tail
    read_fmt: str  # ... and its format (a copy is plain CSV)
    layout: CsvLayout | None = None  # a CSV's, sniffed once: later reads do not sniff


def _plan(con, path: Path, fmt: str, column_map, label_column, read: Path) -> _Plan:
    """The file's shape and mapping, and, for any but the complete shipped shape, every
    value checked (a scan of the file in memory, before the warehouse is touched)."""
    read_fmt = fmt if read == path else detect_format(read)
    layout = None
    try:
        if read_fmt == "parquet":  # its schema is in its footer: nothing to sniff
            headers = prepare(con, read, read_fmt)
        else:  # the headers, without yet reading the file as text rows
            layout = sniff(con, read, read_fmt)
            headers = list(layout.headers)
    except duckdb.Error as exc:
        raise InputFileError(explain_load_error(path, str(exc), read)) from exc
    _check_repeated(path, headers)
    mapping = choose_mapping(str(path), headers, column_map, label_column)
    if _strict(mapping) and not column_map and not label_column:
        return _Plan(mapping, True, {}, read, read_fmt, layout)
    try:
        if layout is not None:
            prepare(con, read, read_fmt, layout)
        check_values(con, str(path), mapping, fractions=True)
        scales = unit_scales(con, str(path), mapping)
        return _Plan(mapping, False, scales, read, read_fmt, layout)
    except duckdb.Error as exc:
        raise InputFileError(explain_load_error(path, str(exc), read)) from exc


def _strict(mapping: Mapping) -> bool:
    """The complete shipped shape, every column under its own name."""
    return (
        mapping.shape == "spotify_tracks"
        and len(mapping.columns) == len(COLUMN_TYPES)
        and not mapping.ignored
    )


def _check_repeated(path: Path, headers: list[str]) -> None:
    """DuckDB renames a repeated header name to name_1, name_2, ...: report the repeat."""
    twice = [
        base.group(1)
        for name in headers
        if (base := _REPEATED.fullmatch(name)) and base.group(1) in headers
    ]
    if twice:
        raise InputFileError(
            f"{path}: column(s) {', '.join(dict.fromkeys(twice))} appear more than once in the "
            "header: rename or remove the copies"
        )


def _replace_data(con, path: Path, fmt: str, plan: _Plan, sha256: str, started: datetime, name):
    """Inside the caller's transaction: the file's rows, its ingests row, the models."""
    warehouse.ensure_schema(con)
    ingest_id = con.execute("SELECT nextval('ingest_id_seq')").fetchone()[0]
    con.execute("DELETE FROM raw_tracks")
    if plan.strict:
        index = plan.mapping.index_column
        load_complete(con, plan.read, plan.read_fmt, plan.layout, index, ingest_id)
    else:
        prepare(con, plan.read, plan.read_fmt, plan.layout)
        sql, params = select_canonical(plan.mapping, plan.scales, fractions=True)
        # source_rows numbers the rows by a window over the file
        with in_scan_order(con, ordered=plan.read_fmt != "parquet"):
            con.execute(
                f"INSERT INTO raw_tracks BY NAME SELECT *, $ingest_id AS ingest_id FROM ({sql})",
                {**params, "ingest_id": ingest_id},
            )
    rows = con.execute("SELECT count(*) FROM raw_tracks").fetchone()[0]
    if rows == 0:
        raise InputFileError(f"{path} has a header but no data rows: add rows and retry")
    _record(con, ingest_id, path, fmt, rows, plan.mapping, sha256, started, name)
    warehouse.apply_models(con)
    [summary] = con.execute(warehouse.read_sql("queries/ingest_summary.sql")).fetchall()
    if summary[3] == 0:
        raise InputFileError(no_clean_tracks(con, path, rows, plan.mapping))
    return ingest_id, rows, summary


def _record(con, ingest_id, path: Path, fmt: str, rows: int, mapping: Mapping, sha256, started,
            name: str | None = None):  # fmt: skip
    """The ingests row: the file (or source_name), when, and how its columns were read."""
    record = {
        "ingest_id": ingest_id,
        "source_path": name or str(path.resolve()),
        "source_sha256": sha256,
        "source_bytes": path.stat().st_size,
        "source_format": fmt,
        "rows": rows,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "spotclust_version": _version(),
        "shape": mapping.shape,
        "column_mapping": mapping.columns,
        "ignored_columns": mapping.ignored,
    }
    columns = ", ".join(record)
    con.execute(
        f"INSERT INTO ingests ({columns}) VALUES ({', '.join('$' + c for c in record)})", record
    )


def _version() -> str:
    from spotclust import __version__

    return __version__


def _missing_folders(folder: Path) -> list[Path]:
    """The folders of folder's path that do not exist yet, innermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing
