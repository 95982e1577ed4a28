"""The complete shipped shape's rows into raw_tracks: typed by DuckDB's CSV reader, or cast
from a Parquet file's own types, numbered in file order."""

from __future__ import annotations

import contextlib
from pathlib import Path

from spotclust.errors import InputFileError
from spotclust.files.dialect import CsvLayout
from spotclust.warehouse import quote_identifier
from spotclust.warehouse.errors import type_words

# The Spotify Tracks columns and their types (as the tracks table has them), in file order.
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
# The types the complete shipped shape is read as: the whole-number columns as DOUBLE, so
# that a value such as 1.5 reaches the row checks as it is and cleaning sets its row aside.
# Read as INTEGER, DuckDB would round it on the way in: '1.5' and '2.5' in a CSV become 2
# and 3, and 1.5 and 2.5 in a Parquet file 2 and 2 (sql/tables.sql keeps them DOUBLE).
READ_TYPES: dict[str, str] = {
    column: "DOUBLE" if sql_type in ("INTEGER", "BIGINT") else sql_type
    for column, sql_type in COLUMN_TYPES.items()
}

# The complete shipped shape in a Parquet file, its path bound to $path.
_PARQUET = "read_parquet($path)"


def load_complete(
    con, path: Path, fmt: str, layout: CsvLayout | None, index_column: str | None, ingest_id: int
) -> None:
    """Insert the file's rows into raw_tracks (in the caller's transaction), numbered in file
    order. layout: a CSV's, sniffed by the plan (read as it says, without sniffing again)."""
    # Parquet columns keep their own types, so cast them by name (errors become NULL here
    # and are reported by _check_parquet_types); CSV columns are typed by read_csv itself.
    # Both read READ_TYPES: whole numbers as DOUBLE, never rounded (cleaning checks them).
    casts = ", ".join(
        f'TRY_CAST("{c}" AS {t}) AS "{c}"' if fmt == "parquet" else f'"{c}"'
        for c, t in READ_TYPES.items()
    )
    index = (
        f"TRY_CAST({quote_identifier(index_column)} AS BIGINT)" if index_column else "NULL::BIGINT"
    )
    if fmt == "parquet":  # the reader numbers rows itself: no window (19 s -> 11 s at 10M)
        row_number, reader = "file_row_number + 1", "read_parquet($path, file_row_number = true)"
        params = {"path": str(path)}
    else:  # row_number() over the scan follows file order (DuckDB reads it on one thread);
        # read as the plan's sniff found it, the columns typed: no second sniff of the file
        row_number = "row_number() OVER ()"
        reader, params = layout.reader(READ_TYPES)
    with in_scan_order(con, ordered=fmt != "parquet"):
        con.execute(
            f"""
            INSERT INTO raw_tracks BY NAME
            SELECT {row_number} AS row_number, {index} AS source_index, {casts},
                   $ingest_id AS ingest_id
            FROM {reader}
            """,
            {**params, "ingest_id": ingest_id},
        )
    if fmt == "parquet":
        _check_parquet_types(con, path, casts_from=_PARQUET)


@contextlib.contextmanager
def in_scan_order(con, ordered: bool):
    """ordered: the INSERT's rows come in file order without DuckDB promising it: a CSV's,
    numbered by row_number() OVER (), whose scan DuckDB runs on one thread (tested past a
    row group). Promised, DuckDB writes the rows to the file as it inserts them, and when
    they are fewer than a row group (122,880) the commit throws that copy away and
    compresses them again: 0.2 s of the shipped file's 114,000 rows. (Kept promised for a
    Parquet file.) This connection's setting only; a failed INSERT leaves it to the
    connection, which goes with the transaction."""
    if not ordered:
        yield
        return
    [(kept,)] = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    con.execute("SET SESSION preserve_insertion_order = false")
    yield
    con.execute(f"SET SESSION preserve_insertion_order = {'true' if kept else 'false'}")


def _check_parquet_types(con, path: Path, casts_from: str) -> None:
    """A Parquet value that cannot become the column's type is an error, as in a CSV."""
    for column, sql_type in READ_TYPES.items():
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
                f"{path}: row {bad[0]}, column {column}: {bad[1]!r} is not "
                f"{type_words(sql_type)}: fix the value or remove the row"
            )
