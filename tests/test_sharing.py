"""Sharing the warehouse: `cluster` and `sweep` hold DuckDB's write lock only while they write.

A run reads its features through a read-only connection (other processes read meanwhile),
fits with the warehouse closed (a streamed, mini-batch fit reads on, read-only), then opens
it for writing for its one transaction, in which it checks that the data it fitted is still
the warehouse's. Real processes throughout: a `spotclust sql` started while a long sweep or
cluster fits answers at once, instead of waiting for the whole fit (run with -s to see how
long it waited, and how long the fit took).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import pytest
from support.processes import Holder, lock_holders, run_process, start_process
from support.warehouse_state import query

import spotclust

# On the full dataset, each takes several seconds to fit (and well under a second to write).
SWEEP = ["sweep", "--k", "2..8", "--n-init", "1", "--no-silhouette", "-q"]
CLUSTER = ["cluster", "--k", "8", "--n-init", "10", "--silhouette-sample", "2000"]
CLUSTER += ["--no-charts", "-q"]
STREAMED = ["cluster", "--k", "12", "--algorithm", "minibatch", "--exact-silhouette"]
STREAMED += ["--no-charts", "-q"]
WAIT = {"SPOTCLUST_LOCK_TIMEOUT": "600"}
CHANGED = (
    "the data changed while this {} was fitting (ingest 1 replaced by 2): run the command again"
)
READ_ONLY_HERE = (
    "this process already has the warehouse {db} open read-only "
    "(duckdb.connect(..., read_only=True)): close that connection (con.close()), then run again"
)


@pytest.fixture(autouse=True)
def _needs_proc_locks():
    if not Path("/proc/locks").exists():
        pytest.skip("needs /proc/locks (Linux) to see who holds the warehouse")


def _opened(db: Path, proc) -> None:
    """Once proc has opened the warehouse (its lock seen in /proc/locks, polled closely: a
    run reads its features in a fraction of a second, then lets go)."""
    deadline = time.monotonic() + 300
    while proc.pid not in lock_holders(db):
        assert proc.popen.poll() is None, proc.stderr
        assert time.monotonic() < deadline, "it never opened the warehouse"
        time.sleep(0.001)


def _timed(args, cwd: Path, env=None):
    t0 = time.monotonic()
    done = run_process(args, cwd, env)
    return done, time.monotonic() - t0


@pytest.mark.parametrize(
    ("command", "table"),
    [(SWEEP, "sweeps"), (CLUSTER, "runs"), (STREAMED, "runs")],
    ids=["sweep", "cluster", "minibatch"],
)
def test_sql_answers_while_a_long_command_fits(command, table, full_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(full_db, db)
    count = ["sql", f"SELECT count(*) AS n FROM {table}", "--format", "csv", "--db", db]
    alone, alone_seconds = _timed(count, tmp_path)  # the query's own time, nobody else there
    assert alone.exit_code == 0 and alone.stdout.split() == ["n", "0"], alone.stderr
    proc = start_process([*command, "--db", db], tmp_path, WAIT, tag="fit")
    _opened(db, proc)
    t0 = time.monotonic()
    during, seconds = _timed(count, tmp_path, WAIT)
    assert proc.wait() == 0, proc.stderr
    working = time.monotonic() - t0  # from its opening the warehouse to its end
    waited = seconds - alone_seconds
    print(
        f"\n{' '.join(command[:3])}: {working:.1f} s from opening the warehouse to its end; "
        f"`spotclust sql` started then waited {waited:.1f} s ({seconds:.1f} s; alone "
        f"{alone_seconds:.1f} s)"
    )
    assert during.exit_code == 0, during.stderr
    # it read the warehouse as it was before the command wrote: it did not wait for the fit
    assert during.stdout.split() == ["n", "0"], during.stderr
    assert "waiting" not in during.stderr
    assert waited < working / 2
    assert query(db, f"SELECT count(*) FROM {table}") != [(0,)]


@pytest.mark.parametrize("command", [CLUSTER, SWEEP], ids=["cluster", "sweep"])
def test_data_changed_during_the_fit_is_refused_and_nothing_written(
    command, full_db, small_csv, tmp_path
):
    """Another process ingests while the run fits: the run is not written (its rows would
    name tracks the warehouse no longer holds); the ingest is in."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(full_db, db)
    proc = start_process([*command, "--db", db], tmp_path, WAIT, tag="fit")
    _opened(db, proc)
    ingest = run_process(["ingest", small_csv, "--db", db], tmp_path, WAIT)
    assert ingest.exit_code == 0, ingest.stderr
    assert proc.wait() == 1, proc.stderr
    assert proc.stdout == ""
    what = {"cluster": "run", "sweep": "sweep"}[command[0]]
    assert proc.stderr.strip().splitlines() == [f"Error: {CHANGED.format(what)}"]
    assert query(db, "SELECT count(*) FROM runs") == [(0,)]
    assert query(db, "SELECT count(*) FROM assignments") == [(0,)]
    assert query(db, "SELECT count(*) FROM sweeps") == [(0,)]
    assert query(db, "SELECT max(ingest_id), count(*) FROM ingests") == [(2, 2)]
    assert query(db, "SELECT count(*) FROM raw_tracks") == [(60,)]


def test_a_reader_elsewhere_makes_the_write_wait_and_is_named(small_db, tmp_path):
    """A notebook in another process holds the warehouse read-only: the run reads and fits
    beside it, then waits to write, saying for whom, and writes once it lets go."""
    reader = Holder(small_db, "read")
    try:
        proc = start_process(
            ["cluster", "--k", "3", "--n-init", "1", "--no-charts", "-q", "--db", small_db],
            tmp_path,
            WAIT,
        )
        deadline = time.monotonic() + 300
        while "waiting" not in proc.stderr:
            assert proc.popen.poll() is None, proc.stderr
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        reader.release()
    assert proc.wait() == 0, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"waiting for process {reader.pid} to finish with {small_db} ")
    assert "to write the fitted run" in line and "SPOTCLUST_LOCK_TIMEOUT" in line
    assert query(small_db, "SELECT count(*) FROM runs") == [(1,)]


def test_a_reader_elsewhere_that_stays_is_one_busy_line(small_db, tmp_path):
    before = small_db.read_bytes()
    reader = Holder(small_db, "read")
    try:
        done = run_process(
            ["cluster", "--k", "3", "--n-init", "1", "--no-charts", "-q", "--db", small_db],
            tmp_path,
            {"SPOTCLUST_LOCK_TIMEOUT": "0"},
        )
    finally:
        reader.release()
    assert done.exit_code == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: warehouse {small_db} is busy: process {reader.pid} has it")
    assert "the fitted run was not written" in line
    assert small_db.read_bytes() == before


# ====================================================== a connection of this very process


def test_duckdb_opens_a_file_once_per_process_with_one_setting(small_db):
    """Why a run closes its read-only connection before it opens the warehouse to write, and
    why a notebook's read-only connection in the same process stops a run: DuckDB shares one
    database per file and process, so every connection to it has the same settings."""
    reading = duckdb.connect(str(small_db), read_only=True)
    try:
        duckdb.connect(str(small_db), read_only=True).close()  # the same setting: shared
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            duckdb.connect(str(small_db))
    finally:
        reading.close()
    duckdb.connect(str(small_db)).close()  # once it is closed, a writer opens


@pytest.mark.parametrize(
    "call",
    [
        lambda db: spotclust.cluster(k=3, db=db, n_init=1),
        lambda db: spotclust.sweep("2..3", db=db, n_init=1, stability_pairs=0),
    ],
    ids=["cluster", "sweep"],
)
def test_a_read_only_connection_in_this_process_is_named_before_the_fit(call, small_db):
    """DuckDB opens a file in one process with one setting: while this process holds it
    read-only (a notebook's duckdb.connect(db, read_only=True)), nothing here can write it."""
    before = small_db.read_bytes()
    held = duckdb.connect(str(small_db), read_only=True)
    try:
        with pytest.raises(spotclust.SpotclustError) as caught:
            call(small_db)
        assert held.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]  # still open
    finally:
        held.close()
    assert str(caught.value) == READ_ONLY_HERE.format(db=small_db)
    assert small_db.read_bytes() == before
    assert spotclust.cluster(k=3, db=small_db, n_init=1).run_id == 1  # closed: it works


def test_a_read_write_connection_in_this_process_is_shared(small_db):
    """A notebook's duckdb.connect(db) (read-write, DuckDB's default settings): the run uses
    the same database, and the notebook's connection sees the run at once."""
    held = duckdb.connect(str(small_db))
    try:
        result = spotclust.cluster(k=3, db=small_db, n_init=1)
        swept = spotclust.sweep("2..3", db=small_db, n_init=1, stability_pairs=0)
        assert held.execute("SELECT run_id FROM runs").fetchall() == [(result.run_id,)]
        assert held.execute("SELECT DISTINCT sweep_id FROM sweeps").fetchall() == [
            (swept.sweep_id,)
        ]
    finally:
        held.close()


def test_repeat_reads_fits_then_writes_the_same_way(small_db, tmp_path):
    first = spotclust.cluster(k=3, db=small_db, n_init=1)
    reader = Holder(small_db, "read")
    try:
        done = run_process(
            ["cluster", "--repeat", str(first.run_id), "--no-charts", "-q", "--db", small_db],
            tmp_path,
            {"SPOTCLUST_LOCK_TIMEOUT": "0"},
        )
    finally:
        reader.release()
    assert done.exit_code == 1 and "the fitted run was not written" in done.stderr
    result, check = spotclust.repeat(first.run_id, db=small_db)
    assert check.identical and result.run_id == first.run_id + 1
