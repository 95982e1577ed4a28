"""`spotclust sql` output of any size: csv, json and markdown stream batch by batch in flat
memory; a table shows its first rows and says how many there were; a reader that stops early
(`| head`) or a Ctrl-C ends the command quietly (issue 13, item 7).

Every run that measures memory or time is a real process, its output read from a real pipe.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import assert_succeeded
from support.processes import TIMEOUT, spotclust_command, spotclust_env, start_process
from support.warehouse_state import query

import spotclust
from spotclust import output
from spotclust.output import render, terminal_text

MAX_RSS_MIB = 300
BIG = 10_000_000  # rows: the 10M

# Runs a command with its stdout on a pipe that this wrapper reads to the end, counting lines
# and keeping the first and last bytes; writes a JSON report with the exit code, the peak
# memory of the command (KiB; forked from this small wrapper, so the test's pages do not
# count) and its wall time.
_MEASURE = """
import json, os, subprocess, sys, time
start = time.monotonic()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)
lines, head, tail = 0, b"", b""
while chunk := proc.stdout.read(1 << 20):
    lines += chunk.count(b"\\n")
    head = head if len(head) >= 4096 else (head + chunk)[:4096]
    tail = (tail + chunk)[-4096:]
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = 0
report = {"exit_code": os.waitstatus_to_exitcode(status), "max_rss_kib": usage.ru_maxrss,
          "seconds": time.monotonic() - start, "lines": lines,
          "head": head.decode(errors="replace"), "tail": tail.decode(errors="replace")}
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
"""


@dataclass
class Measured:
    exit_code: int
    stderr: str
    max_rss_kib: int
    seconds: float
    lines: int  # newlines in stdout
    head: str  # the first 4 KiB of stdout
    tail: str  # the last 4 KiB

    @property
    def mib(self) -> float:
        return self.max_rss_kib / 1024

    def __str__(self) -> str:
        return f"exit {self.exit_code}, {self.seconds:.1f} s, {self.mib:.0f} MiB: {self.stderr}"


def measured(cwd: Path, *args) -> Measured:
    """`spotclust ARGS` with its stdout read from a pipe to the end; memory and time taken."""
    report = cwd / "measured.json"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, report, *spotclust_command(), *map(str, args)],
        cwd=cwd,
        env=spotclust_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    return Measured(stderr=done.stderr, **json.loads(report.read_text()))


# ============================================================== big results in flat memory


def test_ten_million_rows_of_csv_stream_in_flat_memory(small_db, tmp_path):
    run = measured(
        tmp_path, "sql", f"SELECT * FROM range({BIG})", "--format", "csv", "--db", small_db
    )
    print(f"csv, {BIG:,} rows: {run}")
    assert run.exit_code == 0 and run.stderr == "", str(run)
    assert run.lines == BIG + 1
    assert run.head.startswith("range\n0\n1\n2\n")
    assert run.tail.endswith(f"\n{BIG - 2}\n{BIG - 1}\n")
    assert run.mib < MAX_RSS_MIB, str(run)


def test_ten_million_rows_of_json_stream_in_flat_memory(small_db, tmp_path):
    run = measured(
        tmp_path, "sql", f"SELECT * FROM range({BIG})", "--format", "json", "--db", small_db
    )
    print(f"json, {BIG:,} rows: {run}")
    assert run.exit_code == 0 and run.stderr == "", str(run)
    # one array of objects of one key, as json.dumps(indent=2) lays it out: 3 lines an object
    assert run.lines == 2 + 3 * BIG
    assert run.head.startswith('[\n  {\n    "range": 0\n  },\n  {\n    "range": 1\n  },\n')
    assert run.tail.endswith(f'  {{\n    "range": {BIG - 1}\n  }}\n]\n')
    assert run.mib < MAX_RSS_MIB, str(run)


def test_a_million_rows_as_a_table_show_the_first_and_count_the_rest(small_db, tmp_path):
    rows = 1_000_000
    run = measured(tmp_path, "sql", f"SELECT * FROM range({rows})", "--db", small_db)
    print(f"table, {rows:,} rows: {run}")
    assert run.exit_code == 0 and run.stderr == "", str(run)
    shown = output.TABLE_ROWS
    note = f"{rows - shown:,} more rows not shown ({rows:,} in all)"
    assert note in run.tail.splitlines()[-1], run.tail
    body = [line.strip("│┃ ") for line in run.head.splitlines()]
    assert body.index("range") < body.index("0") < body.index("1")
    assert run.lines < shown + 10  # the shown rows, the borders and the note
    assert run.seconds < 30 and run.mib < MAX_RSS_MIB, str(run)  # it took 138 s and 1 GB


# ================================================================ the same text as before

# Results of three batches (of 10,000 rows) that must print exactly what the whole result
# printed. SIMPLE holds only numbers, text, booleans and NULLs, which the csv and json writers
# encode a column at a time: NaN, infinities, -0.0, a HUGEINT, text that needs quoting or
# escaping (a "%" too), whole batches of NULL, names given twice or holding quotes.
SIMPLE = """
SELECT range AS n,
       CASE WHEN range % 7 = 0 THEN NULL ELSE range / 3 END AS ratio,
       CASE range % 6 WHEN 0 THEN 'plain' WHEN 1 THEN 'a, "quoted" 100% name'
            WHEN 2 THEN 'ünï ✓ 🎵' WHEN 3 THEN 'line' || chr(10) || 'break' || chr(13)
            WHEN 4 THEN chr(27) || '[31mred|pipe' || chr(9) ELSE '' END AS text,
       CASE WHEN range < 10000 THEN NULL ELSE range % 2 = 0 END AS flag,
       CASE range % 4 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE
            WHEN 2 THEN '-inf'::DOUBLE ELSE -0.0 END AS special,
       CASE WHEN range >= 20000 THEN NULL ELSE range::HUGEINT * 1000000000000000000000 END
           AS "a ""huge"" 100%",
       range * 2 AS n
FROM range(25000)
"""
# MIXED holds what only json's and _plain's own encoders write: timestamps, dates, lists,
# structs, maps, decimals (and batches where those are all NULL).
MIXED = """
SELECT range AS n,
       CASE WHEN range BETWEEN 10000 AND 19999 THEN NULL
            ELSE TIMESTAMP '2024-02-29 12:34:56' + to_seconds(range) END AS at,
       DATE '2024-01-01' + (range % 400)::INTEGER AS day,
       CASE WHEN range < 10000 THEN NULL ELSE [range, range + 1] END AS pair,
       CASE WHEN range % 2 = 0 THEN {'k': range, 's': 'x|' || chr(27)} END AS struct,
       CASE WHEN range % 4 = 0 THEN MAP {range: 'v'} END AS map,
       (range * 1.5)::DECIMAL(12, 2) AS money
FROM range(25000)
"""


def printed(text: str) -> str:
    """What the sql command printed for a whole result's text: echo(render(...))."""
    return terminal_text(text) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
@pytest.mark.parametrize("sql", [SIMPLE, MIXED], ids=["simple", "mixed"])
def test_streamed_text_is_what_the_whole_result_gave(sql, fmt, small_db, run_cli):
    columns, rows = spotclust.query(sql, db=small_db)
    run = assert_succeeded(run_cli("sql", sql, "--format", fmt, "--db", small_db))
    assert run.stdout == printed(render(columns, rows, fmt))


def test_json_of_several_batches_is_one_array(small_db, run_cli):
    sql = "SELECT range AS n, 'x' || range AS s FROM range(30000)"
    run = assert_succeeded(run_cli("sql", sql, "--format", "json", "--db", small_db))
    assert json.loads(run.stdout) == [{"n": i, "s": f"x{i}"} for i in range(30000)]


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown", "table"])
def test_no_rows_still_print_the_header(fmt, small_db, run_cli):
    sql = "SELECT 1 AS a, 'x' AS b WHERE false"
    columns, rows = spotclust.query(sql, db=small_db)
    run = assert_succeeded(run_cli("sql", sql, "--format", fmt, "--db", small_db))
    assert run.stdout == printed(render(columns, rows, fmt))


def test_a_table_of_exactly_the_shown_rows_has_no_note(small_db, run_cli):
    shown = output.TABLE_ROWS
    sql = f"SELECT * FROM range({shown})"
    columns, rows = spotclust.query(sql, db=small_db)
    run = assert_succeeded(run_cli("sql", sql, "--db", small_db))
    assert run.stdout == printed(render(columns, rows, "table"))
    more = assert_succeeded(run_cli("sql", f"SELECT * FROM range({shown + 1})", "--db", small_db))
    assert more.stdout.startswith(run.stdout)
    assert f"1 more row not shown ({shown + 1:,} in all)" in more.stdout.splitlines()[-1]


# ===================================================================== errors while streaming


def test_an_error_after_the_first_rows_is_one_line(small_db, run_cli):
    sql = (
        "SELECT CASE WHEN range = 300000 THEN error('boom') ELSE range END AS x FROM range(301000)"
    )
    run = run_cli("sql", sql, "--format", "csv", "--db", small_db)
    assert run.traceback is None and run.exit_code == 1
    assert run.stdout.startswith("x\n")  # what was printed before the error stays printed
    assert run.stderr.strip().splitlines() == ["Error: SQL error: Invalid Input Error: boom"]


def test_with_write_an_error_after_the_first_rows_changes_nothing(small_db, run_cli):
    sql = (
        "CREATE TABLE scratch AS SELECT 1 AS x; "
        "SELECT CASE WHEN range = 300000 THEN error('boom') ELSE range END AS x "
        "FROM range(301000)"
    )
    run = run_cli("sql", sql, "--write", "--format", "csv", "--db", small_db)
    assert run.exit_code == 1 and "boom" in run.stderr
    assert not query(small_db, "SELECT * FROM duckdb_tables() WHERE table_name = 'scratch'")


# ============================================================ readers that stop, and Ctrl-C


def _read_one_line(args) -> tuple[str, int, str]:
    """`spotclust ARGS | head -1`: the first line, then the pipe is closed."""
    proc = subprocess.Popen(
        [*spotclust_command(), *map(str, args)],
        env=spotclust_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline().decode()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    return first, proc.wait(timeout=TIMEOUT), stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown", "table"])
def test_a_reader_that_stops_early_ends_it_quietly(fmt, small_db):
    first, code, stderr = _read_one_line(
        ["sql", f"SELECT * FROM range({BIG})", "--format", fmt, "--db", small_db]
    )
    assert first.strip()
    assert code == 0 and stderr == "", stderr


def test_with_write_a_reader_that_stops_early_keeps_the_changes(small_db):
    """Every statement ran before the first row came out: head going away is no failure."""
    sql = f"CREATE TABLE scratch AS SELECT 42 AS x; SELECT * FROM range({BIG})"
    first, code, stderr = _read_one_line(
        ["sql", sql, "--write", "--format", "csv", "--db", small_db]
    )
    assert first == "range\n"
    assert code == 0 and stderr == "", stderr
    assert query(small_db, "SELECT x FROM scratch") == [(42,)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_output_that_cannot_be_written_is_one_line_and_changes_nothing(small_db):
    sql = "CREATE TABLE scratch AS SELECT 42 AS x; SELECT * FROM range(100000)"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*spotclust_command(), "sql", sql, "--write", "--format", "csv", "--db", small_db],
            env=spotclust_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: cannot write the output: No space left on device; nothing was changed"
    ]
    assert not query(small_db, "SELECT * FROM duckdb_tables() WHERE table_name = 'scratch'")


def _interrupt(tmp_path: Path, args) -> tuple[int, str]:
    """Start `spotclust ARGS` with its output to a file, Ctrl-C it once it is printing."""
    proc = start_process(args, cwd=tmp_path, tag="sql")
    try:
        deadline = time.monotonic() + 120
        while proc.out.stat().st_size < 1 << 20:
            assert proc.popen.poll() is None, proc.stderr
            assert time.monotonic() < deadline, "no output"
            time.sleep(0.02)
        proc.popen.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
    finally:
        proc.stop()
    return code, proc.stderr


def test_ctrl_c_while_streaming_is_no_traceback(small_db, tmp_path):
    code, stderr = _interrupt(
        tmp_path, ["sql", "SELECT * FROM range(1000000000)", "--format", "csv", "--db", small_db]
    )
    assert code != 0
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_ctrl_c_while_streaming_a_write_changes_nothing(small_db, tmp_path):
    sql = "CREATE TABLE scratch AS SELECT 42 AS x; SELECT * FROM range(1000000000)"
    code, stderr = _interrupt(
        tmp_path, ["sql", sql, "--write", "--format", "csv", "--db", small_db]
    )
    assert code != 0
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert not query(small_db, "SELECT * FROM duckdb_tables() WHERE table_name = 'scratch'")
