"""What makes ingest fast must not change what it loads: rows stay in file order without
DuckDB promising insertion order, and a first ingest of a .csv.gz, written while the whole
file's sniff runs beside it, commits only what the normal path would have written, and
fails as it would have. Real files, real warehouses, no mocks."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from support.warehouse_state import warehouse_state

from spotclust.errors import InputFileError
from spotclust.files.dialect import sniff, sniff_start
from spotclust.files.ingest import ingest, shipped_dataset


def shipped_lines(rows: int | None = None) -> tuple[str, list[str]]:
    """The shipped file's header line and its first data lines (all of them: None)."""
    with gzip.open(shipped_dataset(), "rt", encoding="utf-8", newline="") as f:
        header, *lines = f.read().splitlines(keepends=True)
    return header, lines[:rows]


def write(path: Path, header: str, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        f.write(header + "".join(lines))
    return path


def existing_warehouse(tmp_path: Path) -> Path:
    """A warehouse that exists already (the plan is then made before it is touched)."""
    header, lines = shipped_lines(100)
    db = tmp_path / "existing.duckdb"
    ingest(write(tmp_path / "first.csv", header, lines), db)
    return db


def raw(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT * EXCLUDE (ingest_id) FROM raw_tracks ORDER BY row_number"
        ).fetchall()
    finally:
        con.close()


def test_rows_beyond_one_row_group_keep_file_order(tmp_path, query):
    # The load does not ask DuckDB to keep insertion order (it would write the rows twice):
    # they must come in file order anyway, numbered and stored, past a row group (122,880).
    header, lines = shipped_lines()
    lines += lines[:20_000]  # 134,000 rows: two row groups
    renumbered = [f"{i},{line.split(',', 1)[1]}" for i, line in enumerate(lines)]
    db = tmp_path / "w.duckdb"
    assert ingest(write(tmp_path / "long.csv", header, renumbered), db).rows == 134_000
    [(numbered, stored)] = query(
        db,
        """
        SELECT bool_and(source_index = row_number - 1),
               bool_and(previous IS NULL OR row_number = previous + 1)
        FROM (SELECT source_index, row_number, lag(row_number) OVER () AS previous
              FROM raw_tracks)
        """,
    )
    assert numbered and stored


def test_a_gzip_whose_start_misleads_loads_as_the_whole_file_reads(tmp_path):
    # The index column holds whole numbers at the start and text further on: sniffed from
    # the start it is BIGINT, from the whole file VARCHAR (whose text becomes NULL).
    header, lines = shipped_lines(5000)
    lines = [line if i < 3000 else "x" + line for i, line in enumerate(lines)]
    path = write(tmp_path / "misleading.csv.gz", header, lines)
    with duckdb.connect() as con:
        assert sniff_start(con, path) != sniff(con, path, "csv.gz")  # the premise
    fresh = tmp_path / "fresh.duckdb"
    assert ingest(path, fresh).rows == 5000
    existing = existing_warehouse(tmp_path)
    assert ingest(path, existing).rows == 5000
    assert raw(fresh) == raw(existing)
    assert [r[1] for r in raw(fresh)[2998:3002]] == [2998, 2999, None, None]


def test_a_gzip_unsniffable_past_its_start_fails_as_before(tmp_path):
    # An extra field on the 1,801st row: the start reads, the whole file's sniff does not.
    header, lines = shipped_lines(5000)
    lines[1800] = lines[1800].rstrip("\n") + ",extra\n"
    path = write(tmp_path / "bad.csv.gz", header, lines)
    with duckdb.connect() as con:
        assert sniff_start(con, path) is not None  # the premise
    folder = tmp_path / "new"
    with pytest.raises(InputFileError) as first:
        ingest(path, folder / "w.duckdb")
    assert not folder.exists(), "a failed first ingest leaves no warehouse, nor its folder"
    existing = existing_warehouse(tmp_path)
    before = warehouse_state(existing)
    with pytest.raises(InputFileError) as normal:
        ingest(path, existing)
    assert warehouse_state(existing) == before
    assert str(first.value) == str(normal.value)
    assert "line 1802" in str(first.value)


def test_a_gzip_with_a_bad_value_fails_as_before(tmp_path):
    # The start and the whole file agree; the load itself fails, as the normal path's does.
    header, lines = shipped_lines(5000)
    fields = lines[4000].split(",")
    fields[-2] = "abc"  # time_signature (fields before it may hold quoted commas)
    lines[4000] = ",".join(fields)
    path = write(tmp_path / "text.csv.gz", header, lines)
    with pytest.raises(InputFileError) as first:
        ingest(path, tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists()
    existing = existing_warehouse(tmp_path)
    with pytest.raises(InputFileError) as normal:
        ingest(path, existing)
    assert str(first.value) == str(normal.value)
    assert "line 4002, column time_signature: 'abc'" in str(first.value)
