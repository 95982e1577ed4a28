"""Songs to place, from a JSON list or a tracks file of any shape ingest reads (an Exportify
export of your playlist places directly), each value checked as ingest checks it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from spotclust.errors import InputFileError
from spotclust.files.convert import check_values, converted, prepare, select_canonical
from spotclust.files.shapes import UNIT_FEATURES, choose_mapping
from spotclust.files.source_file import detect_format
from spotclust.warehouse import quote_identifier
from spotclust.warehouse.errors import explain_load_error

# What a placed song's feature may be, as ingest's cleaning checks it (sql/cleaning).
RANGES: dict[str, tuple[float, float, str]] = {
    **{
        feature: (0.0, 1.0, "outside 0..1 (a 0..100 scale? divide the column by 100)")
        for feature in UNIT_FEATURES
    },
    "popularity": (0, 100, "outside 0..100"),
    "key": (-1, 11, "outside -1..11"),
    "mode": (0, 1, "not 0 or 1"),
}  # fmt: skip
# Not refused: time signatures such as 1/4 and silent tracks (tempo 0) are in real exports,
# and the run's model places any number.


_NOT_SONG = ("extra", "genre_list", "source_index")  # kept by ingest, not part of a song


def read_songs(path: str | Path) -> list[dict]:
    """Songs (dicts of canonical columns) from a JSON object or list, or a CSV/Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no such file: {path}: give a CSV, Parquet or JSON file of songs")
    if path.suffix.lower() == ".json":
        return _json_songs(path)
    with duckdb.connect() as con:
        try:
            headers = prepare(con, path, detect_format(path))
            mapping = choose_mapping(str(path), headers, need_name=False)
            check_values(con, str(path), mapping)
            sql, params = select_canonical(mapping, {})
            result = con.execute(f"SELECT * EXCLUDE (row_number) FROM ({sql})", params)
            columns = [d[0] for d in result.description]
            songs = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
            _check_ranges(con, str(path), mapping)
        except duckdb.Error as exc:
            raise InputFileError(explain_load_error(path, str(exc))) from exc
    return [
        {k: v for k, v in song.items() if v is not None and k not in _NOT_SONG} for song in songs
    ]


def _json_songs(path: Path) -> list[dict]:
    try:
        songs = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(songs, dict):
        songs = [songs]
    if not isinstance(songs, list) or not all(isinstance(s, dict) for s in songs):
        raise InputFileError(f"{path}: expected a JSON object or a list of objects")
    return songs


def _check_ranges(con: duckdb.DuckDBPyConnection, where: str, mapping) -> None:
    """The first row whose feature lies outside what a track can have, by column."""
    for column, (low, high, why) in RANGES.items():
        if column not in mapping.columns:
            continue
        header = mapping.columns[column]
        rows = con.execute(
            f"SELECT row_number, {quote_identifier(header)} FROM source_rows "
            f"WHERE {converted(mapping, column)} NOT BETWEEN $low AND $high ORDER BY row_number",
            {"low": low, "high": high},
        ).fetchall()
        if rows:
            (row, value), more = rows[0], len(rows) - 1
            others = f" (and {more} more rows)" if more else ""
            raise InputFileError(
                f"{where}: row {row}{others}, column {header}: {value} is {why}: fix the value"
            )
