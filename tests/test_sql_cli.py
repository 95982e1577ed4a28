"""`spotclust sql` and `spotclust tables` end to end, against real warehouses."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from support.cli import assert_succeeded
from support.processes import run_process

from spotclust.warehouse.schema import declared_tables
from spotclust.warehouse.sql_files import models

# Every relation spotclust's SQL files make, and its kind: tables.sql's tables, and each
# model as its file declares it.
RELATIONS = {
    **dict.fromkeys(declared_tables(), "table"),
    **{model.name: model.materialized for model in models()},
}
# The views whose rows are counted here too (the others are slow on the full dataset).
COUNTED_VIEWS = ("cleaning_report", "feature_selection")
# three genres and the total: text of different lengths, numbers of 3 and 6 digits
GENRE_COUNTS = (
    "SELECT genre, count(*) AS n FROM track_genres "
    "WHERE genre IN ('jazz', 'k-pop', 'acoustic') GROUP BY genre "
    "UNION ALL SELECT 'all', count(*) FROM track_genres ORDER BY n, genre"
)


def ok(run):
    return assert_succeeded(run).stdout


# ====================================================================================== formats


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split("[│┃|]", line.strip().strip("│┃|"))]


def test_table_format_is_aligned_with_a_header(full_db, run_cli, query):
    expected = query(full_db, GENRE_COUNTS)
    out = ok(run_cli("sql", GENRE_COUNTS, "--db", full_db))
    lines = [line for line in out.splitlines() if line.strip()]
    [header] = [line for line in lines if _cells(line) == ["genre", "n"]]
    body = [line for line in lines if len(_cells(line)) == 2 and line != header]
    assert [_cells(line) for line in body] == [[g, str(n)] for g, n in expected]
    assert lines.index(header) < lines.index(body[0])
    # every line has the same width, with the column borders at the same places
    assert len({len(line) for line in lines}) == 1, out
    borders = {tuple(i for i, ch in enumerate(line) if ch in "│┃|") for line in [header, *body]}
    assert len(borders) == 1, out
    # numbers are right-aligned: their last digits line up; text is left-aligned
    ends = {line.index(str(n)) + len(str(n)) for (_, n), line in zip(expected, body, strict=True)}
    assert len(ends) == 1, out
    starts = {line.index(g) for (g, _), line in zip(expected, body, strict=True)}
    assert len(starts) == 1, out


def test_csv_format(full_db, run_cli, query):
    sql = (
        "SELECT track_id, track_name, popularity, danceability, explicit FROM tracks "
        "WHERE track_name LIKE '%,%' ORDER BY track_id LIMIT 5"
    )
    expected = query(full_db, sql)
    assert len(expected) == 5 and all("," in r[1] for r in expected)
    out = ok(run_cli("sql", sql, "--format", "csv", "--db", full_db))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["track_id", "track_name", "popularity", "danceability", "explicit"]
    assert len(rows) == 6
    for got, want in zip(rows[1:], expected, strict=True):
        assert got[:3] == [want[0], want[1], str(want[2])]  # commas in names are quoted
        assert float(got[3]) == want[3]
        assert int(got[4]) == want[4]


def test_csv_format_of_nulls_is_empty(full_db, run_cli):
    out = ok(
        run_cli("sql", "SELECT 1 AS a, NULL AS b, 'x' AS c", "--format", "csv", "--db", full_db)
    )
    assert out.splitlines() == ["a,b,c", "1,,x"]


def test_json_format(full_db, run_cli, query):
    sql = (
        "SELECT track_id, popularity, explicit, danceability, genre, genre_count "
        "FROM tracks ORDER BY track_id LIMIT 3"
    )
    expected = query(full_db, sql)
    data = json.loads(ok(run_cli("sql", sql, "--format", "json", "--db", full_db)))
    assert isinstance(data, list) and len(data) == 3
    keys = ["track_id", "popularity", "explicit", "danceability", "genre", "genre_count"]
    for got, want in zip(data, expected, strict=True):
        assert list(got) == keys
        assert got == dict(zip(keys, want, strict=True))
        assert isinstance(got["popularity"], int) and isinstance(got["danceability"], float)


def test_json_format_of_nulls_and_timestamps(full_db, run_cli, query):
    sql = "SELECT ingest_id, started_at, NULL AS nothing FROM ingests"
    data = json.loads(ok(run_cli("sql", sql, "--format", "json", "--db", full_db)))
    [(ingest_id, started_at, _)] = query(full_db, sql)
    assert len(data) == 1
    assert data[0]["ingest_id"] == ingest_id == 1
    assert data[0]["nothing"] is None
    assert datetime.fromisoformat(data[0]["started_at"]) == started_at


def test_markdown_format(full_db, run_cli, query):
    expected = query(full_db, GENRE_COUNTS)
    out = ok(run_cli("sql", GENRE_COUNTS, "--format", "markdown", "--db", full_db))
    assert out.splitlines() == [
        "| genre | n |",
        "| --- | --- |",
        *(f"| {genre} | {n} |" for genre, n in expected),
    ]


def test_empty_result_still_has_a_header(full_db, run_cli):
    sql = "SELECT track_id, popularity FROM tracks WHERE popularity > 1000"
    assert ok(run_cli("sql", sql, "--format", "csv", "--db", full_db)).split() == [
        "track_id,popularity"
    ]
    assert json.loads(ok(run_cli("sql", sql, "--format", "json", "--db", full_db))) == []


def test_csv_format_as_a_subprocess(full_db, query, tmp_path):
    expected = query(full_db, GENRE_COUNTS)
    run = run_process(["sql", GENRE_COUNTS, "--format", "csv", "--db", full_db], cwd=tmp_path)
    assert run.exit_code == 0, run.output
    assert run.stderr == ""
    assert list(csv.reader(io.StringIO(run.stdout))) == [
        ["genre", "n"],
        *([g, str(n)] for g, n in expected),
    ]


# ================================================================================== parameters


def test_number_parameters_are_bound_as_numbers(full_db, run_cli, query):
    [(expected,)] = query(full_db, "SELECT count(*) FROM tracks WHERE popularity > 80")
    # a text parameter would compare as text ('9' > '80') and count something else
    [(as_text,)] = query(full_db, "SELECT count(*) FROM tracks WHERE popularity::VARCHAR > '80'")
    assert expected != as_text and expected > 0
    sql = "SELECT count(*) AS n FROM tracks WHERE popularity > $p"
    out = ok(run_cli("sql", sql, "-p", "p", "80", "--format", "csv", "--db", full_db))
    assert out.split() == ["n", str(expected)]


def test_float_text_and_several_parameters(full_db, run_cli, query):
    [(expected,)] = query(
        full_db,
        "SELECT count(*) FROM tracks WHERE danceability > 0.9 AND genre = 'k-pop'",
    )
    assert expected > 0
    sql = "SELECT count(*) AS n FROM tracks WHERE danceability > $d AND genre = $g"
    out = ok(
        run_cli(
            "sql",
            sql,
            "-p",
            "d",
            "0.9",
            "--param",
            "g",
            "k-pop",
            "--format",
            "csv",
            "--db",
            full_db,
        )
    )
    assert out.split() == ["n", str(expected)]


def test_missing_parameter_is_one_line(full_db, run_cli, assert_one_line_error):
    run = run_cli("sql", "SELECT $nope AS x", "--db", full_db)
    assert_one_line_error(run)


# =============================================================================== read-only etc.


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE scratch AS SELECT 1 AS x",
        "DELETE FROM raw_tracks",
        "DROP VIEW tracks",
        "INSERT INTO ingests SELECT * FROM ingests",
    ],
)
def test_read_only_by_default(sql, small_db, run_cli, snapshot, assert_one_line_error):
    before = snapshot(small_db)
    assert_one_line_error(run_cli("sql", sql, "--db", small_db), "--write")
    assert snapshot(small_db) == before


def test_write_allows_changes(small_db, run_cli, query):
    ok(run_cli("sql", "CREATE TABLE scratch AS SELECT 42 AS x", "--write", "--db", small_db))
    assert query(small_db, "SELECT x FROM scratch") == [(42,)]
    ok(run_cli("sql", "DELETE FROM raw_tracks WHERE row_number > 10", "--write", "--db", small_db))
    assert query(small_db, "SELECT count(*) FROM raw_tracks") == [(10,)]


EXTERNAL = {
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
    "copy to": "COPY (SELECT 1 AS x) TO '{tmp}/x.csv'",
    "attach": "ATTACH '{tmp}/other.duckdb' AS other",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "re-enable": "SET enable_external_access = true",
}


@pytest.mark.parametrize("write", [False, True], ids=["read-only", "--write"])
@pytest.mark.parametrize("sql", EXTERNAL.values(), ids=EXTERNAL.keys())
def test_external_access_is_off_by_default(
    sql, write, tmp_path, small_db, run_cli, snapshot, assert_one_line_error
):
    before = snapshot(small_db)
    flags = ["--write"] if write else []
    run = run_cli("sql", sql.format(tmp=tmp_path), *flags, "--db", small_db)
    assert_one_line_error(run)
    assert not (tmp_path / "x.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()
    assert snapshot(small_db) == before


@pytest.mark.parametrize(
    "sql",
    [v for k, v in EXTERNAL.items() if k != "load"],
    ids=[k for k in EXTERNAL if k != "load"],
)
def test_external_access_message_names_the_flag(
    sql, tmp_path, small_db, run_cli, assert_one_line_error
):
    assert_one_line_error(
        run_cli("sql", sql.format(tmp=tmp_path), "--db", small_db), "--allow-external"
    )


def test_load_message_names_the_flag(small_db, run_cli, assert_one_line_error):
    assert_one_line_error(run_cli("sql", "LOAD httpfs", "--db", small_db), "--allow-external")


def test_allow_external_lets_a_query_read_a_file(small_db, small_csv, run_cli):
    sql = f"SELECT count(*) AS n FROM read_csv('{small_csv}')"
    out = ok(run_cli("sql", sql, "--allow-external", "--format", "csv", "--db", small_db))
    assert out.split() == ["n", "60"]


# ====================================================================================== errors


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELEC 1", "SELEC"),
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("SELECT no_such_column FROM tracks", "no_such_column"),
    ],
)
def test_bad_sql_is_one_line(sql, needle, full_db, run_cli, assert_one_line_error):
    line = assert_one_line_error(run_cli("sql", sql, "--db", full_db), needle)
    assert line.startswith("Error: SQL error"), line


def test_bad_sql_as_a_subprocess(full_db, tmp_path, assert_one_line_error):
    run = run_process(["sql", "SELEC 1", "--db", full_db], cwd=tmp_path)
    line = assert_one_line_error(run)
    assert line.startswith("Error: SQL error"), line
    assert run.exit_code == 1


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["tables"]], ids=["sql", "tables"])
def test_no_warehouse_yet(command, tmp_path, run_cli, assert_one_line_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "not_yet.duckdb"
    assert_one_line_error(run_cli(*command, "--db", db), "spotclust ingest", "not_yet.duckdb")
    assert not db.exists()
    assert_one_line_error(run_cli(*command), "spotclust ingest")
    assert not (tmp_path / "warehouse").exists()


def test_no_warehouse_yet_as_a_subprocess(tmp_path, assert_one_line_error):
    run = run_process(["sql", "SELECT 1"], cwd=tmp_path)
    assert_one_line_error(run, "spotclust ingest")
    assert not (tmp_path / "warehouse").exists()


NOT_DUCKDB = {
    "text": b"hello, I am a text file\n",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "zero bytes": b"",
}


@pytest.mark.parametrize("content", NOT_DUCKDB.values(), ids=NOT_DUCKDB.keys())
@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["tables"]], ids=["sql", "tables"])
def test_a_file_that_is_not_duckdb(command, content, tmp_path, run_cli, assert_one_line_error):
    db = tmp_path / "notes.txt"
    db.write_bytes(content)
    assert_one_line_error(run_cli(*command, "--db", db), "notes.txt", "not a DuckDB")
    assert db.read_bytes() == content


def test_a_csv_file_given_as_the_warehouse(
    tmp_path, small_csv, make_csv, small, run_cli, assert_one_line_error
):
    victim = make_csv(tmp_path / "victim.csv", small.header, small.rows)
    content = victim.read_bytes()
    assert_one_line_error(run_cli("sql", "SELECT 1", "--db", victim), "not a DuckDB")
    assert_one_line_error(run_cli("ingest", small_csv, "--db", victim), "not a DuckDB")
    assert victim.read_bytes() == content


# ====================================================================================== tables


def test_tables_lists_every_table_and_view(full_db, run_cli, query):
    listed = json.loads(ok(run_cli("tables", "--format", "json", "--db", full_db)))
    assert [list(r) for r in listed] == [["name", "kind", "rows", "description"]] * len(listed)
    by_name = {r["name"]: r for r in listed}
    assert len(by_name) == len(listed)
    actual = {
        name: kind
        for name, kind in query(
            full_db,
            "SELECT table_name, 'table' FROM duckdb_tables() "
            "WHERE schema_name = 'main' AND NOT internal "
            "UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
            "WHERE schema_name = 'main' AND NOT internal",
        )
    }
    assert {n: r["kind"] for n, r in by_name.items()} == actual
    for name, kind in RELATIONS.items():
        assert by_name[name]["kind"] == kind, name
    for name, row in by_name.items():
        assert row["description"].strip(), f"{name} has no description"
        assert isinstance(row["rows"], int) and row["rows"] >= 0, name
        if row["kind"] == "table" or name in COUNTED_VIEWS:
            assert row["rows"] == query(full_db, f'SELECT count(*) FROM "{name}"')[0][0], name
    assert by_name["raw_tracks"]["rows"] == 114_000
    assert by_name["ingests"]["rows"] == 1
    assert by_name["cleaning_report"]["rows"] == 5
    assert by_name["feature_correlations"]["rows"] == 225
    assert by_name["feature_selection"]["rows"] == 15
    assert by_name["tracks"]["rows"] == 88_732


def test_tables_default_format(small_db, run_cli):
    out = ok(run_cli("tables", "--db", small_db))
    lines = out.splitlines()
    assert any("name" in line and "description" in line for line in lines[:3])
    cells = {}
    for line in lines:
        parts = [c.strip() for c in line.strip("│ ").split("│")]
        if len(parts) == 4:
            cells[parts[0]] = parts[1:]
    for name, kind in RELATIONS.items():
        assert cells[name][0] == kind, name
        assert cells[name][2], name
    assert cells["raw_tracks"][1] == "60"
    assert cells["tracks"][1] == "55"
    assert cells["ingests"][1] == "1"
