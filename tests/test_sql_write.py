"""`spotclust sql --write` runs the whole text in one transaction: all or nothing
(issue 13, item 3)."""

from __future__ import annotations

import shutil

from support.warehouse_state import warehouse_state


def test_a_failing_statement_undoes_the_ones_before_it(tmp_path, clustered_template, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    before = warehouse_state(db)
    assert before["sweeps"], "the template must hold sweeps for this test to mean anything"
    run = run_cli("sql", "DELETE FROM sweeps; SELECT error('boom')", "--write", "--db", db)
    assert run.exit_code == 1 and "boom" in run.stderr
    assert warehouse_state(db) == before


def test_every_statement_of_a_successful_write_is_kept(tmp_path, clustered_template, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    run = run_cli(
        "sql",
        "CREATE TABLE notes (x INTEGER); INSERT INTO notes VALUES (1), (2); "
        "SELECT count(*) AS n FROM notes",
        "--write", "--format", "csv", "--db", db,
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert run.stdout.split() == ["n", "2"]
    assert warehouse_state(db)["notes"] == [(1,), (2,)]
