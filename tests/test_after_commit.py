"""A failure after the commit is reported as such: 'committed run N; ...' and exit status 3,
never the 1 that means nothing changed; pages are whole or absent; advice about memory
points above what failed (issue 13, items 2 and 4)."""

from __future__ import annotations

import shutil

from spotclust.warehouse.errors import _more_memory


def test_charts_that_cannot_be_written_after_the_run_say_the_run_was_committed(
    tmp_path, small_template, run_cli, query
):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    blocked = tmp_path / "pages"
    blocked.write_text("a file where the chart folder's parent should be")
    run = run_cli("cluster", "--k", "3", "--charts-dir", blocked / "run", "--db", db)
    assert run.exit_code == 3, run.output
    [line] = [line for line in run.stderr.splitlines() if line.strip()]
    assert "committed run 1; charts not written" in line and "Traceback" not in run.output
    assert query(db, "SELECT run_id, status FROM runs") == [(1, "complete")]


def test_pages_are_written_whole_and_leave_no_partial_file(tmp_path, small_template, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    out = tmp_path / "pages"
    run = run_cli("cluster", "--k", "3", "--charts-dir", out, "--db", db)
    assert run.exit_code == 0, run.output
    names = sorted(p.name for p in out.iterdir())
    assert "index.html" in names and not [n for n in names if n.endswith(".partial")]
    assert all((out / n).stat().st_size > 0 for n in names)


def test_the_memory_advice_is_above_the_budget_that_ran_out():
    # under ulimit -v the advice was "(now 4GB), e.g. 4GB"
    assert _more_memory("4GB") == "8GB"
    assert _more_memory("1GB") == "4GB" and _more_memory("512MB") == "4GB"
    assert _more_memory("10GB") == "20GB" and _more_memory("not a size") == "4GB"
