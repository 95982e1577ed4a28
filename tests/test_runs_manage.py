"""Runs you can manage: `spotclust runs` lists them, `runs delete` and `runs keep --last`
remove every row of a run (in every table with a run_id, in one transaction); the result
views show only runs that `runs` holds, and `spotclust check` (or `tables --check`) names
the rows a run deleted by hand left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from support.cli import run_cli_ok
from support.warehouse_state import warehouse_state

import spotclust
from spotclust.runs import manage
from spotclust.warehouse import recording_commits
from spotclust.warehouse.schema import run_tables

LISTED = ["run_id", "status", "k", "features", "silhouette", "rows_used", "created_at"]


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory, small_template) -> Path:
    """The small fixture clustered three times: runs 1 (k=3), 2 (k=2) and 3 (k=4), one row
    in every run table each. Tests copy it; never write to it."""
    db = tmp_path_factory.mktemp("three_runs") / "three.duckdb"
    shutil.copyfile(small_template, db)
    for k in ("3", "2", "4"):
        run_cli_ok("cluster", "--k", k, "--n-init", "1", "--no-charts", "--quiet", "--db", db)
    return db


@pytest.fixture
def db(tmp_path, three_runs) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(three_runs, copy)
    return copy


def _tables_with_run_id(db: Path) -> set[str]:
    """Every table of the warehouse itself (not the code's list) with a run_id column."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT c.table_name FROM duckdb_columns() AS c "
            "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
            "WHERE c.schema_name = 'main' AND NOT t.internal AND c.column_name = 'run_id'"
        ).fetchall()
    finally:
        con.close()
    return {name for (name,) in rows}


def _run_ids(db: Path, query) -> list[int]:
    return [run_id for (run_id,) in query(db, "SELECT run_id FROM runs ORDER BY run_id")]


def test_the_run_tables_are_every_table_with_a_run_id(db):
    tables = _tables_with_run_id(db)
    assert {"runs", "assignments", "centroids", "cluster_labels"} <= tables
    assert set(run_tables()) == tables


def test_runs_lists_every_run(db, run_cli):
    frame = spotclust.list_runs(db)
    assert frame.columns == LISTED
    assert frame["run_id"].to_list() == [1, 2, 3]
    assert frame["k"].to_list() == [3, 2, 4]
    assert set(frame["status"]) == {"complete"}
    csv = run_cli_ok("runs", "--format", "csv", "--db", db).stdout.splitlines()
    assert csv[0] == ",".join(LISTED) and len(csv) == 4
    assert run_cli_ok("runs", "list", "--format", "csv", "--db", db).stdout.splitlines() == csv
    table = run_cli_ok("runs", "--db", db).stdout
    assert "silhouette" in table and "danceability" in table


def test_delete_removes_every_row_of_the_run_and_nothing_else(db, run_cli):
    before = warehouse_state(db, by_run=True)
    assert all(2 in before[table] for table in run_tables())  # run 2 has rows everywhere
    run = run_cli_ok("runs", "delete", "2", "--db", db)
    assert run.stdout.strip() == "deleted run 2 (its rows in every table)"
    after = warehouse_state(db, by_run=True)
    for table in _tables_with_run_id(db):
        assert 2 not in after[table], table
        assert after[table] == {r: rows for r, rows in before[table].items() if r != 2}, table
    others = [name for name in before if name not in _tables_with_run_id(db)]
    assert {name: after[name] for name in others} == {name: before[name] for name in others}


def test_delete_is_one_transaction_and_runs_before_the_subcommand_take_db(db, run_cli, query):
    with recording_commits() as commits:
        assert manage.delete([3, 1, 3], db) == [1, 3]
    assert commits == ["the deletion of runs 1, 3"]
    assert _run_ids(db, query) == [2]
    assert query(db, "SELECT DISTINCT run_id FROM assignments") == [(2,)]
    assert spotclust.delete_runs([2], db) == [2]
    assert spotclust.list_runs(db).height == 0
    assert "no clustering runs yet" in run_cli_ok("runs", "--db", db).stdout
    assert run_cli_ok("runs", "--format", "json", "--db", db).stdout.strip() == "[]"
    for table in run_tables():
        assert query(db, f'SELECT count(*) FROM "{table}"') == [(0,)], table


def test_keep_last_deletes_all_but_the_newest(db, run_cli, query):
    run = run_cli_ok("runs", "keep", "--last", "1", "--db", db)
    assert run.stdout.strip() == (
        "deleted runs 1, 2 (their rows in every table); kept the newest 1"
    )
    assert _run_ids(db, query) == [3]
    for table in run_tables():
        assert query(db, f'SELECT DISTINCT run_id FROM "{table}"') == [(3,)], table
    before = warehouse_state(db)
    run = run_cli_ok("runs", "keep", "--last", "5", "--db", db)
    assert "nothing to delete" in run.stdout
    assert spotclust.keep_runs(1, db) == []
    assert warehouse_state(db) == before


def test_an_unknown_id_is_refused_in_one_line_and_nothing_is_deleted(
    db, run_cli, assert_one_line_error
):
    before = warehouse_state(db)
    line = assert_one_line_error(run_cli("runs", "delete", "2", "99", "--db", db), "no run 99")
    assert "nothing was deleted" in line and "2" not in line.split("no run")[1].split(":")[0]
    assert_one_line_error(run_cli("runs", "delete", "7", "8", "--db", db), "no runs 7, 8")
    assert_one_line_error(run_cli("runs", "keep", "--last", "-1", "--db", db), "--last")
    assert_one_line_error(run_cli("runs", "delete", "--db", db), "ID")
    with pytest.raises(spotclust.SpotclustError, match="no run 99"):
        spotclust.delete_runs([99], db)
    assert warehouse_state(db) == before


def _findings(stdout: str) -> dict[str, str]:
    lines = stdout.strip().splitlines()
    assert lines[0] == "check,status,detail"
    return {line.split(",")[0].strip('"'): line.split(",")[1] for line in lines[1:]}


def test_a_run_deleted_by_hand_is_hidden_and_check_names_its_rows(db, run_cli, query):
    for view in ("cluster_summary", "genre_breakdown"):
        assert (1,) in query(db, f"SELECT DISTINCT run_id FROM {view}")
    run_cli_ok("sql", "DELETE FROM runs WHERE run_id = 1", "--write", "--db", db)
    for view in ("cluster_summary", "genre_breakdown"):
        assert query(db, f"SELECT DISTINCT run_id FROM {view} ORDER BY 1") == [(2,), (3,)]
    assert spotclust.list_runs(db)["run_id"].to_list() == [2, 3]

    checked = run_cli("check", "--format", "csv", "--db", db)
    assert checked.exit_code == 1 and checked.traceback is None, checked.output
    found = _findings(checked.stdout)
    orphaned = sorted(_tables_with_run_id(db) - {"runs"})
    assert {f"no orphaned rows in {table}" for table in orphaned} <= found.keys()
    assert {check for check, status in found.items() if status == "problem"} == {
        f"no orphaned rows in {table}" for table in orphaned
    }
    problems = checked.stderr.strip().splitlines()
    assert len(problems) == len(orphaned)
    assert all("run 1: " in p and "spotclust runs delete 1" in p for p in problems)

    alias = run_cli("tables", "--check", "--format", "csv", "--db", db)
    assert (alias.exit_code, alias.stdout, alias.stderr) == (1, checked.stdout, checked.stderr)

    run = run_cli_ok("runs", "delete", "1", "--db", db)  # the leftovers are run 1's
    assert run.stdout.strip() == "deleted run 1 (its rows in every table)"
    assert run_cli("check", "--db", db).exit_code == 0
    assert run_cli("tables", "--check", "--db", db).exit_code == 0


@pytest.mark.parametrize("fixture", ["clustered_template", "small_template", "full_db"])
def test_check_finds_no_orphans_in_the_fixtures(fixture, request):
    report = spotclust.check(request.getfixturevalue(fixture))
    orphans = [f for f in report.findings if f.check.startswith("no orphaned rows in ")]
    assert {f.check for f in orphans} == {
        f"no orphaned rows in {table}" for table in run_tables() if table != "runs"
    }
    assert all(f.status == "ok" for f in orphans), orphans
    assert report.problems == ()


def test_the_api_lists_runs_as_list_runs_beside_the_runs_subpackage(db):
    """spotclust.runs is the subpackage (what makes and reads a run); the API function that
    lists runs is list_runs, as charts' is write_charts."""
    import spotclust.runs.place as place_module

    assert place_module.__name__ == "spotclust.runs.place"
    assert "list_runs" in spotclust.__all__ and "runs" not in spotclust.__all__
    assert spotclust.list_runs(db)["run_id"].to_list() == [1, 2, 3]
