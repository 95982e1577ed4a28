"""The Spark engine as a user meets it, in real processes: `spotclust run --engine spark`
prints no line of Java's or Spark's own; a Spark run killed mid-way (Ctrl-C, or SIGKILL of
the driver) leaves the warehouse as it was and nothing in the stage that a later run could
take for its own, and its JVM ends with it; no Java, or an unreachable master, is one line.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from support.processes import run_process, start_process

# Quicker for short runs: no web UI, and the JVM's quick compiler only.
SPARK = [
    "--engine", "spark", "--spark-master", "local[2]",
    "--spark-conf", "spark.ui.enabled=false",
    "--spark-conf", "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1",
]  # fmt: skip
CLUSTER = ["cluster", "--k", "3", "--n-init", "1", "--no-charts", "-q", *SPARK]
# What Java, log4j, py4j or pyspark print when left to themselves.
NOISE = re.compile(
    r"\b(WARN|INFO|DEBUG)\b|log4j|slf4j|java\.|Exception|py4j|netlib|Spark's default|"
    r"setLogLevel|Traceback|FutureWarning|Warning:",
    re.IGNORECASE,
)


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid (Spark's JVM, for a spotclust process)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _mid_run(args: list, cwd: Path, tag: str):
    """A Spark run started and left running until Spark works (its block manager's folder
    is there): the process, and its JVM's pid."""
    local = cwd / f"{tag}-spark-local"
    proc = start_process([*args, "--spark-conf", f"spark.local.dir={local}"], cwd=cwd, tag=tag)
    deadline = time.monotonic() + 300
    while not any(local.glob("blockmgr-*")):
        assert proc.popen.poll() is None, f"it ended first:\n{proc.stderr}"
        assert time.monotonic() < deadline, "Spark never started"
        time.sleep(0.05)
    [jvm] = _children(proc.pid)
    time.sleep(1.0)  # into the fit
    return proc, jvm


def _ends(pid: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


def test_sigkill_mid_run_then_a_whole_run_on_spark(
    grouped_db, grouped_template, tmp_path, snapshot, query
):
    stage = tmp_path / "stage"
    before = snapshot(grouped_db)
    proc, jvm = _mid_run([*CLUSTER, "--spark-stage", stage, "--db", grouped_db], tmp_path, "k")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert snapshot(grouped_db) == before
    [left] = stage.iterdir()  # the killed run's own subdirectory: no time to remove it
    assert (left / "features.json").is_file()
    assert _ends(jvm), "Spark's JVM outlived its driver"

    # The next command (here `run`: ingest, a Spark sweep, a Spark run) removes it, finds
    # its own files only, and prints nothing of Java's.
    done = run_process(
        ["run", grouped_template.with_name("grouped.csv"), "--k", "3", "--sweep", "2,3",
         "--stability", "0", "--n-init", "1", "--no-charts", *SPARK, "--spark-stage", stage,
         "--db", grouped_db],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "already ingested" in done.output
    assert not NOISE.search(done.output), done.output
    assert "fitted by Spark" in done.stdout
    assert list(stage.iterdir()) == []
    assert query(grouped_db, "SELECT engine, k, rows_used FROM runs") == [("spark", 3, 360)]
    assert query(grouped_db, "SELECT DISTINCT engine FROM sweeps") == [("spark",)]


def test_ctrl_c_mid_run_changes_nothing_and_leaves_no_stage(small_db, tmp_path, snapshot):
    before = snapshot(small_db)
    proc, jvm = _mid_run([*CLUSTER, "--db", small_db], tmp_path, "c")
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait() == 130
    lines = proc.stderr.strip().splitlines()
    assert lines == ["Error: interrupted (Ctrl-C) before anything was committed"], proc.stderr
    assert snapshot(small_db) == before
    assert not small_db.with_name("w.spark-stage").exists()  # the default stage, beside it
    assert _ends(jvm), "Spark's JVM outlived its driver"


def test_without_java_or_a_reachable_master_one_line_and_nothing_changed(
    small_db, tmp_path, snapshot, assert_one_line_error
):
    before = snapshot(small_db)
    no_java = run_process(
        [*CLUSTER, "--db", small_db], cwd=tmp_path, env={"PATH": "/nonexistent", "JAVA_HOME": ""}
    )
    assert_one_line_error(no_java, "no java on PATH", "openjdk-17-jre-headless")
    unreachable = run_process(
        ["cluster", "--engine", "spark", "--no-charts", "--db", small_db],
        cwd=tmp_path,
        env={"SPOTCLUST_SPARK_MASTER": "spark://127.0.0.1:1"},
    )
    assert_one_line_error(unreachable, "cannot reach the Spark master spark://127.0.0.1:1")
    assert snapshot(small_db) == before
    assert not small_db.with_name("w.spark-stage").exists()
