"""Shared fixtures: temporary warehouses (the small fixture, the full dataset, the grouped
tracks), small Spotify-shaped input files, and the helpers of support/ handed out as fixtures
(run the real CLI in this process, read warehouses back).

Nothing is mocked: every test drives `spotclust` and checks what ends up in DuckDB.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from support.cli import AMBIENT_SETTINGS, Run, assert_one_line_error, run_cli, run_cli_ok
from support.grouped_data import write_grouped_csv
from support.warehouse_state import query, warehouse_state

import spotclust
from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset

COLUMNS: list[str] = list(COLUMN_TYPES)  # the 20 named Spotify columns, in file order
HEADER: list[str] = ["", *COLUMNS]  # plus the unnamed leading index column

# The small fixture: the first 10 rows of these genres of the shipped dataset, in this order
# (deliberately not alphabetical, so "first in file order" differs from "first genre by name").
FIXTURE_GENRES = ("techno", "metal", "jazz", "k-pop", "blues", "acoustic")
ROWS_PER_GENRE = 10


# --------------------------------------------------------------------------- running the CLI
# (the functions are in support/; these fixtures only hand them out)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch):
    """A SPOTCLUST_DB (or lock timeout) from the developer's shell must not leak into a test."""
    for name in AMBIENT_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session", name="run_cli")
def _run_cli() -> Callable[..., Run]:
    """run_cli(*args, env=None): `spotclust ARGS` in this process (support.cli.run_cli)."""
    return run_cli


@pytest.fixture(scope="session", name="assert_one_line_error")
def _assert_one_line_error() -> Callable[..., str]:
    """assert_one_line_error(run, *needles) (support.cli.assert_one_line_error)."""
    return assert_one_line_error


# ------------------------------------------------------------------------ reading warehouses


@pytest.fixture(scope="session", name="query")
def _query() -> Callable[..., list[tuple]]:
    """query(db, sql, params=None): rows from a read-only connection that is closed again
    (support.warehouse_state.query)."""
    return query


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict]:
    """snapshot(db): every table's rows, the views and the sequences, to compare before/after
    (support.warehouse_state.warehouse_state)."""
    return warehouse_state


# ------------------------------------------------------------------------ building input files


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence], gz: bool = False):
    """Write rows the way the shipped file is written (csv module, minimal quoting, \\n)."""
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def real_rows() -> list[list[str]]:
    """The first ROWS_PER_GENRE rows of each FIXTURE_GENRES genre of the shipped file, as the
    exact text of the file (all_varchar), without the index column, genres in fixture order."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"""
            SELECT {", ".join(f'"{c}"' for c in COLUMNS)}
            FROM read_csv($path, header = true, all_varchar = true)
            WHERE track_genre IN $genres
            QUALIFY row_number() OVER (
                PARTITION BY track_genre ORDER BY column00::BIGINT) <= {ROWS_PER_GENRE}
            ORDER BY list_position($genres, track_genre), column00::BIGINT
            """,
            {"path": str(shipped_dataset()), "genres": list(FIXTURE_GENRES)},
        ).fetchall()
    finally:
        con.close()
    rows = [list(r) for r in rows]
    # The planted problems below are the only problems: the picked rows must be clean.
    assert len(rows) == len(FIXTURE_GENRES) * ROWS_PER_GENRE
    assert len({r[0] for r in rows}) == len(rows), "picked rows share a track_id"
    assert all(all(v not in (None, "") for v in r) for r in rows)
    assert all(3 <= int(r[COLUMNS.index("time_signature")]) <= 7 for r in rows)
    assert all(float(r[COLUMNS.index("tempo")]) > 0 for r in rows)
    return rows


@dataclass
class SmallData:
    """The 60-row fixture: real rows with these planted problems (0-based data positions).

    row_number in raw_tracks is position + 1; the file line is position + 2 (the header is
    line 1).
    """

    header: list[str]
    rows: list[list[str]]  # with the leading index 0..59 as text
    empty_artists: int = 2  # techno: artists emptied -> 'missing values'
    zero_tempo: int = 12  # metal: tempo = 0 -> 'impossible values'
    zero_time_signature: int = 22  # jazz: time_signature = 0 -> 'impossible values'
    duplicate_of: int = 33  # k-pop ...
    duplicate: int = 35  # ... this row is an exact copy of it (but the index) -> 'duplicate rows'
    repeat_first: int = 4  # techno: a track that is also listed ...
    repeat_second: int = 55  # ... under acoustic, with a higher popularity -> 'one row per track'
    # cleaning_report (step, name, rows_in, rows_out) for this file
    expected_report: list[tuple] = field(
        default_factory=lambda: [
            (1, "load", 60, 60),
            (2, "missing values", 60, 59),
            (3, "impossible values", 59, 57),
            (4, "duplicate rows", 57, 56),
            (5, "one row per track", 56, 55),
        ]
    )

    def value(self, position: int, column: str) -> str:
        return self.rows[position][HEADER.index(column)]

    def without_index(self) -> tuple[list[str], list[list[str]]]:
        return self.header[1:], [r[1:] for r in self.rows]


def _col(name: str) -> int:
    return HEADER.index(name)


@pytest.fixture(scope="session")
def small(real_rows) -> SmallData:
    data = SmallData(header=list(HEADER), rows=[])
    rows = [[str(i), *r] for i, r in enumerate(real_rows)]
    rows[data.empty_artists][_col("artists")] = ""
    rows[data.zero_tempo][_col("tempo")] = "0.0"
    rows[data.zero_time_signature][_col("time_signature")] = "0"
    rows[data.duplicate] = [str(data.duplicate), *rows[data.duplicate_of][1:]]
    second = [str(data.repeat_second), *rows[data.repeat_first][1:]]
    second[_col("track_genre")] = "acoustic"
    second[_col("popularity")] = str(min(100, int(second[_col("popularity")]) + 7))
    assert second[_col("popularity")] != rows[data.repeat_first][_col("popularity")]
    rows[data.repeat_second] = second
    data.rows = rows
    return data


@pytest.fixture
def small_csv(tmp_path, small) -> Path:
    """The 60-row fixture written as tmp_path/small.csv (with the index column)."""
    return write_csv(tmp_path / "small.csv", small.header, small.rows)


@pytest.fixture(scope="session")
def small_template(tmp_path_factory, small) -> Path:
    """The 60-row fixture ingested once per session; tests get copies (small_db)."""
    folder = tmp_path_factory.mktemp("small")
    csv_path = write_csv(folder / "small.csv", small.header, small.rows)
    db = folder / "template.duckdb"
    run_cli_ok("ingest", csv_path, "--db", db)
    assert not (folder / "template.duckdb.wal").exists()  # closed and checkpointed
    return db


@pytest.fixture(scope="session")
def clustered_template(tmp_path_factory, small_template) -> Path:
    """The small fixture ingested, clustered (k=3) and swept (k=2..4), once per session: a
    warehouse with rows in every table. Tests copy it; never write to it."""
    db = tmp_path_factory.mktemp("clustered") / "clustered.duckdb"
    shutil.copyfile(small_template, db)
    for args in (
        ["cluster", "--k", "3", "--n-init", "2", "--no-charts", "--quiet"],
        ["sweep", "--k", "2..4", "--n-init", "2", "--quiet"],
    ):
        run_cli_ok(*args, "--db", db)
    return db


@pytest.fixture
def small_db(tmp_path, small_template) -> Path:
    """A warehouse of its own (tmp_path/w.duckdb) with the 60-row fixture ingested once,
    from the session's small.csv (so ingests.source_path is that file, not small_csv)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    return db


@pytest.fixture(scope="session")
def full_db(tmp_path_factory) -> Path:
    """A warehouse with the full shipped dataset, ingested once per session (read it only)."""
    db = tmp_path_factory.mktemp("full") / "full.duckdb"
    run_cli_ok("ingest", "--db", db)
    return db


@pytest.fixture(scope="session")
def grouped_template(tmp_path_factory) -> Path:
    """Synthetic tracks in three known groups (support.grouped_data), written as grouped.csv
    next to the warehouse and ingested once per session. Tests copy it; never write to it."""
    folder = tmp_path_factory.mktemp("grouped")
    write_grouped_csv(folder / "grouped.csv")
    db = folder / "template.duckdb"
    spotclust.ingest(folder / "grouped.csv", db)
    return db


@pytest.fixture
def grouped_db(tmp_path, grouped_template) -> Path:
    """A warehouse of its own (tmp_path/w.duckdb) with the grouped tracks ingested."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(grouped_template, db)
    return db


@pytest.fixture(scope="session")
def make_csv() -> Callable[..., Path]:
    """make_csv(path, header, rows, gz=False): write a CSV like the shipped one."""
    return write_csv
