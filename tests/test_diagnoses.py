"""The true cause of a warehouse that will not open or read, never a wrong one that invites
data loss; and `spotclust check`, which verifies a warehouse end to end.

Every fault is made for real: a log left by a process killed with SIGKILL and put next to
another warehouse, a second connection held in this process, a file cut short, bytes
flipped inside a block (found through DuckDB's own storage_info). Each failing command must
say what is wrong in one line, never advise moving a healthy file away, and leave the
warehouse's bytes (and its log's) exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import duckdb
import pytest
from support.processes import run_command
from support.warehouse_state import warehouse_state

import spotclust
from spotclust.warehouse.errors import explain_open_error
from spotclust.warehouse.schema import declared_tables
from spotclust.warehouse.sql_files import models

# Words of the old, wrong diagnoses: none may come back for these faults.
WRONG = ("move the file away", "unexpected database error", "SQL error", "is busy")
NO_WAIT = {"SPOTCLUST_LOCK_TIMEOUT": "0"}  # a wrong 'busy' diagnosis fails fast


@pytest.fixture
def other_csv(tmp_path, small, make_csv) -> Path:
    """The small fixture but its last row: a file the warehouse has not loaded (ingest
    would do nothing, and say so, for the very file it loaded last)."""
    return make_csv(tmp_path / "other.csv", small.header, small.rows[:-1])


def wal_of(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def file_bytes(db: Path) -> tuple[bytes | None, bytes | None]:
    """The warehouse's bytes and its log's (None: no log)."""
    wal = wal_of(db)
    return db.read_bytes(), (wal.read_bytes() if wal.exists() else None)


def assert_right_line(run, assert_one_line_error, *needles: str) -> str:
    line = assert_one_line_error(run, *needles)
    for wrong in WRONG:
        assert wrong.lower() not in line.lower(), line
    return line


# ======================================================================= logs (.wal files)

# A process that writes, then dies by SIGKILL: no close, no checkpoint, so its log stays.
_WRITE_THEN_DIE = """
import os, signal, sys, duckdb
con = duckdb.connect(sys.argv[1])
for statement in sys.argv[2:]:
    con.execute(statement)
os.kill(os.getpid(), signal.SIGKILL)
"""
NOTE = "INSERT OR REPLACE INTO spotclust_meta VALUES ('note', repeat('x', 300))"


def killed_after(db: Path, *statements: str) -> Path:
    """db's log, as a process killed right after these statements left it."""
    done = run_command([sys.executable, "-c", _WRITE_THEN_DIE, db, *statements])
    assert done.exit_code == -signal.SIGKILL, done.stderr
    assert wal_of(db).stat().st_size > 0
    return wal_of(db)


def another_databases_log(tmp_path: Path, template: Path, db: Path, csv: Path) -> list[str]:
    """A warehouse made on its own (a copy of db would be the same database to DuckDB,
    whose log it would replay), killed after a write; its log copied next to db."""
    other = tmp_path / "other" / "B.duckdb"
    spotclust.ingest(csv, other)
    shutil.copyfile(killed_after(other, NOTE), wal_of(db))
    return ["another database", "move it away", "neither file was changed"]


def a_later_states_log(tmp_path: Path, template: Path, db: Path, csv: Path) -> list[str]:
    """The file was put back from a copy; the log of its later state stayed."""
    later = tmp_path / "later.duckdb"
    shutil.copyfile(template, later)
    shutil.copyfile(killed_after(later, NOTE, "CHECKPOINT", NOTE.replace("note", "n2")), wal_of(db))
    return ["later state", "put back the file", "move the log away", "neither file was changed"]


def a_damaged_log(tmp_path: Path, template: Path, db: Path, csv: Path) -> list[str]:
    wal = killed_after(db, NOTE)
    data = bytearray(wal.read_bytes())
    middle = len(data) // 2  # inside the INSERT's entry, past the log's header
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    wal.write_bytes(data)
    return ["is damaged", "keep a copy of both", "move the log away", "last checkpoint"]


LOGS = {
    "another database's log": another_databases_log,
    "a log of a later state of the file": a_later_states_log,
    "a damaged log": a_damaged_log,
}


@pytest.mark.parametrize("folder", ["wh", "blocks"])  # 'blocks': a path holding "lock"
@pytest.mark.parametrize("log", sorted(LOGS))
def test_a_log_that_cannot_be_replayed_is_named_and_nothing_changes(
    log, folder, tmp_path, small_template, small_csv, other_csv, run_cli, assert_one_line_error
):
    db = tmp_path / folder / "A.duckdb"
    db.parent.mkdir()
    shutil.copyfile(small_template, db)
    original = warehouse_state(db)
    needles = LOGS[log](tmp_path, small_template, db, small_csv)
    before = file_bytes(db)
    for command in (
        ["tables"],
        ["sql", "SELECT count(*) FROM raw_tracks"],
        ["cluster", "--k", "2", "--n-init", "1", "--no-charts", "--quiet"],
        ["ingest", other_csv],
        ["check"],
    ):
        run = run_cli(*command, "--db", db, env=NO_WAIT)
        line = assert_right_line(run, assert_one_line_error, str(wal_of(db)), *needles)
        assert "not a DuckDB warehouse" not in line
        assert file_bytes(db) == before, f"{command[0]} changed the files"
    # The advice works: the log moved away, the file opens as it was at its last checkpoint.
    wal_of(db).rename(tmp_path / "kept.wal")
    checked = run_cli("check", "--db", db)
    assert checked.exit_code == 0, checked.output
    assert warehouse_state(db) == original


# ================================================ a second connection in the same process


def test_a_second_connection_in_this_process_is_named(
    tmp_path, small_template, other_csv, run_cli, assert_one_line_error
):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    before = file_bytes(db)
    held = duckdb.connect(str(db), read_only=True)  # a notebook's connection, say
    try:
        for call in (
            lambda: spotclust.cluster(k=2, db=db, n_init=1),
            lambda: spotclust.query("SELECT count(*) FROM tracks", db=db),
            lambda: spotclust.ingest(other_csv, db),
        ):
            with pytest.raises(spotclust.SpotclustError) as caught:
                call()
            line = str(caught.value)
            for needle in ("this process already has", str(db), "con.close()"):
                assert needle in line, line
            assert "not a DuckDB warehouse" not in line and "move" not in line, line
        run = run_cli("sql", "SELECT 1", "--db", db)
        assert_right_line(run, assert_one_line_error, "this process already has", "close")
    finally:
        held.close()
    assert file_bytes(db) == before
    assert spotclust.query("SELECT count(*) FROM tracks", db=db)[1] == [(55,)]


# ================================================================= a damaged warehouse file

BLOCK, HEADERS = 256 * 1024, 3 * 4096


def _first_block(db: Path, table: str) -> tuple[int, int]:
    """(block id, offset in it) where the table's first column segment is stored."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info($table) "
            "WHERE block_id >= 0 ORDER BY block_id, block_offset LIMIT 1",
            {"table": table},
        ).fetchall()[0]
    finally:
        con.close()


def _flip(db: Path, offset: int, length: int = 8) -> None:
    with db.open("r+b") as f:
        f.seek(offset)
        data = f.read(length)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def flip_in(table: str):
    def damage(db: Path) -> None:
        block, offset = _first_block(db, table)
        _flip(db, HEADERS + block * BLOCK + 8 + offset + 16)  # 8: the block's checksum

    return damage


def flip_in_catalog(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        [(block,)] = con.execute("SELECT min(block_id) FROM pragma_metadata_info()").fetchall()
    finally:
        con.close()
    _flip(db, HEADERS + block * BLOCK + BLOCK // 2)


def cut_short(db: Path) -> None:
    """Cut to half the file, or to where runs begin if that is earlier (runs must go)."""
    block, _ = _first_block(db, "runs")
    os.truncate(db, min(db.stat().st_size // 2, HEADERS + block * BLOCK))


def zero_the_header(db: Path) -> None:
    with db.open("r+b") as f:
        f.write(bytes(4096))


EXPLAIN = ["explain"]
RUNS = ["sql", "SELECT * FROM runs"]
EXPORT = ["export", "--out", "out.csv"]
EVERYTHING = [["tables"], ["sql", "SELECT 1"], ["cluster", "--k", "2", "--no-charts", "-q"]]
# damage -> (how, the commands that must fail on it, what the line says still reads)
DAMAGES = {
    "cut short": (cut_short, [EXPLAIN, RUNS, EXPORT], ["runs", "cannot be read"]),
    "bytes flipped in runs": (flip_in("runs"), [EXPLAIN, RUNS, EXPORT], ["runs", "still read"]),
    "bytes flipped in assignments": (
        flip_in("assignments"),
        [EXPORT, ["sql", "SELECT sum(distance) FROM assignments"]],
        ["assignments", "cannot be read", "still read"],
    ),
    "bytes flipped in the catalog": (flip_in_catalog, EVERYTHING, ["nothing of it reads"]),
    "header zeroed": (zero_the_header, EVERYTHING, ["nothing of it reads"]),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_warehouse_is_named_with_what_still_reads_and_left_as_it_is(
    damage, tmp_path, clustered_template, other_csv, run_cli, assert_one_line_error, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    how, commands, reads = DAMAGES[damage]
    how(db)
    before = file_bytes(db)
    for command in [["ingest", other_csv], *commands]:  # ingest: never a success over it
        run = run_cli(*command, "--db", db)
        line = assert_right_line(
            run,
            assert_one_line_error,
            f"{db} is damaged or truncated",
            "restore it from a copy",
            "new --db path",
            *reads,
        )
        assert "not a DuckDB warehouse" not in line
        assert file_bytes(db) == before, f"{command[0]} changed the file"
    assert not (tmp_path / "out.csv").exists()


# =================================================================== spotclust check


def _findings(run) -> dict[str, str]:
    """check's csv output: {check: status}."""
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "check,status,detail"
    return {line.split(",")[0].strip('"'): line.split(",")[1] for line in lines[1:]}


def test_check_reads_every_table_and_view_of_a_healthy_warehouse(tmp_path, clustered_template):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    before = file_bytes(db)
    report = spotclust.check(db)
    assert report.problems == ()
    checked = {f.check for f in report.findings}
    assert {f"table {name}" for name in declared_tables()} <= checked
    assert {f"{m.materialized} {m.name}" for m in models()} <= checked
    assert {f.status for f in report.findings} == {"ok"}
    runs = next(f for f in report.findings if f.check == "table runs")
    assert runs.detail == "1 row read"
    assert file_bytes(db) == before


def test_check_exits_1_with_one_line_per_problem(tmp_path, clustered_template, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    flip_in("assignments")(db)
    before = file_bytes(db)
    run = run_cli("check", "--format", "csv", "--db", db)
    assert run.exit_code == 1 and run.traceback is None, run.output
    found = _findings(run)
    assert found["table assignments"] == "problem"
    assert found["table tracks"] == found["table runs"] == "ok"  # what still reads
    assert found["every run has its assignments"] == "skipped"
    problems = run.stderr.strip().splitlines()
    assert len(problems) == sum(status == "problem" for status in found.values())
    assert "problem: table assignments: does not read: damaged" in problems[0]
    assert file_bytes(db) == before


def test_check_finds_rows_that_disagree(tmp_path, clustered_template, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    spotclust.query("DELETE FROM assignments WHERE cluster = 0", db=db, write=True)
    spotclust.query("DELETE FROM raw_tracks WHERE row_number = 1", db=db, write=True)
    run = run_cli("check", "--format", "csv", "--db", db)
    assert run.exit_code == 1, run.output
    found = _findings(run)
    assert found["every run has its assignments"] == "problem"
    assert found["cluster sizes match cluster_profiles"] == "ok"  # sizes come from assignments
    assert found["raw_tracks holds the last ingest's rows"] == "problem"
    assert "problem: every run has its assignments: run 1: " in run.stderr
    assert "problem: raw_tracks holds the last ingest's rows: ingest 1 loaded 60 rows" in (
        run.stderr
    )


def test_a_newer_duckdb_file_is_named_as_such():
    """DuckDB's message for a file of another storage version (a real one cannot be made
    here: the header is checksummed), as DuckDB words it."""
    message = (
        "IO Error: Trying to read a database file with version number 70, but we can only "
        "read versions between 64 and 69.\nThe database file was created with a newer "
        "version of DuckDB."
    )
    line = explain_open_error(Path("w.duckdb"), message)
    assert "written by another version of DuckDB" in line and "storage version 70" in line
    assert "pip install -U duckdb" in line and "move" not in line
