"""Reading a file of any known shape into canonical columns, in DuckDB, refusing what is
ambiguous: every value goes through its column's conversion (sql/conversions.sql), and a
value that does not convert is named by row and column, never guessed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from spotclust.errors import InputFileError
from spotclust.files.dialect import CsvLayout
from spotclust.files.shapes import CONVERSIONS, UNIT_FEATURES, Mapping
from spotclust.warehouse import quote_identifier, read_sql


def prepare(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, layout: CsvLayout | None = None
) -> list[str]:
    """The conversion macros, and the file as text rows numbered in file order (temporary
    view source_rows); returns the file's headers. The path reaches DuckDB as a value of
    its reader, never inside SQL text. layout: the CSV's, sniffed already (read as it says,
    without sniffing the file again)."""
    con.execute(read_sql("conversions.sql"))
    if fmt == "parquet":
        relation = con.read_parquet(str(path))
    elif layout is not None:
        call, params = layout.reader()
        relation = con.sql(f"SELECT * FROM {call}", params=params)
    else:  # decompress by content, not by name (DuckDB would guess from the extension)
        compression = "gzip" if fmt == "csv.gz" else "none"
        relation = con.read_csv(
            str(path), header=True, sep=",", quotechar='"', escapechar='"',
            compression=compression, all_varchar=True,
        )  # fmt: skip
    relation.create_view("source_file", replace=True)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW source_rows AS "
        "SELECT row_number() OVER () AS row_number, COLUMNS(*)::VARCHAR FROM source_file"
    )
    return [d[0] for d in con.execute("SELECT * FROM source_rows LIMIT 0").description][1:]


# Canonical columns of whole numbers (raw_tracks keeps them as DOUBLE).
WHOLE_NUMBER_COLUMNS = ("popularity", "duration_ms", "key", "mode", "time_signature")


def converted(mapping: Mapping, column: str) -> str:
    """The SQL expression of a canonical column, from the file's column it maps to."""
    macro = CONVERSIONS[column][0]
    return f"{macro}({quote_identifier(mapping.columns[column])})"


def loaded(mapping: Mapping, column: str) -> str:
    """converted(), but a number with a fraction in a whole-number column (popularity 1.5)
    is kept as it is: ingest's cleaning sets its row aside, as it does for the shipped
    shape (never rounded, never a reason to refuse the file)."""
    if column not in WHOLE_NUMBER_COLUMNS:
        return converted(mapping, column)
    header = quote_identifier(mapping.columns[column])
    return f"coalesce({converted(mapping, column)}, as_fraction({header}))"


def check_values(
    con: duckdb.DuckDBPyConnection, where: str, mapping: Mapping, fractions: bool = False
) -> None:
    """The first value of each column that does not convert, in one pass over the file.
    fractions: a whole-number column's value with a fraction is no error (see loaded())."""
    convert = loaded if fractions else converted
    firsts = [
        f"min(row_number) FILTER (WHERE trim({quote_identifier(header)}) <> '' "
        f"AND {convert(mapping, column)} IS NULL)"
        for column, header in mapping.columns.items()
    ]
    [rows] = con.execute(f"SELECT {', '.join(firsts)} FROM source_rows").fetchall()
    for (column, header), row in zip(mapping.columns.items(), rows, strict=True):
        if row is None:
            continue
        [(value,)] = con.execute(
            f"SELECT {quote_identifier(header)} FROM source_rows WHERE row_number = $row",
            {"row": row},
        ).fetchall()
        [(good,)] = con.execute(
            f"SELECT count({converted(mapping, column)}) FROM source_rows"
        ).fetchall()
        raise InputFileError(_bad_value(where, column, header, row, value, good))


def _bad_value(where: str, column: str, header: str, row: int, value, good: int) -> str:
    accepted = CONVERSIONS[column][1]
    name = header if header == column else f"{header} (read as {column})"
    if not good:  # nothing in the column converts: an encoding spotclust does not know
        return (
            f"{where}: column {name}: no value is {accepted} (row {row} holds {value!r}): "
            f"convert the column, or map another one with --map {column}=COLUMN"
        )
    return (
        f"{where}: row {row}, column {name}: {value!r} is not {accepted}: "
        "fix the value or remove the row"
    )


def unit_scales(con: duckdb.DuckDBPyConnection, where: str, mapping: Mapping) -> dict[str, float]:
    """The divisor of each 0..1 feature: 100 when every value says the file published it on
    0..100 (whole numbers 0..100, some above 1), else 1; a column with values above 1 that
    is not wholly on 0..100 is refused."""
    present = [f for f in UNIT_FEATURES if f in mapping.columns]
    if not present:
        return {}
    stats = ", ".join(
        f"max(v{i}), count(*) FILTER (WHERE v{i} <> round(v{i}) OR v{i} NOT BETWEEN 0 AND 100), "
        f"arg_min(row_number, row_number) FILTER (WHERE v{i} > 1), "
        f"arg_min(v{i}, row_number) FILTER (WHERE v{i} > 1)"
        for i in range(len(present))
    )
    values = ", ".join(f"{converted(mapping, f)} AS v{i}" for i, f in enumerate(present))
    [row] = con.execute(
        f"SELECT {stats} FROM (SELECT row_number, {values} FROM source_rows)"
    ).fetchall()
    scales = {}
    for i, feature in enumerate(present):
        top, not_percent, first_row, first_value = row[4 * i : 4 * i + 4]
        if top is None or top <= 1:
            scales[feature] = 1.0
        elif not not_percent:
            scales[feature] = 100.0
        else:
            header = mapping.columns[feature]
            raise InputFileError(
                f"{where}: column {header}: {feature} is measured on 0..1, but row {first_row} "
                f"holds {first_value:g} and not every value is a whole number 0..100 "
                "(a 0..100 scale?): convert the whole column to 0..1 and retry"
            )
    return scales


def select_canonical(
    mapping: Mapping, scales: dict[str, float], fractions: bool = False
) -> tuple[str, dict]:
    """SELECT of raw_tracks' columns from source_rows (absent ones stay NULL), and its
    parameters. fractions: keep a whole-number column's fractions (see loaded())."""
    convert = loaded if fractions else converted
    items = ["row_number"]
    for column in mapping.columns:
        expression = convert(mapping, column)
        if scales.get(column, 1.0) != 1.0:
            expression = f"{expression} / {scales[column]:g}"
        items.append(f"{expression} AS {quote_identifier(column)}")
    if mapping.index_column is not None:
        items.append(
            f"TRY_CAST({quote_identifier(mapping.index_column)} AS BIGINT) AS source_index"
        )
    if "track_id" not in mapping.columns:  # a stable id of its own, from artists and name
        parts = [converted(mapping, c) for c in ("artists", "track_name") if c in mapping.columns]
        items.append(f"left(md5(concat_ws(chr(31), {', '.join(parts)})), 22) AS track_id")
    if "genre_list" in mapping.columns and "track_genre" not in mapping.columns:
        items.append(f"{converted(mapping, 'genre_list')}[1] AS track_genre")
    if mapping.ignored:  # kept as text, by the file's own column names (bound, never pasted)
        values = ", ".join(f"{quote_identifier(h)}::VARCHAR" for h in mapping.ignored)
        items.append(f"map($extra_columns, [{values}]) AS extra")
    params = {"extra_columns": mapping.ignored} if mapping.ignored else {}
    return f"SELECT {', '.join(items)} FROM source_rows", params


def no_clean_tracks(con: duckdb.DuckDBPyConnection, where, rows: int, mapping: Mapping) -> str:
    """Why cleaning set every row aside: the columns most often empty, the commonest problems."""
    empties = ", ".join(
        f"count(*) FILTER (WHERE {quote_identifier(c if c != 'track_genre' else 'genre')} IS NULL)"
        for c in mapping.columns
        if c != "genre_list"
    )
    [counts] = con.execute(f"SELECT {empties} FROM stg_tracks").fetchall()
    named = [c for c in mapping.columns if c != "genre_list"]
    empty = sorted(
        ((n, mapping.columns[c]) for c, n in zip(named, counts, strict=True) if n),
        reverse=True,
    )
    problems = con.execute(
        "SELECT problem, count(*) FROM (SELECT unnest(problems) AS problem FROM row_checks) "
        "GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 3"
    ).fetchall()
    reasons = [f"{header} empty in {n} rows" for n, header in empty[:3]]
    reasons += [f"{problem} in {n} rows" for problem, n in problems]
    return (
        f"{where}: no clean tracks: cleaning set aside all {rows} rows "
        f"({'; '.join(reasons) or 'duplicates'}): fix those columns, or map others with --map"
    )
