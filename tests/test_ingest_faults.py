"""Ingest faults of issue 13: values changed without a word, and files refused or named wrongly.

* A number with a fraction in a whole-number column (popularity 1.5) is neither rounded nor
  refused: cleaning sets its row aside with the reason, alike from CSV and Parquet, whichever
  way the file is read.
* Blank lines at the end of a file (LF lines after CRLF rows, lines of spaces) do not stop it
  loading; a quote left open names the line it opens on; an empty gzip says it is empty.

Every refusal is one line, exit 1, and the warehouse as it was.
"""

from __future__ import annotations

import copy
import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
from support.warehouse_state import warehouse_state

from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset

COLUMNS = list(COLUMN_TYPES)
HEADER = ["", *COLUMNS]
RAW_COLUMNS = ", ".join(f'"{c}"' for c in COLUMNS)


def col(name: str) -> int:
    return HEADER.index(name)


def _report(query, db: Path) -> list[tuple]:
    return query(db, "SELECT * FROM cleaning_report ORDER BY step")


def _set_aside(query, db: Path) -> list[tuple]:
    """(row_number, problems) of every row cleaning sets aside for an impossible value."""
    return query(
        db,
        "SELECT row_number, problems FROM row_checks WHERE len(problems) > 0 ORDER BY 1",
    )


def _raw(query, db: Path) -> list[tuple]:
    return query(db, f"SELECT row_number, {RAW_COLUMNS} FROM raw_tracks ORDER BY row_number")


def _ok(run):
    assert run.traceback is None, run.traceback
    assert run.exit_code == 0, run.output
    return run


# ===================================================== fractions in whole-number columns

# Rows of the fixture that are clean otherwise (blues), and what is planted in them.
FRACTIONS = [  # (data position, column, value)
    (40, "popularity", "1.5"),
    (41, "popularity", "2.5"),
    (42, "popularity", "3.0"),  # a whole number, written with a fraction: accepted as 3
    (43, "key", "4.5"),
]
# The positions whose rows cleaning must set aside for it, and why.
NOT_WHOLE = {
    41: ["popularity is not a whole number"],
    42: ["popularity is not a whole number"],
    44: ["key is not a whole number"],
}  # row_number (position + 1) -> problems


def _with_fractions(small, planted=FRACTIONS) -> list[list[str]]:
    rows = copy.deepcopy(small.rows)
    for position, column, value in planted:
        rows[position][col(column)] = value
    return rows


def _parquet(csv_path: Path, out: Path, *, text: bool, extra: bool = False) -> Path:
    """The CSV as Parquet written by DuckDB: its numbers as DOUBLE (fractions and all) and
    the rest typed, or every column as text; extra: with a column no shape knows."""
    types = {c: "DOUBLE" if t in ("INTEGER", "BIGINT") else t for c, t in COLUMN_TYPES.items()}
    options = "all_varchar = true" if text else "types = $types"
    params = {"p": str(csv_path)} | ({} if text else {"types": types})
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE source AS FROM read_csv($p, header = true, {options})", params)
        if extra:
            con.execute("ALTER TABLE source ADD COLUMN bonus VARCHAR DEFAULT 'x'")
        con.execute(f"COPY source TO '{out}' (FORMAT parquet)")
    finally:
        con.close()
    return out


def _csv(tmp, small, make_csv, rows):
    return make_csv(tmp / "fractions.csv", small.header, rows)


def _csv_gz(tmp, small, make_csv, rows):
    return make_csv(tmp / "fractions.csv.gz", small.header, rows, gz=True)


def _csv_extra_column(tmp, small, make_csv, rows):
    """A column no shape knows: the file is read by name, value by value."""
    return make_csv(tmp / "extra.csv", [*small.header, "bonus"], [[*r, "x"] for r in rows])


def _parquet_typed(tmp, small, make_csv, rows):
    return _parquet(_csv(tmp, small, make_csv, rows), tmp / "typed.parquet", text=False)


def _parquet_text(tmp, small, make_csv, rows):
    return _parquet(_csv(tmp, small, make_csv, rows), tmp / "text.parquet", text=True)


def _parquet_extra_column(tmp, small, make_csv, rows):
    path = _csv(tmp, small, make_csv, rows)
    return _parquet(path, tmp / "extra.parquet", text=False, extra=True)


FORMATS = {
    "csv": _csv,
    "csv.gz": _csv_gz,
    "csv, a column more": _csv_extra_column,
    "parquet typed": _parquet_typed,
    "parquet all text": _parquet_text,
    "parquet, a column more": _parquet_extra_column,
}


@pytest.fixture(scope="module")
def csv_baseline(tmp_path_factory, small, make_csv):
    """The fixture with the fractions planted, ingested from CSV: what every format gives."""
    from support.cli import run_cli

    folder = tmp_path_factory.mktemp("fractions")
    db = folder / "csv.duckdb"
    _ok(run_cli("ingest", _csv(folder, small, make_csv, _with_fractions(small)), "--db", db))
    return db


def test_fractions_in_whole_number_columns_are_set_aside_with_the_reason(csv_baseline, query):
    db = csv_baseline
    assert dict(_set_aside(query, db)) == {
        **NOT_WHOLE,
        13: ["tempo <= 0"],  # the fixture's own
        23: ["time_signature outside 3..7"],
    }
    report = {step: row for step, *row in _report(query, db)}
    assert report[3][1:4] == [59, 54, 5]
    reason = report[3][4]
    assert "popularity is not a whole number: 2" in reason, reason
    assert "key is not a whole number: 1" in reason, reason
    # kept as the file has them until cleaning has seen them: never rounded
    popularity = "SELECT row_number, popularity FROM raw_tracks WHERE row_number IN (41, 42, 43)"
    assert dict(query(db, popularity)) == {41: 1.5, 42: 2.5, 43: 3.0}
    assert query(db, 'SELECT "key" FROM raw_tracks WHERE row_number = 44') == [(4.5,)]
    # 3.0 is the whole number 3: clean, and a track with popularity 3
    assert query(db, "SELECT popularity FROM tracks WHERE row_number = 43") == [(3,)]
    assert query(db, 'SELECT typeof(popularity), typeof("key") FROM tracks LIMIT 1') == [
        ("INTEGER", "INTEGER")
    ]


@pytest.mark.parametrize("build", FORMATS.values(), ids=FORMATS.keys())
def test_fractions_are_set_aside_alike_from_every_format(
    build, csv_baseline, tmp_path, small, make_csv, run_cli, query
):
    path = build(tmp_path, small, make_csv, _with_fractions(small))
    db = tmp_path / "w.duckdb"
    _ok(run_cli("ingest", path, "--db", db))
    assert _report(query, db) == _report(query, csv_baseline)
    assert _set_aside(query, db) == _set_aside(query, csv_baseline)
    assert query(
        db,
        'SELECT popularity, "key" FROM raw_tracks WHERE row_number IN (41, 42, 43, 44) '
        "ORDER BY row_number",
    ) == query(
        csv_baseline,
        'SELECT popularity, "key" FROM raw_tracks WHERE row_number IN (41, 42, 43, 44) '
        "ORDER BY row_number",
    )
    assert query(db, "SELECT popularity FROM tracks WHERE row_number = 43") == [(3,)]


# Every whole-number column, with a fraction: the same reason, from CSV and from Parquet.
WHOLE_NUMBER_COLUMNS = [
    ("popularity", "40.5"),
    ("duration_ms", "210000.25"),
    ("key", "4.5"),
    ("mode", "0.5"),
    ("time_signature", "3.5"),
]


@pytest.mark.parametrize(
    ("column", "value"), WHOLE_NUMBER_COLUMNS, ids=[c for c, _ in WHOLE_NUMBER_COLUMNS]
)
@pytest.mark.parametrize(
    "build", [_csv, _parquet_typed, _csv_extra_column], ids=["csv", "parquet", "csv, a column more"]
)
def test_every_whole_number_column_sets_a_fraction_aside(
    column, value, build, tmp_path, small, make_csv, run_cli, query
):
    path = build(tmp_path, small, make_csv, _with_fractions(small, [(45, column, value)]))
    db = tmp_path / "w.duckdb"
    _ok(run_cli("ingest", path, "--db", db))
    [(problems,)] = query(db, "SELECT problems FROM row_checks WHERE row_number = 46")
    assert f"{column} is not a whole number" in problems
    [(raw,)] = query(db, f'SELECT "{column}" FROM raw_tracks WHERE row_number = 46')
    assert raw == float(value)
    assert query(db, "SELECT count(*) FROM valid_rows WHERE row_number = 46") == [(0,)]


# ============================================================ blank lines at the end of a file


def _crlf_body(small) -> bytes:
    lines = [",".join(small.header)] + [",".join(_quoted(v) for v in r) for r in small.rows]
    return "\r\n".join(lines).encode() + b"\r\n"


def _quoted(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


BLANK_TAILS = {
    "CRLF, then LF blank lines": b"\n\n",
    "CRLF, then CR CR LF blank lines": b"\r\r\n\r\r\n",
    "CRLF, then lines of spaces": b"  \r\n \t \r\n",
    "CRLF, then a lone CR": b"\r",
}


@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
@pytest.mark.parametrize("tail", BLANK_TAILS.values(), ids=BLANK_TAILS.keys())
def test_blank_lines_at_the_end_do_not_stop_a_file_loading(
    tail, gz, tmp_path, small, small_db, run_cli, query
):
    data = _crlf_body(small) + tail
    path = tmp_path / ("tail.csv.gz" if gz else "tail.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    db = tmp_path / "tail.duckdb"  # (small_db is tmp_path / w.duckdb)
    _ok(run_cli("ingest", path, "--db", db))
    assert _raw(query, db) == _raw(query, small_db)
    assert _report(query, db) == _report(query, small_db)
    [(source, size, fmt)] = query(
        db, "SELECT source_path, source_bytes, source_format FROM ingests"
    )
    assert (source, size, fmt) == (
        str(path.resolve()),
        path.stat().st_size,
        "csv.gz" if gz else "csv",
    )


def test_a_bad_value_in_a_file_with_blank_lines_at_the_end_names_the_file(
    tmp_path, small, small_db, run_cli, assert_one_line_error
):
    rows = copy.deepcopy(small.rows)
    rows[30][col("popularity")] = "abc"
    data = _crlf_body(type(small)(header=small.header, rows=rows)) + b"\n\n"
    path = tmp_path / "bad_and_blank.csv"
    path.write_bytes(data)
    before = warehouse_state(small_db)
    run = run_cli("ingest", path, "--db", small_db)
    line = assert_one_line_error(run, str(path), "line 32", "popularity", "'abc'")
    assert run.exit_code == 1
    assert line.count("bad_and_blank.csv") == 1, line  # the file, never a copy of it
    assert warehouse_state(small_db) == before


# ====================================================================== a quote left open


def _rows_text(small, rows) -> list[str]:
    return [",".join(small.header)] + [",".join(_quoted(v) for v in r) for r in rows]


def test_a_quote_left_open_names_the_line_it_opens_on(
    tmp_path, small, small_db, run_cli, assert_one_line_error
):
    lines = _rows_text(small, small.rows)
    lines[1] = lines[1].replace(",", ',"', 1)  # line 2: a quote opens and never closes there
    path = tmp_path / "open_quote.csv"
    path.write_text("\n".join(lines) + "\n")
    before = warehouse_state(small_db)
    run = run_cli("ingest", path, "--db", small_db)
    line = assert_one_line_error(run, "open_quote.csv", "line 2", "quote", "fix that line")
    assert run.exit_code == 1
    assert "line 2 " in line or "line 2:" in line or "line 2," in line, line
    assert warehouse_state(small_db) == before


def test_a_quote_left_open_past_the_sniff_sample_names_its_line(
    tmp_path, small_db, run_cli, assert_one_line_error
):
    """DuckDB's sniffer reads the first 20,480 rows; a quote left open later is DuckDB's own
    error, which must name the line too."""
    with gzip.open(shipped_dataset(), "rt", newline="") as f:
        lines = [next(f).rstrip("\n") for _ in range(25_001)]
    lines[24_000] = lines[24_000].replace(",", ',"', 1)
    path = tmp_path / "late_quote.csv"
    path.write_text("\n".join(lines) + "\n")
    before = warehouse_state(small_db)
    run = run_cli("ingest", path, "--db", small_db)
    assert_one_line_error(run, "late_quote.csv", "line 24001", "quote", "fix that line")
    assert run.exit_code == 1
    assert warehouse_state(small_db) == before


# ============================================================================ empty files


EMPTY = {
    "an empty gzip": lambda: gzip.compress(b""),
    "a gzip of blank lines": lambda: gzip.compress(b"\n\r\n  \n"),
}


@pytest.mark.parametrize("content", EMPTY.values(), ids=EMPTY.keys())
def test_an_empty_gzip_says_the_file_is_empty(
    content, tmp_path, small_db, run_cli, assert_one_line_error
):
    path = tmp_path / "nothing.csv.gz"
    path.write_bytes(content())
    before = warehouse_state(small_db)
    run = run_cli("ingest", path, "--db", small_db)
    line = assert_one_line_error(run, "nothing.csv.gz", "is empty", "header row")
    assert run.exit_code == 1
    assert "column" not in line, line
    assert warehouse_state(small_db) == before


def test_a_file_of_blank_lines_says_it_is_empty(tmp_path, small_db, run_cli, assert_one_line_error):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\r\n\r\n   \n")
    before = warehouse_state(small_db)
    run = run_cli("ingest", path, "--db", small_db)
    assert_one_line_error(run, "blank.csv", "is empty", "header row")
    assert warehouse_state(small_db) == before


def test_a_first_ingest_of_an_empty_gzip_leaves_no_warehouse(
    tmp_path, run_cli, assert_one_line_error
):
    path = tmp_path / "nothing.csv.gz"
    path.write_bytes(gzip.compress(b""))
    db = tmp_path / "new" / "w.duckdb"
    assert_one_line_error(run_cli("ingest", path, "--db", db), "is empty")
    assert not db.parent.exists()
    shutil.rmtree(tmp_path / "new", ignore_errors=True)
