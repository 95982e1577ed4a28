"""Crashes mid-write and two commands at once, with real processes.

Kill tests (the slow part of this file, about a minute; CI runs them): `spotclust ingest`
(the full shipped dataset over a small warehouse), `spotclust cluster` and `spotclust sweep`
(on the full dataset) are started as processes and killed with SIGKILL at several moments:
after 0.2 and 0.6 s (and 1.5 s for ingest), as soon as the process holds the warehouse's
lock, when DuckDB's write-ahead log appears (the write transaction under way), when the log
holds the commit (not yet checkpointed into the file), and 90% through a reference run of
the same command. Afterwards the warehouse must open (read-only with the log still there,
then read-write) and hold either exactly the previous state or the complete new one: never
part of a run, a sweep or an ingest. Run with -s to see which state each kill left.

Two at once: DuckDB lets one process write, or several read, a file at a time. A command
that finds the warehouse busy waits for it (saying so once on stderr), up to
SPOTCLUST_LOCK_TIMEOUT seconds (default 60), then says in one line that it is busy.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import duckdb
import pytest
from support.cli import run_cli_ok
from support.processes import (
    Holder,
    Proc,
    lock_holders,
    run_process,
    start_process,
    wait_for_lock,
)
from support.warehouse_state import MODEL_TABLES, RUN_TABLES, query, warehouse_state

SMALL_CLUSTER = ["cluster", "--k", "3", "--n-init", "2", "--no-charts", "-q"]
# On the full dataset: one restart and a sampled silhouette keep a run to a few seconds.
CLUSTER = ["cluster", "--k", "3", "--n-init", "1", "--silhouette-sample", "2000"]
CLUSTER += ["--no-charts", "-q"]
SWEEP = ["sweep", "--k", "2..4", "--n-init", "1", "--no-silhouette", "-q"]  # 3 rows a sweep
INGEST = ["ingest"]  # the shipped dataset: 114,000 rows
COUNT_RUNS = ["sql", "SELECT count(*) AS n FROM runs", "--format", "csv"]
# Correlations summed in parallel differ in the last bits from one ingest to the next:
# compared by row count.
PARALLEL_SUMS = ("feature_correlations",)
# The file's rows and the models materialized from them at ingest (tables in views/); a run
# writes its row in runs and its rows in RUN_TABLES (every table of tables.sql with a run_id).
DATA_TABLES = ("raw_tracks", *MODEL_TABLES)


# ================================================================================= locks


@pytest.fixture(autouse=True)
def _needs_proc_locks():
    if not Path("/proc/locks").exists():
        pytest.skip("needs /proc/locks (Linux) to see who holds the warehouse")


# ============================================================================ the warehouse
# The warehouse's state (support.warehouse_state) with by_run=True: every table as {run_id or
# sweep_id: (rows, sum of their hashes)}, cheap on the full dataset; "(views)", "(sequences)".


def counts(fp: dict, table: str, group) -> int:
    return fp[table].get(group, (0, 0))[0]


def opens_after_a_crash(db: Path) -> bool:
    """The warehouse opens read-only (replaying a left-over log), then read-write (which
    checkpoints the log into the file), then again. Returns whether the crash left a log."""
    wal = db.with_name(db.name + ".wal")
    had_wal = wal.exists()
    for read_only in (True, False, True):
        con = duckdb.connect(str(db), read_only=read_only)
        con.execute("SELECT count(*) FROM raw_tracks").fetchall()
        con.close()
    return had_wal


def next_write_folds_the_log(db: Path) -> None:
    """DuckDB keeps a replayed log until the next change is checkpointed (a CHECKPOINT with
    nothing new to write leaves it): after one write and a close, no log is left."""
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE after_the_crash AS SELECT 1 AS x")
    con.close()
    wal = db.with_name(db.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.fixture(scope="session")
def full_loaded(tmp_path_factory, full_db) -> Path:
    """The full shipped dataset with a run and a sweep."""
    db = tmp_path_factory.mktemp("conc_full") / "full.duckdb"
    shutil.copyfile(full_db, db)
    for args in (CLUSTER, ["sweep", "--k", "2..3", "--n-init", "1", "--no-silhouette", "-q"]):
        run_cli_ok(*args, "--db", db)
    return db


# ================================================================================ kill tests


def _kill_moments(reference_seconds: float, early: tuple[float, ...]):
    """(name, trigger): trigger(proc, db, seconds since start) says when to kill."""

    def after(seconds):
        return lambda proc, db, t: t >= seconds

    def wal_size(db) -> int | None:
        try:
            return db.with_name(db.name + ".wal").stat().st_size
        except FileNotFoundError:
            return None

    return [
        *((f"{s:g} s", after(s)) for s in early),
        ("holds the lock", lambda proc, db, t: proc.pid in lock_holders(db)),
        ("log appears", lambda proc, db, t: wal_size(db) is not None),
        # the commit is in the log, the data not yet checkpointed into the file
        ("log written", lambda proc, db, t: (wal_size(db) or 0) > 4096),
        ("90%", after(0.9 * reference_seconds)),
    ]


def _kill_at(proc: Proc, db: Path, trigger) -> str:
    """SIGKILL proc when trigger fires; returns 'killed', or 'finished' if it ended first."""
    started = time.monotonic()
    while proc.popen.poll() is None and not trigger(proc, db, time.monotonic() - started):
        time.sleep(0.002)
    if proc.popen.poll() is not None:
        return "finished"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return "killed"


def _kill_series(command, base: Path, tmp_path: Path, classify, early=(0.2, 0.6)) -> list:
    """Run command once to the end (the reference), then kill it at each moment on a fresh
    copy of base; classify(before, after, reference) names the state found."""
    before = warehouse_state(base, by_run=True)
    db = tmp_path / "ref.duckdb"
    shutil.copyfile(base, db)
    t0 = time.monotonic()
    ref = run_process([*command, "--db", db], cwd=tmp_path)
    seconds = time.monotonic() - t0
    assert ref.exit_code == 0, ref.stderr
    reference = warehouse_state(db, by_run=True)
    assert classify(before, reference, reference) == "new"
    outcomes = []
    for i, (name, trigger) in enumerate(_kill_moments(seconds, early)):
        db = tmp_path / f"kill{i}.duckdb"
        shutil.copyfile(base, db)
        proc = start_process([*command, "--db", db], cwd=tmp_path, tag=f"kill{i}")
        how = _kill_at(proc, db, trigger)
        had_wal = opens_after_a_crash(db)
        state = classify(before, warehouse_state(db, by_run=True), reference)
        assert state in ("old", "new"), f"killed at {name}: {state}"
        if how == "finished":
            assert proc.popen.returncode == 0 and state == "new", proc.stderr
        next_write_folds_the_log(db)
        outcomes.append((name, how, state, "log left" if had_wal else "no log"))
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
    print(f"\n{command[0]} killed: {outcomes}")
    assert outcomes[0][1:3] == ("killed", "old"), "killed after 0.2 s, nothing can have changed"
    return outcomes


def _unchanged_but(before: dict, after: dict, tables) -> list[str]:
    return [t for t in before if t not in tables and before[t] != after.get(t)]


def classify_ingest(before: dict, after: dict, reference: dict) -> str:
    if after == before:
        return "old"
    other = _unchanged_but(before, after, (*DATA_TABLES, "ingests", "(sequences)"))
    if other:
        return f"partial: {other} changed"
    ingests = sum(n for n, _ in after["ingests"].values())
    if ingests != sum(n for n, _ in before["ingests"].values()) + 1:
        return f"partial: ingests has {ingests} rows"
    for table in DATA_TABLES:  # the file's rows and everything made from them, complete
        if table in PARALLEL_SUMS:
            if after[table].keys() != reference[table].keys() or any(
                after[table][g][0] != reference[table][g][0] for g in after[table]
            ):
                return f"partial: {table} has other rows than a complete ingest"
        elif after[table] != reference[table]:
            return f"partial: {table} differs from a complete ingest"
    return "new"


def classify_cluster(before: dict, after: dict, reference: dict) -> str:
    if after == before:
        return "old"
    other = _unchanged_but(before, after, ("runs", *RUN_TABLES, "(sequences)"))
    if other:
        return f"partial: {other} changed"
    old_runs = set(before["runs"])
    new_runs = set(after["runs"]) - old_runs
    if len(new_runs) != 1:
        return f"partial: new runs {new_runs}"
    [new] = new_runs
    [ref_new] = set(reference["runs"]) - old_runs
    for table in ("runs", *RUN_TABLES):
        if table not in after:
            continue
        for run_id in old_runs:  # earlier runs untouched
            if after[table].get(run_id) != before[table].get(run_id):
                return f"partial: {table} of run {run_id} changed"
        stray = set(after[table]) - old_runs - {new}
        if stray:
            return f"partial: {table} has rows of runs {stray}"
        if counts(after, table, new) != counts(reference, table, ref_new):
            return f"partial: {table} has {counts(after, table, new)} rows of run {new}"
    return "new"


def classify_sweep(before: dict, after: dict, reference: dict) -> str:
    if after == before:
        return "old"
    other = _unchanged_but(before, after, ("sweeps", "(sequences)"))
    if other:
        return f"partial: {other} changed"
    old = set(before["sweeps"])
    if any(after["sweeps"].get(s) != before["sweeps"][s] for s in old):
        return "partial: an earlier sweep changed"
    new = set(after["sweeps"]) - old
    if len(new) != 1 or counts(after, "sweeps", next(iter(new))) != 3:
        return f"partial: new sweeps {[(s, counts(after, 'sweeps', s)) for s in new]}"
    return "new"


def test_kill_ingest_at_any_moment_leaves_the_old_or_the_new_data(clustered_template, tmp_path):
    """Slow: a full ingest (114,000 rows) over a small warehouse, killed 6 times."""
    _kill_series(INGEST, clustered_template, tmp_path, classify_ingest, early=(0.2, 0.6, 1.5))


def test_kill_cluster_at_any_moment_leaves_no_partial_run(full_loaded, tmp_path):
    """Slow: a run on the full dataset (88,732 tracks), killed 6 times."""
    _kill_series(CLUSTER, full_loaded, tmp_path, classify_cluster)


def test_kill_sweep_at_any_moment_leaves_no_partial_sweep(full_loaded, tmp_path):
    """Slow: a sweep k=2..4 on the full dataset, killed 6 times."""
    _kill_series(SWEEP, full_loaded, tmp_path, classify_sweep)


def test_the_classifiers_see_a_partial_run(clustered_template, tmp_path):
    """The kill tests would notice: a run with its assignments cut short is 'partial'."""
    before = warehouse_state(clustered_template, by_run=True)
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    run_cli_ok(*SMALL_CLUSTER, "--db", db)
    reference = warehouse_state(db, by_run=True)
    assert classify_cluster(before, reference, reference) == "new"
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM assignments WHERE run_id = 2 AND row_number > 30")
    con.close()
    cut_short = warehouse_state(db, by_run=True)
    assert classify_cluster(before, cut_short, reference).startswith("partial")
    assert classify_sweep(before, before, before) == "old"


# ============================================================================= two at once


def test_two_clusters_at_once_both_finish_one_after_the_other(full_loaded, tmp_path):
    """Two `spotclust cluster` on one warehouse: both finish, one waiting for the other.

    To be sure they meet, a third process holds the warehouse while both start; both say they
    are waiting; when it lets go, one runs and the other waits on until it has finished."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(full_loaded, db)
    before = warehouse_state(db, by_run=True)
    env = {"SPOTCLUST_LOCK_TIMEOUT": "600"}
    holder = Holder(db, "write")
    try:
        first = start_process([*CLUSTER, "--db", db], tmp_path, env, tag="first")
        second = start_process([*CLUSTER, "--db", db], tmp_path, env, tag="second")
        deadline = time.monotonic() + 300
        while not ("waiting" in first.stderr and "waiting" in second.stderr):
            assert time.monotonic() < deadline, first.stderr + second.stderr
            assert first.popen.poll() is None and second.popen.poll() is None
            time.sleep(0.05)
    finally:
        holder.release()
    assert first.wait() == 0, first.stderr
    assert second.wait() == 0, second.stderr
    for proc in (first, second):
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr  # said once, not at every retry
        assert lines[0].startswith(f"waiting for process {holder.pid} to finish with ")
        assert "SPOTCLUST_LOCK_TIMEOUT" in lines[0]
    after = warehouse_state(db, by_run=True)
    new = sorted(set(after["runs"]) - set(before["runs"]))
    assert len(new) == 2
    # both complete, and alike but for their ids: the same data, config and seed
    for table in ("assignments", "cluster_profiles", "centroids", "run_features"):
        assert counts(after, table, new[0]) == counts(after, table, new[1]) > 0, table
    rows = query(
        db,
        "SELECT r.run_id, r.rows_used, count(a.row_number) FROM runs r "
        "JOIN assignments a USING (run_id) GROUP BY ALL ORDER BY 1",
    )
    assert all(used == assigned for _, used, assigned in rows)


BUSY_COMMANDS = {
    "sql": ["sql", "SELECT count(*) FROM runs"],
    "tables": ["tables"],
    "cluster": SMALL_CLUSTER,
    "sweep": ["sweep", "--k", "2..3", "-q"],
    "ingest": ["ingest", "{csv}"],
    "sql --write": ["sql", "DELETE FROM runs", "--write"],
}


@pytest.mark.parametrize("command", BUSY_COMMANDS.values(), ids=BUSY_COMMANDS.keys())
def test_a_busy_warehouse_is_one_clear_line_when_not_waiting(
    command, clustered_template, small_csv, tmp_path
):
    """Another process is writing (it holds DuckDB's lock): with SPOTCLUST_LOCK_TIMEOUT=0
    every command says at once, in one line, who has the warehouse and what to do."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    before = warehouse_state(db)
    holder = Holder(db, "write")
    try:
        args = [str(a).format(csv=small_csv) for a in command]
        done = run_process([*args, "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "0"})
    finally:
        holder.release()
    assert done.exit_code == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: warehouse ") and "is busy" in lines[0]
    assert f"process {holder.pid}" in lines[0]
    assert "try again" in lines[0] and "SPOTCLUST_LOCK_TIMEOUT" in lines[0]
    assert warehouse_state(db) == before


def test_readers_share_the_warehouse_writers_wait_for_them(clustered_template, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    before = warehouse_state(db)
    reader = Holder(db, "read")
    try:
        # another reader: fine
        done = run_process([*COUNT_RUNS, "--db", db], tmp_path)
        assert done.exit_code == 0, done.stderr
        assert done.stdout.split() == ["n", "1"] and done.stderr == ""
        # a writer: busy while the reader is there
        done = run_process([*SMALL_CLUSTER, "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "0"})
        assert done.exit_code == 1
        assert "is busy" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    finally:
        reader.release()
    assert warehouse_state(db) == before


def test_a_command_waits_then_says_busy_after_the_timeout(clustered_template, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    holder = Holder(db, "write")
    try:
        done = run_process(
            ["sql", "SELECT 1", "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "1"}
        )
    finally:
        holder.release()
    assert done.exit_code == 1
    assert "Traceback" not in done.stderr
    waiting, error = done.stderr.strip().splitlines()
    assert waiting.startswith(f"waiting for process {holder.pid} to finish with ")
    assert "(up to 1 s, SPOTCLUST_LOCK_TIMEOUT)" in waiting
    assert error.startswith("Error: warehouse ") and "busy" in error and "waited 1 s" in error


def test_a_command_that_waits_goes_on_when_the_warehouse_is_free(clustered_template, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    holder = Holder(db, "write", seconds=2)  # lets go by itself after 2 s
    try:
        done = run_process([*COUNT_RUNS, "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "300"})
    finally:
        holder.release()
    assert done.exit_code == 0, done.stderr
    assert done.stdout.split() == ["n", "1"]
    assert done.stderr.startswith(f"waiting for process {holder.pid} to finish with ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_sql_while_a_real_cluster_runs_sees_before_or_after_never_half(full_loaded, tmp_path):
    """cluster holds the write lock only for its final transaction (tests/test_sharing.py):
    a query meanwhile sees the warehouse before the run or after it, never half of it."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(full_loaded, db)
    [(runs_before,)] = query(db, "SELECT count(*) FROM runs")
    before_or_after = (["n", str(runs_before)], ["n", str(runs_before + 1)])
    writer = start_process([*CLUSTER, "--db", db], tmp_path, tag="writer")
    assert wait_for_lock(db, writer), writer.stderr
    # not waiting: the answer, or one 'busy' line if it met the final write
    quick = run_process([*COUNT_RUNS, "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "0"})
    if quick.exit_code == 0:
        assert quick.stdout.split() in before_or_after
    else:
        assert len(quick.stderr.strip().splitlines()) == 1, quick.stderr
        assert "is busy" in quick.stderr and f"process {writer.pid}" in quick.stderr
    patient = run_process([*COUNT_RUNS, "--db", db], tmp_path, {"SPOTCLUST_LOCK_TIMEOUT": "600"})
    assert writer.wait() == 0, writer.stderr
    assert patient.exit_code == 0, patient.stderr
    assert patient.stdout.split() in before_or_after
    assert "Traceback" not in patient.stderr
    assert query(db, "SELECT count(*) FROM runs") == [(runs_before + 1,)]
